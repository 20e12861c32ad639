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

from tfgad import io_utils, score_columns
from tfgad.detection import combiners, composition, normalize, record_context, record_scoring
from tfgad.detection import conformal, thresholds
from tfgad.errors import UserError
from tfgad.sections.detection import DETECTION


def layout(config: ml_collections.ConfigDict) -> score_columns.Layout:
    """The columns calibration reads and what the combiner combines (score_columns.Layout).

    Whether the model returns them is checked with the config (config_checks), and again
    when a components dict is read (matrix).
    """
    return score_columns.Layout.from_config(config)


# Applying a fitted calibration lives in composition (no model imports); its names here too.
matrix, combine = composition.matrix, composition.combine


def fit(val_components: dict, val_labels: np.ndarray, config: ml_collections.ConfigDict,
        train_components: dict | None = None, groups: np.ndarray | None = None) -> dict:
    """Fits normalization, combiner and threshold on the validation split.

    Args:
      val_components: {name: [N]} from a scorer on the validation split.
      val_labels: [N] 0/1.
      config: the run's config (config.detection).
      train_components: {name: [M]} on normal training samples, for f-AnoGAN centering.
      groups: [N] record ids of the validation samples, for
        detection.record_normalization=robust (None: one record).

    Returns:
      the calibration dict; with record normalization, the whole-record fit, its stream
      settings, and under "global" the fit without record baselines, for beats that have none
      yet (a stream's first beats, a record too short).
    """
    DETECTION.check(config.detection)  # its own section, for a config that skipped config_checks
    raw = _finite_columns(val_components, layout(config).columns)
    if config.detection.record_normalization == "none":
        return _fit_on(raw, val_labels, config, train_components, "none")
    within = record_context.whole_records(raw, groups).z
    calibration = _fit_on(within, val_labels, config, train_components, "robust")
    d = config.detection
    calibration["stream"] = record_context.StreamSettings(d.record_window,
                                                          d.record_warmup).to_dict()
    calibration["global"] = _fit_on(raw, val_labels, config, train_components, "none")
    return calibration


def _finite_columns(components: dict, names: list) -> np.ndarray:
    raw = matrix(components, names)
    if not np.all(np.isfinite(raw)):
        bad = [n for i, n in enumerate(names) if not np.all(np.isfinite(raw[:, i]))]
        raise UserError(f"score components {bad} hold NaN or inf on the validation split; the "
                        "model is not usable (did training diverge?); retrain it")
    return raw


def _centering(config, names, train_components, by_record):
    """f-AnoGAN's shift of the discrimination columns by their mean on normal training
    samples, or None. Centering means nothing once each record is centred on itself."""
    if not config.detection.center_discrimination or by_record != "none":
        return None
    if train_components is None:
        raise UserError("detection.center_discrimination needs scores of training samples")
    return [float(np.mean(train_components[n]))
            if score_columns.parse(n)[0] == "discrimination" else 0.0 for n in names]


def _fit_on(raw, val_labels, config, train_components, by_record: str) -> dict:
    """fit on the [N, columns] matrix raw, as record normalization by_record left it: the
    normalization, then the combiner, then the threshold, each on what the one before gives."""
    columns = layout(config)
    kind = config.detection.normalization
    shift, scale = normalize.fit(raw, val_labels, kind,
                                 _centering(config, columns.columns, train_components, by_record))
    calibration = {
        "components": columns.columns,
        "record_normalization": by_record,
        "members": columns.members,
        "combined_components": columns.combined,
        "normalization": {"kind": kind, "shift": shift, "scale": scale},
    }
    z = columns.member_means(normalize.apply(raw, shift, scale))
    calibration["combiner"] = combiners.fit(z, val_labels, config, columns.combined)
    calibration["fit_on"] = {"split": "validation", "samples": int(len(val_labels)),
                             "anomalies": int(np.sum(val_labels))}
    scores, scored_by = threshold_scores(config, z, val_labels, calibration)
    method = config.detection.threshold
    calibration["threshold_method"] = method
    calibration["threshold"] = thresholds.fit(scores, val_labels, config)
    # The normal samples' scores that p-values are taken against (conformal.py): the same
    # scores the threshold was fit on (out-of-fold for a cross-fitted combiner).
    calibration[conformal.KEY] = conformal.reference(scores, val_labels)
    calibration["threshold_reason"] = f"{thresholds.reason(method, val_labels)}; fit on {scored_by}"
    return calibration


def threshold_scores(config: ml_collections.ConfigDict, z: np.ndarray, labels: np.ndarray,
                     calibration: dict) -> tuple[np.ndarray, str]:
    """The validation scores the threshold is fit on, and what they are.

    An SVM or boosted trees score the validation samples they were fit on more confidently
    than new ones, so a threshold fit on those scores sits too far out (measured on MIT-BIH:
    test MCC 0.80 against 0.85 for boosted trees). With detection.threshold_folds = k > 1 each
    validation sample of a cross-fitted combiner (combiners.FITS) is scored by a combiner fit
    on the other k - 1 folds (stratified), and the threshold is fit on those out-of-fold
    scores; the saved combiner is the one fit on all of validation.

    Returns:
      (scores [N], a description for threshold_reason).
    """
    combiner = calibration["combiner"]
    folds = min(config.detection.threshold_folds,
                int(np.bincount(np.asarray(labels, int), minlength=2).min()))
    if not combiners.FITS[combiner["kind"]].cross_fitted or folds < 2:
        return combiners.combined_scores(combiner, z), "the combined validation scores"
    from sklearn.model_selection import StratifiedKFold
    out_of_fold = np.empty(len(labels))
    split = StratifiedKFold(folds, shuffle=True, random_state=config.seed)
    for fit_rows, score_rows in split.split(z, labels):
        fold = combiners.fit(z[fit_rows], np.asarray(labels)[fit_rows], config,
                             calibration["combined_components"])
        out_of_fold[score_rows] = combiners.combined_scores(fold, z[score_rows])
    return out_of_fold, f"out-of-fold validation scores ({folds} folds)"


def apply(calibration: dict, components: dict,
          groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Combined scores [N] float64 and decisions [N] int8 (1 = anomaly) for a components dict.

    groups: [N] record ids, for a calibration with record_normalization=robust (None: the
    samples are one record's); each record is normalized by its whole-record baseline
    (record_scoring for streaming and the baseline each row got)."""
    if record_scoring.is_record_normalized(calibration):
        scored = record_scoring.score(calibration, components, groups)
        return scored.score, scored.is_anomaly.astype(np.int8)
    return combine(calibration, matrix(components, calibration["components"]))


def apply_tf(calibration: dict, components: dict,
             baseline: tuple | None = None) -> tuple[tf.Tensor, tf.Tensor]:
    """apply in core TensorFlow ops: (score [B] float32, is_anomaly [B] bool).

    baseline: (location [B, columns], scale [B, columns]) float64, each row's record baseline,
    for a robust calibration; a row's answer then depends on that row alone, so that batching
    cannot change it. Computes in float64 so that it matches the numpy evaluation (and
    scikit-learn's SVM).
    """
    raw = tf.stack([tf.cast(components[n], tf.float64) for n in calibration["components"]], 1)
    if record_scoring.is_record_normalized(calibration):
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
