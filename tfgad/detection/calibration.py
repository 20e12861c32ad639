"""Calibration: normalize the score components, combine them and pick a threshold, on validation only.

The result is one JSON-serializable dict. `apply` evaluates it in numpy and `apply_tf` in core
TensorFlow ops (for exported graphs); both go through the same normalize and combiners
functions, and a test holds them equal.

For an ensemble (model.ensemble = k > 1) the columns read are every member's components
(<component>_m<i>) and the members' spread; each column is normalized on validation, the
members' columns of a component are averaged, and the combiner sees the averages and the
spread ("combined_components").
"""
import json

import ml_collections
import numpy as np
import tensorflow as tf

from tfgad import io_utils
from tfgad.detection import combiners, composition, normalize, record_context, record_scoring
from tfgad.detection import thresholds
from tfgad.models import ensemble
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


def members(config: ml_collections.ConfigDict) -> int:
    """The ensemble size of config.model (1: one model)."""
    return int(config.model.get("ensemble", 1)) if "model" in config else 1


def combined_names(config: ml_collections.ConfigDict) -> list:
    """What the combiner combines: the components, and the spread for an ensemble."""
    names = component_names(config)
    if members(config) > 1 and config.detection.combiner != "single":
        names = names + [ensemble.SPREAD]
    return names


def columns(config: ml_collections.ConfigDict) -> list:
    """The scorer outputs that calibration reads: the components (every member's, for an
    ensemble, member by member within each component) and the spread."""
    k = members(config)
    if k == 1:
        return component_names(config)
    per_member = [ensemble.member_component(c, i) for c in component_names(config)
                  for i in range(k)]
    return per_member + combined_names(config)[len(component_names(config)):]


# Applying a fitted calibration lives in composition (no model imports); its names here too.
matrix, combine = composition.matrix, composition.combine


RECORD_NORMALIZATIONS = ("none", "robust")


def record_normalization(config: ml_collections.ConfigDict) -> str:
    """detection.record_normalization, checked: none | robust."""
    return choose({k: k for k in RECORD_NORMALIZATIONS},
                  config.detection.get("record_normalization", "none"),
                  "detection.record_normalization")


def stream_settings(config: ml_collections.ConfigDict) -> record_context.StreamSettings:
    """detection.record_window and record_warmup, checked."""
    d = config.detection
    return record_context.StreamSettings(d.get("record_window", 256), d.get("record_warmup", 16))


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
    if kind == "boosted":
        return {"kind": kind, **combiners.fit_boosted(z, labels, config.seed)}
    return {"kind": kind, **combiners.fit_svm(
        z, labels, d.svm_c, d.svm_gamma or "scale", d.svm_cross_validate, d.svm_max_samples)}


def fit(val_components: dict, val_labels: np.ndarray, config: ml_collections.ConfigDict,
        train_components=None, groups=None) -> dict:
    """Fits normalization, combiner and threshold on the validation split.

    Args:
      val_components: {name: [N]} from a scorer on the validation split.
      val_labels: [N] 0/1.
      config: the run's config (config.detection).
      train_components: {name: [M]} on normal training samples, for f-AnoGAN centering.
      groups: [N] record ids of the validation samples, for
        detection.record_normalization=robust (None: one record).

    Returns:
      the calibration dict.
    """
    names = columns(config)
    raw = matrix(val_components, names)
    if not np.all(np.isfinite(raw)):
        bad = [n for i, n in enumerate(names) if not np.all(np.isfinite(raw[:, i]))]
        raise UserError(f"score components {bad} hold NaN or inf on the validation split; the "
                        "model is not usable (did training diverge?); retrain it")
    if record_normalization(config) == "none":
        return _fit_on(raw, val_labels, config, train_components, "none")
    within = record_context.whole_records(raw, groups).z
    calibration = _fit_on(within, val_labels, config, train_components, "robust")
    calibration["stream"] = stream_settings(config).to_dict()
    # Beats without a record baseline yet (a stream's first beats, a record too short) are
    # scored against this one, fit on the same validation split without record normalization.
    calibration["global"] = _fit_on(raw, val_labels, config, train_components, "none")
    return calibration


def _fit_on(raw, val_labels, config, train_components, by_record: str) -> dict:
    """fit on the [N, columns] matrix raw, as record normalization by_record left it."""
    names = columns(config)
    center = None
    # Centering on training scores has no meaning once each record is centred on itself.
    if config.detection.center_discrimination and by_record == "none":
        if train_components is None:
            raise UserError("detection.center_discrimination needs scores of training samples")
        center = [float(np.mean(train_components[n])) if n.split("_m")[0] == "discrimination"
                  else 0.0 for n in names]
    shift, scale = normalize.fit(raw, val_labels, config.detection.normalization, center)
    calibration = {
        "components": names,
        "record_normalization": by_record,
        "members": members(config),
        "combined_components": combined_names(config),
        "normalization": {"kind": config.detection.normalization, "shift": shift, "scale": scale},
    }
    z = composition.member_means(normalize.apply(raw, shift, scale), calibration)
    calibration.update({
        "combiner": _combiner(config, z, val_labels, calibration["combined_components"]),
        "fit_on": {"split": "validation", "samples": int(len(val_labels)),
                   "anomalies": int(np.sum(val_labels))},
    })
    scores, scored_by = threshold_scores(config, z, val_labels, calibration)
    calibration["threshold_method"] = config.detection.threshold
    calibration["threshold"] = thresholds.fit(scores, val_labels, config)
    calibration["threshold_reason"] = (
        f"{thresholds.reason(config.detection.threshold, val_labels)}; fit on {scored_by}")
    return calibration


# Combiners flexible enough to separate the validation samples they were fit on better than
# new ones: their threshold is fit on out-of-fold scores (detection.threshold_folds).
CROSS_FITTED = ("svm", "boosted")


def threshold_scores(config: ml_collections.ConfigDict, z: np.ndarray, labels: np.ndarray,
                     calibration: dict) -> tuple:
    """The validation scores the threshold is fit on, and what they are.

    An SVM or boosted trees score the validation samples they were fit on more confidently
    than new ones, so a threshold fit on those scores sits too far out (measured on MIT-BIH:
    test MCC 0.80 against 0.85 for boosted trees). With detection.threshold_folds = k > 1 each
    validation sample is scored by a combiner fit on the other k - 1 folds (stratified), and
    the threshold is fit on those out-of-fold scores; the saved combiner is the one fit on all
    of validation.

    Returns:
      (scores [N], a description for threshold_reason).
    """
    combiner = calibration["combiner"]
    folds = min(int(config.detection.get("threshold_folds", 0)),
                int(np.bincount(np.asarray(labels, int), minlength=2).min()))
    if combiner["kind"] not in CROSS_FITTED or folds < 2:
        return combiners.combined_scores(combiner, z), "the combined validation scores"
    from sklearn.model_selection import StratifiedKFold
    out_of_fold = np.empty(len(labels))
    split = StratifiedKFold(folds, shuffle=True, random_state=config.seed)
    for fit_rows, score_rows in split.split(z, labels):
        fold = _combiner(config, z[fit_rows], np.asarray(labels)[fit_rows],
                         calibration["combined_components"])
        out_of_fold[score_rows] = combiners.combined_scores(fold, z[score_rows])
    return out_of_fold, f"out-of-fold validation scores ({folds} folds)"


def apply(calibration: dict, components: dict, groups=None) -> tuple:
    """Combined scores [N] float64 and decisions [N] int8 (1 = anomaly) for a components dict.

    groups: [N] record ids, for a calibration with record_normalization=robust (None: the
    samples are one record's); each record is normalized by its whole-record baseline
    (record_scoring for streaming and the baseline each row got)."""
    if calibration.get("record_normalization", "none") != "none":
        scored = record_scoring.score(calibration, components, groups)
        return scored.score, scored.is_anomaly.astype(np.int8)
    return combine(calibration, matrix(components, calibration["components"]))


def apply_tf(calibration: dict, components: dict, baseline: tuple | None = None) -> tuple:
    """apply in core TensorFlow ops: (score [B] float32, is_anomaly [B] bool).

    baseline: (location [B, columns], scale [B, columns]) float64, each row's record baseline,
    for a robust calibration; a row's answer then depends on that row alone, so that batching
    cannot change it. Computes in float64 so that it matches the numpy evaluation (and
    scikit-learn's SVM).
    """
    raw = tf.stack([tf.cast(components[n], tf.float64) for n in calibration["components"]], 1)
    if calibration.get("record_normalization", "none") != "none":
        if baseline is None:
            raise ValueError("a record-normalized calibration needs each row's baseline")
        raw = (raw - baseline[0]) / baseline[1]
    norm = calibration["normalization"]
    z = composition.member_means(normalize.apply_tf(raw, norm["shift"], norm["scale"]), calibration, tf)
    score = combiners.combined_scores_tf(calibration["combiner"], z)
    return tf.cast(score, tf.float32), score >= calibration["threshold"]


def check_finite(calibration: dict) -> None:
    """Raises UserError if any number of the calibration is NaN or inf."""
    if not io_utils.all_finite(calibration):
        raise UserError("the calibration holds NaN or inf (a diverged model?); retrain and run "
                        "--mode=detect again")


def save(calibration: dict, path: str) -> None:
    io_utils.write_json(path, calibration)


def load(path: str) -> dict:
    with open(path) as f:
        return json.load(f)
