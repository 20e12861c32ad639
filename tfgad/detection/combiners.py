"""Combiners of normalized score components into one score: weighted, single, grid, svm."""
import itertools

import numpy as np

from tfgad.detection import thresholds
from tfgad.errors import UserError

KINDS = ("weighted", "single", "grid", "svm")
GRID_METRICS = ("f1", "fbeta", "mcc")


def weighted_scores(matrix, weights):
    """[N, k] @ [k] -> [N]."""
    return np.asarray(matrix, np.float64) @ np.asarray(weights, np.float64)


def simplex(k, step):
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


def grid_metric(name, beta=1.0):
    """A metric of confusion counts for thresholds._best."""
    if name == "f1":
        return thresholds.f1_counts
    if name == "mcc":
        return thresholds.mcc_counts
    if name == "fbeta":
        b2 = beta * beta
        return lambda tp, fp, fn, tn: (1 + b2) * tp / np.maximum((1 + b2) * tp + b2 * fn + fp, 1)
    raise UserError(f"unknown detection.grid_metric {name!r}; known: {', '.join(GRID_METRICS)}")


def fit_grid(matrix, labels, step, metric_name, beta=1.0):
    """The simplex weights (and threshold) that maximize the metric on validation.

    Returns:
      dict weights [k] and the best metric value; ties go to the first vector found.
    """
    _need_both_classes(labels, "grid")
    metric = grid_metric(metric_name, beta)
    labels = np.asarray(labels).astype(bool)
    best_value, best_weights = -np.inf, None
    for weights in simplex(matrix.shape[1], step):
        scores = weighted_scores(matrix, weights)
        value = thresholds.best_value(scores, labels, metric)
        if value > best_value + 1e-12:
            best_value, best_weights = value, weights
    return {"weights": best_weights.tolist(), "metric": metric_name, "metric_value": best_value}


def fit_svm(matrix, labels, c=1.0, gamma="scale", cross_validate=False, max_samples=5000, seed=0):
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


def svm_scores(matrix, params):
    """The SVC decision function from the saved parameters [N]."""
    matrix = np.asarray(matrix, np.float64)
    sv = np.asarray(params["support_vectors"], np.float64)
    sq = (matrix ** 2).sum(1)[:, None] + (sv ** 2).sum(1)[None, :] - 2 * matrix @ sv.T
    kernel = np.exp(-params["gamma"] * np.maximum(sq, 0.0))
    return kernel @ np.asarray(params["dual_coef"]) + params["intercept"]
