"""Probabilities from scores: the split-conformal p-value of a score against the combined
scores of the normal validation samples (which never trained), kept in the calibration so that
an export answers the same in numpy.

p(s) = (1 + #{reference >= s}) / (n + 1): the share of normal validation samples scoring at
least as high (with the finite-sample correction); predict_proba gives 1 - p as the anomaly
probability. On normal data exchangeable with validation, P(p <= alpha) <= alpha.
"""
import numpy as np

from tfgad.errors import UserError

KEY = "reference_scores"  # the calibration's sorted normal validation scores
MAX_REFERENCE = 20000  # kept scores at most (evenly spaced quantiles beyond)


def reference(scores: np.ndarray, labels: np.ndarray) -> list:
    """The sorted finite scores of the normal samples, at most MAX_REFERENCE of them."""
    normal = np.sort(np.asarray(scores, np.float64)[(np.asarray(labels) == 0)
                                                    & np.isfinite(scores)])
    if len(normal) > MAX_REFERENCE:
        normal = np.quantile(normal, np.linspace(0, 1, MAX_REFERENCE))
    return normal.tolist()


def threshold(reference_scores: list, alpha: float) -> float:
    """The least threshold t with score >= t exactly when p(score) <= alpha: just above the
    k-th highest reference score, k = floor(alpha (n + 1))."""
    ref = np.asarray(reference_scores, np.float64)
    k = int(np.floor(alpha * (len(ref) + 1) + 1e-9))
    if k < 1:
        raise UserError(f"detection.alpha={alpha:g} needs at least {int(np.ceil(1 / alpha)) - 1} "
                        f"normal validation samples (the least p-value is 1/(n + 1)); there "
                        f"are {len(ref)}: raise alpha or data.val_fraction")
    return float(np.nextafter(ref[len(ref) - k], np.inf))


def p_values_tf(scores, calibration: dict):
    """p_values in TensorFlow ops, for exported graphs: float32 [B]."""
    import tensorflow as tf
    ref = tf.constant(np.asarray(calibration[KEY], np.float64))
    scores = tf.cast(scores, tf.float64)
    at_least = tf.cast(tf.size(ref), tf.float64) - tf.cast(
        tf.searchsorted(ref, scores, side="left"), tf.float64)
    return tf.cast((1.0 + at_least) / (tf.cast(tf.size(ref), tf.float64) + 1.0), tf.float32)


def p_values(scores: np.ndarray, calibration: dict) -> np.ndarray:
    """[N] p-values of scores (NaN where a score is NaN: a sample not scored)."""
    ref = np.asarray(calibration.get(KEY, []), np.float64)
    if not len(ref):
        raise UserError("this calibration keeps no validation scores to turn scores into "
                        "probabilities (fit before they were kept); fit (or --mode=detect) again")
    scores = np.asarray(scores, np.float64)
    at_least = len(ref) - np.searchsorted(ref, scores, side="left")
    p = (1.0 + at_least) / (len(ref) + 1.0)
    return np.where(np.isfinite(scores), p, np.nan)


def proba(scores: np.ndarray, calibration: dict) -> np.ndarray:
    """[N, 2]: the probability of normal (the p-value) and of anomaly (1 - p), PyOD's layout."""
    p = p_values(scores, calibration)
    return np.stack([p, 1.0 - p], axis=1)
