"""Sample normalization; statistics are fit on the training split only.

`apply` (numpy, for training data) and `apply_tf` (core TensorFlow ops, for exported graphs)
stand side by side; a test holds them equal.
"""
import numpy as np
import tensorflow as tf

from tfgad.errors import UserError

KINDS = ("zscore", "per_sample_minmax", "none")


def fit(kind: str, x_train: np.ndarray) -> dict:
    """Parameters of the normalization, JSON-serializable.

    zscore uses one mean and std per channel over the training split; per_sample_minmax maps
    each sample to [-1, 1] on its own and needs no statistics.
    """
    if kind not in KINDS:
        raise UserError(f"unknown data.normalization {kind!r}; known: {', '.join(KINDS)}")
    params = {"kind": kind}
    if kind == "zscore":
        axes = tuple(range(x_train.ndim - 1))
        params["mean"] = x_train.mean(axis=axes).tolist()
        params["std"] = np.maximum(x_train.std(axis=axes), 1e-6).tolist()
    return params


def apply(params: dict, x: np.ndarray) -> np.ndarray:
    """Normalized float32 samples [N, ...] of x [N, ...]."""
    x = np.asarray(x, np.float32)
    if params["kind"] == "zscore":
        return ((x - np.float32(params["mean"])) / np.float32(params["std"])).astype(np.float32)
    if params["kind"] == "per_sample_minmax":
        axes = tuple(range(1, x.ndim))
        low, high = x.min(axis=axes, keepdims=True), x.max(axis=axes, keepdims=True)
        return (2 * (x - low) / np.maximum(high - low, 1e-6) - 1).astype(np.float32)
    return x


def apply_tf(params: dict, x: tf.Tensor) -> tf.Tensor:
    """apply for a float32 tensor [B, ...] of known rank."""
    if params["kind"] == "zscore":
        return (x - tf.constant(params["mean"], tf.float32)) / tf.constant(params["std"], tf.float32)
    if params["kind"] == "per_sample_minmax":
        axes = list(range(1, x.shape.rank))
        low = tf.reduce_min(x, axis=axes, keepdims=True)
        high = tf.reduce_max(x, axis=axes, keepdims=True)
        return 2.0 * (x - low) / tf.maximum(high - low, 1e-6) - 1.0
    return x
