"""Per-component affine normalization c' = (c - shift) / scale, fit on validation data."""
import numpy as np
import tensorflow as tf

from tfgad.errors import UserError

KINDS = ("none", "minmax", "zscore")


def fit(matrix: np.ndarray, labels: np.ndarray, kind: str, center=None) -> tuple:
    """Shift and scale per column, from the normal samples of the validation split.

    Args:
      matrix: [N, k] component values.
      labels: [N] 0 normal / 1 anomaly; only normal rows are used.
      kind: "none", "minmax" (normal range to [0, 1]) or "zscore" (normal mean 0, std 1).
      center: optional [k] values subtracted first (f-AnoGAN's centering of the
        discriminator output on its mean over normal training data); min-max and z-score
        re-center anyway, so it changes the result only with kind "none".

    Returns:
      (shift [k], scale [k]) as lists.
    """
    if kind not in KINDS:
        raise UserError(f"unknown detection.normalization {kind!r}; known: {', '.join(KINDS)}")
    matrix = np.asarray(matrix, np.float64)
    normal = matrix[np.asarray(labels) == 0]
    if kind != "none" and not len(normal):
        raise UserError("the validation split holds no normal sample to normalize the score "
                        "components with; use detection.normalization=none")
    k = matrix.shape[1]
    shift = np.zeros(k) if center is None else np.asarray(center, np.float64)
    scale = np.ones(k)
    if kind == "minmax":
        shift = normal.min(axis=0)
        scale = normal.max(axis=0) - shift
    elif kind == "zscore":
        shift, scale = normal.mean(axis=0), normal.std(axis=0)
    scale = np.where(scale > 1e-12, scale, 1.0)  # a constant component stays as it is
    return shift.tolist(), scale.tolist()


def apply(matrix: np.ndarray, shift, scale) -> np.ndarray:
    """(matrix [N, k] - shift [k]) / scale [k] in float64."""
    return (np.asarray(matrix, np.float64) - np.asarray(shift)) / np.asarray(scale)


def apply_tf(matrix: tf.Tensor, shift, scale) -> tf.Tensor:
    """apply for a float64 tensor [B, k], in core TensorFlow ops (exported graphs)."""
    return (matrix - tf.constant(shift, tf.float64)) / tf.constant(scale, tf.float64)
