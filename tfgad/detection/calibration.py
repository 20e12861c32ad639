"""Combination of score components into one score, and its threshold, fit on validation only."""
import json

import numpy as np

from tfgad import io_utils
from tfgad.detection import scores as score_lib
from tfgad.detection import thresholds
from tfgad.errors import UserError


def combine_weighted(components, weights):
    """sum_k w_k * c_k over the components with a non-zero weight [N]."""
    used = {k: w for k, w in weights.items() if w}
    if not used:
        raise UserError("every detection.weights entry is 0; give at least one component a weight")
    unknown = sorted(set(used) - set(components))
    if unknown:
        raise UserError(f"detection.weights names {unknown}, which the scorer does not return; "
                        f"known: {', '.join(sorted(score_lib.COMPONENTS))}")
    return sum(w * np.asarray(components[k], np.float64) for k, w in used.items())


def fit(val_components, val_labels, config):
    """Calibration from the validation split: the combination and its threshold.

    Returns:
      a JSON-serializable dict; `apply` turns components into scores and decisions with it.
    """
    weights = {k: float(v) for k, v in config.detection.weights.items()}
    combined = combine_weighted(val_components, weights)
    return {"combiner": "weighted", "weights": weights,
            "threshold_method": config.detection.threshold,
            "threshold": thresholds.fit(combined, val_labels, config)}


def apply(calibration, components):
    """Combined scores [N] and decisions [N] (1 = anomaly)."""
    combined = combine_weighted(components, calibration["weights"])
    return combined, (combined >= calibration["threshold"]).astype(np.int8)


def save(calibration, path):
    io_utils.write_text(path, json.dumps(calibration, indent=2))


def load(path):
    with open(path) as f:
        return json.load(f)
