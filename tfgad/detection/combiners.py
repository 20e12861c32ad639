"""Combiners of normalized score components into one score: weighted, single, grid, svm, boosted.

Fitting is numpy (and scikit-learn); a fitted combiner is a JSON dict that evaluates in numpy
(offline scoring) and in core TensorFlow ops (exported graphs). The two evaluations stand side
by side below, chosen through one table, and a test holds them equal.
"""
import dataclasses
import itertools
from typing import Callable

import ml_collections
import numpy as np
import tensorflow as tf

from tfgad.detection import boosted, thresholds
from tfgad.errors import UserError

GRID_METRICS = ("f1", "fbeta", "mcc")


def weighted_scores(matrix: np.ndarray, weights) -> np.ndarray:
    """[N, k] @ [k] -> [N]."""
    return np.asarray(matrix, np.float64) @ np.asarray(weights, np.float64)


def simplex(k: int, step: float) -> np.ndarray:
    """All weight vectors on the k-simplex whose entries are multiples of step: [M, k]."""
    parts = int(round(1.0 / step))
    if parts < 1 or abs(parts * step - 1.0) > 1e-9:
        raise UserError(f"detection.grid_step={step} must divide 1 (e.g. 0.1, 0.05, 0.25)")
    rows = [c for c in itertools.product(range(parts + 1), repeat=k) if sum(c) == parts]
    return np.array(rows, np.float64) / parts


def _need_both_classes(labels, kind):
    labels = np.asarray(labels)
    if labels.min() == labels.max():
        raise UserError(f"detection.combiner={kind} needs labelled anomalies and normal samples in "
                        "the validation split, which holds only one class; use "
                        "detection.combiner=weighted with detection.threshold=percentile")


def grid_metric(name: str, beta: float = 1.0) -> Callable:
    """A metric of confusion counts for thresholds._best."""
    if name == "f1":
        return thresholds.f1_counts
    if name == "mcc":
        return thresholds.mcc_counts
    if name == "fbeta":
        b2 = beta * beta
        return lambda tp, fp, fn, tn: (1 + b2) * tp / np.maximum((1 + b2) * tp + b2 * fn + fp, 1)
    raise UserError(f"unknown detection.grid_metric {name!r}; known: {', '.join(GRID_METRICS)}")


def fit_grid(matrix: np.ndarray, labels: np.ndarray, step: float, metric_name: str,
             beta: float = 1.0) -> dict:
    """The simplex weights (and threshold) that maximize the metric on validation.

    Returns:
      dict weights [k] and the best metric value; ties go to the first vector found.
    """
    _need_both_classes(labels, "grid")
    metric = grid_metric(metric_name, beta)
    labels = np.asarray(labels).astype(bool)
    best_value, best_weights = -np.inf, np.zeros(0)
    for weights in simplex(matrix.shape[1], step):
        scores = weighted_scores(matrix, weights)
        value = thresholds.best_value(scores, labels, metric)
        if value > best_value + 1e-12:
            best_value, best_weights = value, weights
    return {"weights": best_weights.tolist(), "metric": metric_name, "metric_value": best_value}


def fit_svm(matrix: np.ndarray, labels: np.ndarray, c: float = 1.0, gamma="scale",
            cross_validate: bool = False, max_samples: int = 5000, seed: int = 0) -> dict:
    """An RBF-SVM on the component vectors, class-weighted; its decision function is the score.

    Returns:
      dict with what evaluates the decision function anywhere: support vectors, dual
      coefficients, intercept and the resolved gamma.
    """
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.svm import SVC
    _need_both_classes(labels, "svm")
    matrix, labels = np.asarray(matrix, np.float64), np.asarray(labels).astype(int)
    if len(labels) > max_samples:  # SVC's cost grows with the square of the samples
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(len(labels), max_samples, replace=False))
        matrix, labels = matrix[keep], labels[keep]
    svc = SVC(kernel="rbf", C=c, gamma=gamma, class_weight="balanced")
    if cross_validate:
        folds = min(3, int(np.bincount(labels).min()))
        if folds < 2:
            raise UserError("detection.svm_cross_validate needs at least 2 anomalies in validation")
        search = GridSearchCV(svc, {"C": [0.1, 1.0, 10.0, 100.0], "gamma": ["scale", 0.1, 1.0]},
                              scoring="average_precision",
                              cv=StratifiedKFold(folds, shuffle=True, random_state=seed))
        svc = search.fit(matrix, labels).best_estimator_
    else:
        svc.fit(matrix, labels)
    return {"support_vectors": svc.support_vectors_.tolist(),
            "dual_coef": svc.dual_coef_[0].tolist(), "intercept": float(svc.intercept_[0]),
            "gamma": float(svc._gamma), "C": float(svc.C)}


def fit_boosted(matrix: np.ndarray, labels: np.ndarray, seed: int = 0) -> dict:
    """Gradient-boosted trees on the component vectors (tfgad/detection/boosted.py)."""
    _need_both_classes(labels, "boosted")
    return boosted.fit(matrix, labels, seed)


def _linear(matrix, combiner):
    return weighted_scores(matrix, combiner["weights"])


def _linear_tf(matrix, combiner):
    return tf.linalg.matvec(matrix, tf.constant(combiner["weights"], tf.float64))


def _svm(matrix, combiner):
    """The SVC decision function from the saved parameters [N]."""
    matrix = np.asarray(matrix, np.float64)
    sv = np.asarray(combiner["support_vectors"], np.float64)
    sq = (matrix ** 2).sum(1)[:, None] + (sv ** 2).sum(1)[None, :] - 2 * matrix @ sv.T
    kernel = np.exp(-combiner["gamma"] * np.maximum(sq, 0.0))
    return kernel @ np.asarray(combiner["dual_coef"]) + combiner["intercept"]


def _svm_tf(matrix, combiner):
    sv = tf.constant(combiner["support_vectors"], tf.float64)
    sq = (tf.reduce_sum(matrix * matrix, 1)[:, None] + tf.reduce_sum(sv * sv, 1)[None, :]
          - 2.0 * tf.matmul(matrix, sv, transpose_b=True))
    kernel = tf.exp(-combiner["gamma"] * tf.maximum(sq, 0.0))
    return (tf.linalg.matvec(kernel, tf.constant(combiner["dual_coef"], tf.float64))
            + combiner["intercept"])


# The one place that branches on the kind: (numpy, TensorFlow) evaluation of a fitted combiner.
EVALUATIONS = {"weighted": (_linear, _linear_tf), "single": (_linear, _linear_tf),
               "grid": (_linear, _linear_tf), "svm": (_svm, _svm_tf),
               "boosted": (boosted.scores, boosted.scores_tf)}


def combined_scores(combiner: dict, matrix: np.ndarray) -> np.ndarray:
    """Combined score [N] float64 of normalized components [N, k], in numpy."""
    return EVALUATIONS[combiner["kind"]][0](matrix, combiner)


def combined_scores_tf(combiner: dict, matrix: tf.Tensor) -> tf.Tensor:
    """The same as combined_scores for a float64 tensor [B, k], in core TensorFlow ops."""
    return EVALUATIONS[combiner["kind"]][1](matrix, combiner)


def _fit_weighted(z, labels, config, names):
    weights = [float(config.detection.weights[n]) for n in names]
    if not any(weights):
        raise UserError(f"every detection.weights entry of {names} is 0; weight one of them")
    return {"weights": weights}


def _fit_svm(z, labels, config, names):
    d = config.detection
    return fit_svm(z, labels, d.svm_c, d.svm_gamma or "scale", d.svm_cross_validate,
                   d.svm_max_samples)


@dataclasses.dataclass(frozen=True)
class CombinerFit:
    """How one kind is fit on the normalized validation components [N, combined] (and their
    0/1 labels), whether it needs labelled anomalies, and whether it separates the samples it
    was fit on better than new ones, so that its threshold is fit on out-of-fold scores
    (detection.threshold_folds)."""
    fit: Callable[[np.ndarray, np.ndarray, ml_collections.ConfigDict, list], dict]
    needs_labels: bool
    cross_fitted: bool


FITS = {
    "weighted": CombinerFit(_fit_weighted, False, False),
    "single": CombinerFit(lambda z, labels, config, names: {"weights": [1.0]}, False, False),
    "grid": CombinerFit(lambda z, labels, config, names: fit_grid(
        z, labels, config.detection.grid_step, config.detection.grid_metric,
        config.detection.fbeta_beta), True, False),
    "svm": CombinerFit(_fit_svm, True, True),
    "boosted": CombinerFit(lambda z, labels, config, names: fit_boosted(z, labels, config.seed),
                           True, True),
}
KINDS = tuple(FITS)
FITTED = tuple(kind for kind, entry in FITS.items() if entry.needs_labels)


def fit(z: np.ndarray, labels: np.ndarray, config: ml_collections.ConfigDict,
        names: list) -> dict:
    """The fitted combiner (a JSON dict) of detection.combiner for the columns names of z."""
    kind = config.detection.combiner
    return {"kind": kind, **FITS[kind].fit(z, labels, config, names)}
