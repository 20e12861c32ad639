"""Per-sample state of robust training: who is left out, since when, and each sample's score.

It lives outside the Keras model's weights on purpose: the trained model (weights file,
SavedModel) must not depend on the training split's size. The callback saves it to the
workdir every epoch, so that a resumed run continues with the same rejected set.
"""
import os

import numpy as np
import tensorflow as tf

from tfgad import io_utils
from tfgad.training.robust import cuts


class TrainingSetState:
    """tf.Variables over the N training samples, read and written by train_step and callbacks.

    keep [N]: 1.0, or 0.0 for a sample that `reject` left out.
    score [N]: its latest score (trim: its per-sample training loss when last seen; reject:
      its score at the latest rejection).
    since [N]: the epoch from which it has been left out without a break, or -1 if it is in.
    epoch: the current epoch (trim starts after warmup_epochs).
    """

    def __init__(self, size: int, method: str, fraction: float = 0.0, z_cut: float = 3.5,
                 warmup_epochs: int = 0):
        if method not in cuts.METHODS[1:]:
            raise ValueError(f"TrainingSetState is for {cuts.METHODS[1:]}, not {method!r}")
        self.size, self.method = int(size), method
        self.fraction, self.z_cut, self.warmup_epochs = float(fraction), float(z_cut), int(warmup_epochs)
        self.keep = tf.Variable(tf.ones([size]), trainable=False, name="robust_keep")
        self.score = tf.Variable(tf.zeros([size]), trainable=False, name="robust_score")
        self.since = tf.Variable(-tf.ones([size], tf.int32), trainable=False, name="robust_since")
        self.epoch = tf.Variable(0, trainable=False, name="robust_epoch")

    def batch_weights(self, index: tf.Tensor, ranking: tf.Tensor) -> tf.Tensor:
        """Weights [B] of a batch's real samples (index [B] into the training split).

        ranking [B, ...]: the family's per-sample loss on its real samples (means over each
        sample's entries), what trim cuts by; reject ignores it and reads `keep`.
        """
        index = tf.cast(tf.reshape(index, [-1]), tf.int32)
        weights = tf.gather(self.keep, index)
        if self.method != "trim":
            return weights
        ranking = tf.stop_gradient(tf.reshape(ranking, [tf.shape(index)[0], -1]))
        ranking = tf.reduce_mean(ranking, axis=1)
        cut = cuts.outlier_mask(ranking, self.fraction, self.z_cut)
        cut = tf.logical_and(cut, self.epoch >= self.warmup_epochs)
        previous = tf.gather(self.since, index)
        since = tf.where(cut, tf.where(previous >= 0, previous, self.epoch), -1)
        self.since.scatter_nd_update(index[:, None], since)
        self.score.scatter_nd_update(index[:, None], ranking)
        return weights * (1.0 - tf.cast(cut, tf.float32))

    def reject(self, scores: np.ndarray, next_epoch: int) -> np.ndarray:
        """Sets the rejected set from scores [N] of the whole split; it applies from next_epoch.

        A rejected sample stays rejected: the cut takes as many as the rule says now (or as
        many as before, if more), the earlier rejections first, then by score. Re-admitting
        them, tried first, undid the rejection: the anomalies still trained on teach the model
        their kind, the rejected ones' scores fall, and they came back (synthetic ECG, 20
        epochs: recall 0.54 after the first rejection, 0.24 at the end).

        Returns the bool mask of rejected samples.
        """
        scores = np.asarray(scores, np.float32)
        previous = self.since.numpy()
        count = int(cuts.outlier_mask(scores, self.fraction, self.z_cut).numpy().sum())
        count = max(count, int((previous >= 0).sum()))
        # Earlier rejections rank above every score; among themselves and the rest, by score.
        rank_key = np.where(previous >= 0, np.inf, scores)
        order = np.lexsort((-scores, -rank_key))
        rejected = np.zeros(len(scores), bool)
        rejected[order[:count]] = True
        since = np.where(rejected, np.where(previous >= 0, previous, next_epoch), -1)
        self.keep.assign((~rejected).astype(np.float32))
        self.since.assign(since.astype(np.int32))
        self.score.assign(np.asarray(scores, np.float32))
        return rejected

    def left_out(self) -> np.ndarray:
        """bool [N]: the samples left out now (reject) or at their latest visit (trim)."""
        return self.since.numpy() >= 0

    # Saved per epoch start: state-0005.npz is what epoch 5 starts with.
    def save(self, directory: str, epoch: int) -> None:
        arrays = {"keep": self.keep.numpy(), "score": self.score.numpy(),
                  "since": self.since.numpy(), "epoch": np.int64(epoch)}
        io_utils.write_npz(os.path.join(directory, f"state-{epoch:04d}.npz"), arrays)

    def restore(self, directory: str, epoch: int) -> bool:
        """Loads the state that epoch starts with, if saved; False if there is none."""
        path = os.path.join(directory, f"state-{epoch:04d}.npz")
        if not os.path.exists(path):
            return False
        with np.load(path) as saved:
            if len(saved["keep"]) != self.size:
                raise ValueError(f"{path} is for {len(saved['keep'])} training samples, "
                                 f"not {self.size}")
            self.keep.assign(saved["keep"])
            self.score.assign(saved["score"])
            self.since.assign(saved["since"])
        return True
