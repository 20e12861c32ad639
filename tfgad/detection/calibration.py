"""Calibration: normalize the score components, combine them and pick a threshold, on validation only.

The result is one JSON-serializable dict that `apply` (numpy) and
`calibration_tf.scorer` (TensorFlow, for export) evaluate the same way.
"""
import json

import numpy as np

from tfgad import io_utils
from tfgad.detection import combiners, normalize, thresholds
from tfgad.detection.scores import ALL_COMPONENTS
from tfgad.errors import UserError, choose


def component_names(config):
    """The components the combiner uses, in the order of the saved vectors."""
    if config.detection.combiner == "single":
        names = [config.detection.single_component]
    else:
        names = [n.strip() for n in config.detection.components.split(",") if n.strip()]
    unknown = sorted(set(names) - set(ALL_COMPONENTS))
    if unknown or not names:
        raise UserError(f"detection.components names {unknown or 'nothing'}; known: "
                        f"{', '.join(ALL_COMPONENTS)}")
    return names


def matrix(components, names):
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
        return {"kind": kind, **combiners.fit_grid(z, labels, d.grid_step, d.grid_metric, d.beta)}
    return {"kind": kind, **combiners.fit_svm(
        z, labels, d.svm_c, d.svm_gamma or "scale", d.svm_cross_validate, d.svm_max_samples)}


def fit(val_components, val_labels, config, train_components=None):
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
    scores = combine(calibration, z)
    calibration["threshold_method"] = config.detection.threshold
    calibration["threshold"] = thresholds.fit(scores, val_labels, config)
    return calibration


def combine(calibration, normalized):
    """Combined score [N] of normalized components [N, k]."""
    combiner = calibration["combiner"]
    if combiner["kind"] == "svm":
        return combiners.svm_scores(normalized, combiner)
    return combiners.weighted_scores(normalized, combiner["weights"])


def apply(calibration, components):
    """Combined scores [N] and decisions [N] (1 = anomaly) for a components dict."""
    raw = matrix(components, calibration["components"])
    norm = calibration["normalization"]
    scores = combine(calibration, normalize.apply(raw, norm["shift"], norm["scale"]))
    return scores, (scores >= calibration["threshold"]).astype(np.int8)


def save(calibration, path):
    io_utils.write_text(path, json.dumps(calibration, indent=2))


def load(path):
    with open(path) as f:
        return json.load(f)
