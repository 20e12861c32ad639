"""Keras callbacks for training: the standard set plus a generated-sample plot."""
import csv
import io
import os
import time

import keras
import ml_collections
import numpy as np

from tfgad import io_utils
from tfgad.data.types import Samples
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
            self.scorer = scorer_lib.from_config(scorer_lib.while_training(self.config),
                                                 self.model)
        out = scorer_lib.score_samples(self.scorer, self.samples.x,
                                       self.config.detection.batch_size, self.config.seed)
        y = self.samples.y
        for name in calibration.layout(self.config).columns:
            logs[f"val_auroc_{name}"] = metrics.ranking(y, out[name])["auroc"]
        try:
            groups = self.samples.groups
            fitted = calibration.fit(out, y, self.config, groups=groups)
            combined = calibration.apply(fitted, out, groups)[0]
            logs["val_auroc_combined"] = metrics.ranking(y, combined)["auroc"]
        except UserError:
            pass  # e.g. a one-class sample: the components' AUROCs are still logged


class StopOnNonFinite(keras.callbacks.Callback):
    """Stops training at the first batch whose logged losses are NaN or inf, naming them.

    Keras' TerminateOnNaN watches only `loss`, which GAN training does not log, and ends
    quietly; a diverged run must fail loudly, before its weights are saved.
    """

    def on_train_batch_end(self, batch, logs=None):
        bad = {k: float(v) for k, v in (logs or {}).items() if not np.isfinite(float(v))}
        if bad:
            self.model.stop_training = True
            losses = ", ".join(f"{k} = {v}" for k, v in sorted(bad.items()))
            raise UserError(f"training diverged at epoch {self.epoch + 1}, batch {batch + 1}: "
                            f"{losses}; lower train.g_learning_rate / train.d_learning_rate or "
                            "check the data for outliers")

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch


class EpochTimer(keras.callbacks.Callback):
    """Logs epoch_seconds, the wall time of the epoch's training steps (throughput figures).

    It comes before the other callbacks, so their epoch-end work is not counted.
    """

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["epoch_seconds"] = time.perf_counter() - self.started


class EpochCSVLogger(keras.callbacks.Callback):
    """training_log.csv with one row per epoch, even across resumes.

    Keras' CSVLogger appends: a kill between its write and the backup's save makes the resumed
    run write that epoch again. Here each epoch's row replaces any row of that epoch or later,
    and the file is rewritten atomically.
    """

    def __init__(self, path):
        super().__init__()
        self.path = path

    def _rows(self):
        if not os.path.exists(self.path):
            return []
        with open(self.path, newline="") as f:
            return list(csv.DictReader(f))

    def on_epoch_end(self, epoch, logs=None):
        rows = [r for r in self._rows() if int(r["epoch"]) < epoch]
        rows.append({"epoch": epoch, **{k: f"{float(v):.8g}" for k, v in (logs or {}).items()}})
        columns = list(dict.fromkeys(k for r in rows for k in r))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
        io_utils.write_text(self.path, buffer.getvalue())


def standard(config: ml_collections.ConfigDict, workdir: str, real_examples: np.ndarray,
             monitor_samples: Samples | None = None) -> list:
    """Progress is printed by fit's verbose; these write logs, checkpoints and the backup.

    The calibration monitor comes first: later callbacks log what it adds to the epoch's logs.
    """
    first = [EpochTimer()]
    if config.detection.monitor_every and monitor_samples is not None:
        first.append(CalibrationMonitor(config, monitor_samples, config.detection.monitor_every))
    return first + [
        StopOnNonFinite(),
        EpochCSVLogger(os.path.join(workdir, "training_log.csv")),
        keras.callbacks.TensorBoard(os.path.join(workdir, "tensorboard"), write_graph=False),
        keras.callbacks.ModelCheckpoint(os.path.join(workdir, "checkpoints", "epoch{epoch:04d}.weights.h5"),
                                        save_weights_only=True),
        # Restores weights, optimizer states and the epoch of a killed run.
        keras.callbacks.BackupAndRestore(os.path.join(workdir, "backup")),
        GeneratedSamplesPlot(real_examples, os.path.join(workdir, "plots"),
                             config.train.sample_plot_every, config.seed),
    ]
