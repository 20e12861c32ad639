"""Keras callbacks for training: the standard set plus a generated-sample plot."""
import os

import keras

from tfgad.evaluation import plots


class GeneratedSamplesPlot(keras.callbacks.Callback):
    """Saves real vs generated samples every `every` epochs (from a fixed z, to show progress)."""

    def __init__(self, real, directory, every, seed=0):
        super().__init__()
        self.real, self.directory, self.every, self.seed = real, directory, every, seed

    def on_train_begin(self, logs=None):
        self.z = self.model.prior.sample(len(self.real), seed=[self.seed, 0])

    def on_epoch_end(self, epoch, logs=None):
        if self.every and (epoch + 1) % self.every == 0:
            generated = self.model.generator(self.z, training=False).numpy()
            plots.real_vs_generated(self.real, generated,
                                    os.path.join(self.directory, f"samples_epoch{epoch + 1:04d}.png"),
                                    title=f"epoch {epoch + 1}: real (top) vs generated (bottom)")


def standard(config, workdir, real_examples):
    """Progress is printed by fit's verbose; these write logs, checkpoints and the backup."""
    return [
        keras.callbacks.CSVLogger(os.path.join(workdir, "training_log.csv"), append=True),
        keras.callbacks.TensorBoard(os.path.join(workdir, "tensorboard"), write_graph=False),
        keras.callbacks.ModelCheckpoint(os.path.join(workdir, "checkpoints", "epoch{epoch:04d}.weights.h5"),
                                        save_weights_only=True),
        # Restores weights, optimizer states and the epoch of a killed run.
        keras.callbacks.BackupAndRestore(os.path.join(workdir, "backup")),
        GeneratedSamplesPlot(real_examples, os.path.join(workdir, "plots"),
                             config.train.sample_plot_every, config.seed),
    ]
