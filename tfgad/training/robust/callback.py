"""The Keras callback that drives robust training inside model.fit."""
import glob
import os

import keras
import ml_collections
import numpy as np
import tensorflow as tf
from absl import logging

from tfgad.detection import scorer as scorer_lib
from tfgad.training.robust.state import TrainingSetState


class RobustTraining(keras.callbacks.Callback):
    """Keeps a TrainingSetState in step with fit: the epoch, the rejections, the saved state.

    Every epoch end it saves what the next epoch starts with (directory/state-NNNN.npz), and a
    resumed fit loads the file of the epoch it resumes at, so the rejected set survives a
    kill: BackupAndRestore brings back the weights and the epoch, this the rest.
    It adds `left_out` (the share of the training split left out) to the epoch's logs.
    """

    def __init__(self, state: TrainingSetState, config: ml_collections.ConfigDict,
                 train_x: np.ndarray, directory: str, total_epochs: int):
        super().__init__()
        self.state, self.config, self.train_x = state, config, train_x
        self.directory, self.total_epochs = directory, total_epochs
        self.robust = config.train.robust
        self._scorers: dict = {}
        self._resumed = False

    def on_epoch_begin(self, epoch, logs=None):
        if not self._resumed:
            self._resumed = True
            if epoch > 0 and not self.state.restore(self.directory, epoch):
                logging.warning("robust training resumes at epoch %d without its saved state in "
                                "%s; every training sample starts in again", epoch, self.directory)
        self.state.epoch.assign(epoch)

    def rejection_due(self, next_epoch: int) -> bool:
        """reject: after warmup_epochs, then every `every` epochs, while epochs remain."""
        warmup, every = self.robust.warmup_epochs, self.robust.every
        return (self.state.method == "reject" and next_epoch < self.total_epochs
                and next_epoch >= warmup and (next_epoch - warmup) % every == 0)

    def training_scores(self) -> np.ndarray:
        """Scores [N] of the whole training split by the model's scorer for rejection."""
        kind = self.model.rejection_scorer()
        if kind == "discriminator":
            return self._discriminator_scores()
        if kind not in self._scorers:
            cfg = scorer_lib.while_training(self.config)
            cfg.detection.scorer = kind
            cfg.search.n_max = self.robust.search_steps
            cfg.search.init_from_encoder = False
            self._scorers[kind] = scorer_lib.from_config(cfg, self.model)
        out = scorer_lib.score_samples(self._scorers[kind], self.train_x,
                                       self.config.detection.batch_size, self.config.seed)
        return out[self.robust.score]

    def _discriminator_scores(self) -> np.ndarray:
        if "discriminator" not in self._scorers:
            model = self.model
            self._scorers["discriminator"] = tf.function(
                lambda x: model.discrimination_score(model.discriminate(x, None)[0]),
                reduce_retracing=True)
        size = self.config.detection.batch_size
        return np.concatenate([self._scorers["discriminator"](self.train_x[i:i + size]).numpy()
                               for i in range(0, len(self.train_x), size)])

    def on_epoch_end(self, epoch, logs=None):
        next_epoch = epoch + 1
        if self.rejection_due(next_epoch):
            rejected = self.state.reject(self.training_scores(), next_epoch)
            logging.info("robust reject after epoch %d: %d of %d training samples left out",
                         next_epoch, rejected.sum(), len(rejected))
        if logs is not None:
            logs["left_out"] = float(self.state.left_out().mean())
        os.makedirs(self.directory, exist_ok=True)
        self.state.save(self.directory, next_epoch)
        # The previous epoch's file stays: a kill before the backup's save resumes from it.
        for path in glob.glob(os.path.join(self.directory, "state-*.npz")):
            if int(os.path.basename(path)[6:10]) < epoch:
                os.remove(path)
