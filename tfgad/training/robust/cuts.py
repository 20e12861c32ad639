"""Which samples a robust cut leaves out: the top fraction, or the robust z-score outliers."""
import tensorflow as tf

# The methods, and at most this share of a batch or split cut: beyond it "anomalies" are no
# longer the minority that robust training assumes (declared with train.robust's fields).
from tfgad.sections.train import MAX_ROBUST_FRACTION as MAX_FRACTION
from tfgad.sections.train import ROBUST_METHODS as METHODS

__all__ = ["MAX_FRACTION", "METHODS", "outlier_mask", "robust_z"]
# The MAD of normally distributed values times this is their standard deviation.
MAD_TO_SIGMA = 1.4826


def _median(sorted_values: tf.Tensor) -> tf.Tensor:
    n = tf.shape(sorted_values)[0]
    return 0.5 * (sorted_values[(n - 1) // 2] + sorted_values[n // 2])


def robust_z(scores: tf.Tensor) -> tf.Tensor:
    """(scores - median) / (1.4826 MAD): a z-score that the outliers themselves barely move."""
    scores = tf.convert_to_tensor(scores, tf.float32)
    median = _median(tf.sort(scores))
    mad = _median(tf.sort(tf.abs(scores - median)))
    return (scores - median) / (MAD_TO_SIGMA * mad + 1e-12)


def outlier_mask(scores, fraction: float, z_cut: float) -> tf.Tensor:
    """bool [N]: the samples cut as suspected anomalies, by score (high = anomalous).

    fraction > 0: the round(fraction * N) highest scores (the expected contamination is known).
    fraction 0: estimated: the samples with robust_z > z_cut (Iglewicz and Hoaglin's outlier
    rule; 3.5 is their cut), at most MAX_FRACTION of them. The estimate needs no assumption on
    the anomalies, only that normal scores have a bulk whose median and MAD describe it.
    Ties at the cut are broken by position, so exactly `count` samples are cut.
    """
    scores = tf.reshape(tf.convert_to_tensor(scores, tf.float32), [-1])
    n = tf.shape(scores)[0]
    if fraction > 0:
        count = tf.cast(tf.round(fraction * tf.cast(n, tf.float32)), tf.int32)
    else:
        count = tf.reduce_sum(tf.cast(robust_z(scores) > z_cut, tf.int32))
    count = tf.minimum(count, tf.cast(tf.floor(MAX_FRACTION * tf.cast(n, tf.float32)), tf.int32))
    order = tf.argsort(scores, direction="DESCENDING", stable=True)
    ranks = tf.scatter_nd(order[:, None], tf.range(n), [n])  # 0 = highest score
    return ranks < count
