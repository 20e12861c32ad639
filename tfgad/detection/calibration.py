"""Calibration: normalize the score components, combine them and pick a threshold, on validation only.

The result is one JSON-serializable dict. `apply` evaluates it in numpy and `apply_tf` in core
TensorFlow ops (for exported graphs); both go through the same normalize and combiners
functions, and a test holds them equal.
"""
import json
import math

import ml_collections
import numpy as np
import tensorflow as tf

from tfgad import io_utils
from tfgad.detection import combiners, normalize, thresholds
from tfgad.errors import UserError, choose


def component_names(config: ml_collections.ConfigDict) -> list:
    """The components the combiner uses, in the order of the saved vectors.

    Whether the model returns them is checked with the config (config_checks), and again
    when a components dict is read (matrix).
    """
    if config.detection.combiner == "single":
        names = [config.detection.single_component]
    else:
        names = [n.strip() for n in config.detection.components.split(",") if n.strip()]
    if not names:
        raise UserError("detection.components names nothing; give e.g. residual,feature")
    return names


def matrix(components: dict, names: list) -> np.ndarray:
    """The components dict as an [N, k] float64 matrix in the order of names."""
    missing = [n for n in names if n not in components]
    if missing:
        raise UserError(f"the scorer returns no {missing}; it returns {sorted(components)}")
    return np.stack([np.asarray(components[n], np.float64) for n in names], axis=1)


def _combiner(config, z, labels, names):
    d = config.detection
    kind = choose({k: k for k in combiners.KINDS}, d.combiner, "detection.combiner")
    if kind == "weighted":
        weights = [float(d.weights.get(n, 0.0)) for n in names]
        if not any(weights):
            raise UserError(f"every detection.weights entry of {names} is 0; weight one of them")
        return {"kind": kind, "weights": weights}
    if kind == "single":
        return {"kind": kind, "weights": [1.0]}
    if kind == "grid":
        return {"kind": kind, **combiners.fit_grid(z, labels, d.grid_step, d.grid_metric,
                                                   d.fbeta_beta)}
    return {"kind": kind, **combiners.fit_svm(
        z, labels, d.svm_c, d.svm_gamma or "scale", d.svm_cross_validate, d.svm_max_samples)}


def fit(val_components: dict, val_labels: np.ndarray, config: ml_collections.ConfigDict,
        train_components=None) -> dict:
    """Fits normalization, combiner and threshold on the validation split.

    Args:
      val_components: {name: [N]} from a scorer on the validation split.
      val_labels: [N] 0/1.
      config: the run's config (config.detection).
      train_components: {name: [M]} on normal training samples, for f-AnoGAN centering.

    Returns:
      the calibration dict.
    """
    names = component_names(config)
    raw = matrix(val_components, names)
    if not np.all(np.isfinite(raw)):
        bad = [n for i, n in enumerate(names) if not np.all(np.isfinite(raw[:, i]))]
        raise UserError(f"score components {bad} hold NaN or inf on the validation split; the "
                        "model is not usable (did training diverge?); retrain it")
    center = None
    if config.detection.center_discrimination:
        if train_components is None:
            raise UserError("detection.center_discrimination needs scores of training samples")
        center = [float(np.mean(train_components[n])) if n == "discrimination" else 0.0
                  for n in names]
    shift, scale = normalize.fit(raw, val_labels, config.detection.normalization, center)
    z = normalize.apply(raw, shift, scale)
    calibration = {
        "components": names,
        "normalization": {"kind": config.detection.normalization, "shift": shift, "scale": scale},
        "combiner": _combiner(config, z, val_labels, names),
        "fit_on": {"split": "validation", "samples": int(len(val_labels)),
                   "anomalies": int(np.sum(val_labels))},
    }
    scores = combiners.combined_scores(calibration["combiner"], z)
    calibration["threshold_method"] = config.detection.threshold
    calibration["threshold"] = thresholds.fit(scores, val_labels, config)
    return calibration


def apply(calibration: dict, components: dict) -> tuple:
    """Combined scores [N] float64 and decisions [N] int8 (1 = anomaly) for a components dict."""
    raw = matrix(components, calibration["components"])
    norm = calibration["normalization"]
    scores = combiners.combined_scores(calibration["combiner"],
                                       normalize.apply(raw, norm["shift"], norm["scale"]))
    return scores, (scores >= calibration["threshold"]).astype(np.int8)


def apply_tf(calibration: dict, components: dict) -> tuple:
    """apply in core TensorFlow ops: (score [B] float32, is_anomaly [B] bool).

    Computes in float64 so that it matches the numpy evaluation (and scikit-learn's SVM).
    """
    raw = tf.stack([tf.cast(components[n], tf.float64) for n in calibration["components"]], 1)
    norm = calibration["normalization"]
    score = combiners.combined_scores_tf(calibration["combiner"],
                                         normalize.apply_tf(raw, norm["shift"], norm["scale"]))
    return tf.cast(score, tf.float32), score >= calibration["threshold"]


def check_finite(calibration: dict) -> None:
    """Raises UserError if any number of the calibration is NaN or inf."""
    def numbers(value):
        if isinstance(value, dict):
            for v in value.values():
                yield from numbers(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                yield from numbers(v)
        elif isinstance(value, float):
            yield value
    if not all(math.isfinite(v) for v in numbers(calibration)):
        raise UserError("the calibration holds NaN or inf (a diverged model?); retrain and run "
                        "--mode=detect again")


def save(calibration: dict, path: str) -> None:
    io_utils.write_json(path, calibration)


def load(path: str) -> dict:
    with open(path) as f:
        return json.load(f)
