"""Robust training on contaminated "normal" data: find the anomalies hidden in the training
split and leave them out (train.robust.*).

- trim: inside train_step, the real samples of a batch with the highest per-sample loss get
  weight 0 in the real-data loss (a trimmed loss), after train.robust.warmup_epochs.
- reject: every train.robust.every epochs a callback scores the whole training split with the
  model's own scorer and gives the highest-scoring samples weight 0 for the rest of training
  (Beggel et al. 2019's rejection); each rejection may add samples, none come back.

How many are cut: train.robust.fraction of the batch or split if given, else the samples
whose robust z-score (median / MAD) exceeds train.robust.z_cut; see cuts.outlier_mask.
"""
from tfgad.training.robust.cuts import MAX_FRACTION, METHODS, outlier_mask
from tfgad.training.robust.state import TrainingSetState

__all__ = ["MAX_FRACTION", "METHODS", "outlier_mask", "TrainingSetState"]
