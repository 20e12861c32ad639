"""Keras callbacks for training: the standard set plus a generated-sample plot."""
import os

import keras

from tfgad.detection import calibration
from tfgad.detection import scorer as scorer_lib
from tfgad.errors import UserError
from tfgad.evaluation import metrics, plots


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


class CalibrationMonitor(keras.callbacks.Callback):
    """Every `every` epochs, scores validation samples, refits the calibration on them and logs
    per-component and combined AUROC (val_auroc_<name>), so that the drift of the best
    weighting during training shows in the CSV log and TensorBoard.

    It runs at the first epoch too, because CSVLogger fixes its columns then.
    """

    def __init__(self, config, samples, every):
        super().__init__()
        self.config, self.samples, self.every = config, samples, every
        self.scorer = None

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or (epoch % self.every and epoch):
            return
        if self.scorer is None:
            self.scorer = scorer_lib.from_config(self.config, self.model)
        out = scorer_lib.score_samples(self.scorer, self.samples.x,
                                       self.config.detection.batch_size, self.config.seed)
        y = self.samples.y
        for name in calibration.component_names(self.config):
            logs[f"val_auroc_{name}"] = metrics.ranking(y, out[name])["auroc"]
        try:
            fitted = calibration.fit(out, y, self.config)
            logs["val_auroc_combined"] = metrics.ranking(y, calibration.apply(fitted, out)[0])["auroc"]
        except UserError:
            pass  # e.g. a one-class sample: the components' AUROCs are still logged


def standard(config, workdir, real_examples, monitor_samples=None):
    """Progress is printed by fit's verbose; these write logs, checkpoints and the backup.

    The calibration monitor comes first: later callbacks log what it adds to the epoch's logs.
    """
    first = []
    if config.detection.monitor_every and monitor_samples is not None:
        first.append(CalibrationMonitor(config, monitor_samples, config.detection.monitor_every))
    return first + [
        keras.callbacks.CSVLogger(os.path.join(workdir, "training_log.csv"), append=True),
        keras.callbacks.TensorBoard(os.path.join(workdir, "tensorboard"), write_graph=False),
        keras.callbacks.ModelCheckpoint(os.path.join(workdir, "checkpoints", "epoch{epoch:04d}.weights.h5"),
                                        save_weights_only=True),
        # Restores weights, optimizer states and the epoch of a killed run.
        keras.callbacks.BackupAndRestore(os.path.join(workdir, "backup")),
        GeneratedSamplesPlot(real_examples, os.path.join(workdir, "plots"),
                             config.train.sample_plot_every, config.seed),
    ]
