"""Decision thresholds on a combined score, chosen on validation data only.

The default, max_mcc, is symmetric in the two classes, so it stays sound at any class balance
of validation: anomaly-dominated (one-class image protocols, where 9 of 10 classes are
anomalies) or nearly one-class. max_f1 scores the anomaly class alone: with validation mostly
anomalous, flagging nearly everything already gets a high F1, and it picks that cut.
minority_f1 is the F1 of whichever class is rarer on validation.
"""
import ml_collections
import numpy as np

from tfgad.detection import conformal
from tfgad.errors import UserError, choose


def _sweep(scores, labels, metric):
    """metric(tp, fp, fn, tn) at every distinct cut of the scores (anomaly when score >= cut).

    Returns:
      (cuts, values), both [number of distinct scores].
    """
    labels = np.asarray(labels).astype(bool)
    if labels.all() or not labels.any():
        raise UserError("the validation split holds only one class, so a threshold cannot be "
                        "fit to labels; use detection.threshold=percentile (one-class)")
    order = np.argsort(-scores, kind="stable")
    s, l = scores[order], labels[order]
    tp = np.cumsum(l)
    fp = np.cumsum(~l)
    # Only the last position of each run of equal scores is a valid cut.
    last = np.r_[s[1:] != s[:-1], True]
    tp, fp, cut = tp[last], fp[last], s[last]
    fn, tn = l.sum() - tp, (~l).sum() - fp
    return cut, metric(tp, fp, fn, tn)


def _best(scores, labels, metric):
    """The threshold that maximizes metric(tp, fp, fn, tn)."""
    cuts, values = _sweep(scores, labels, metric)
    return float(cuts[int(np.nanargmax(values))])


def best_value(scores: np.ndarray, labels: np.ndarray, metric) -> float:
    """The metric's best value over all thresholds."""
    return float(np.nanmax(_sweep(scores, labels, metric)[1]))


def f1_counts(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, tn: np.ndarray) -> np.ndarray:
    return 2 * tp / np.maximum(2 * tp + fp + fn, 1)


def mcc_counts(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, tn: np.ndarray) -> np.ndarray:
    tp, fp, fn, tn = (np.asarray(a, np.float64) for a in (tp, fp, fn, tn))
    denom = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return np.where(denom > 0, (tp * tn - fp * fn) / np.where(denom > 0, denom, 1), 0.0)


def normal_f1_counts(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, tn: np.ndarray) -> np.ndarray:
    """F1 of the normal class: its true positives are tn, its misses fp, its false alarms fn."""
    return 2 * tn / np.maximum(2 * tn + fn + fp, 1)


def anomaly_share(labels: np.ndarray) -> float:
    return float(np.mean(np.asarray(labels) == 1)) if len(labels) else float("nan")


def max_f1(scores: np.ndarray, labels: np.ndarray, config: ml_collections.ConfigDict) -> float:
    return _best(scores, labels, f1_counts)


def max_mcc(scores: np.ndarray, labels: np.ndarray, config: ml_collections.ConfigDict) -> float:
    return _best(scores, labels, mcc_counts)


def minority_f1(scores: np.ndarray, labels: np.ndarray, config: ml_collections.ConfigDict) -> float:
    """Max F1 of the class that is rarer on validation (anomalies, unless they dominate)."""
    metric = f1_counts if anomaly_share(labels) <= 0.5 else normal_f1_counts
    return _best(scores, labels, metric)


def percentile(scores: np.ndarray, labels: np.ndarray, config: ml_collections.ConfigDict) -> float:
    """The q-th percentile of the normal validation samples' scores: needs no labelled anomaly."""
    normal = np.asarray(scores)[np.asarray(labels) == 0]
    if not len(normal):
        raise UserError("the validation split holds no normal sample for the percentile threshold")
    return float(np.percentile(normal, config.detection.percentile))


def conformal_alpha(scores: np.ndarray, labels: np.ndarray,
                    config: ml_collections.ConfigDict) -> float:
    """Flags exactly the samples whose split-conformal p-value against the normal validation
    scores is at most detection.alpha: needs no labelled anomaly, and holds the false-alarm
    rate at alpha or below on normal data exchangeable with validation's."""
    return conformal.threshold(conformal.reference(scores, labels), config.detection.alpha)


def fixed(scores: np.ndarray, labels: np.ndarray, config: ml_collections.ConfigDict) -> float:
    return float(config.detection.fixed_threshold)


METHODS = {"max_mcc": max_mcc, "max_f1": max_f1, "minority_f1": minority_f1,
           "percentile": percentile, "conformal": conformal_alpha, "fixed": fixed}
# Whether a method fits the threshold to labelled anomalies of validation.
LABELLED = ("max_mcc", "max_f1", "minority_f1")


def reason(method: str, labels: np.ndarray) -> str:
    """Why this rule set the threshold, and whether it suits validation's class balance."""
    share = anomaly_share(labels)
    balance = f"validation holds {100 * share:.1f} % anomalies"
    if method == "max_mcc":
        return f"max MCC, symmetric in the two classes, so sound at any balance ({balance})"
    if method == "max_f1":
        if share > 0.5:
            return (f"max F1 of the anomaly class; {balance}, where max F1 tends to flag nearly "
                    "everything: detection.threshold=max_mcc (the default) is sounder here")
        return f"max F1 of the anomaly class, the minority ({balance})"
    if method == "minority_f1":
        rarer = "anomaly" if share <= 0.5 else "normal"
        return f"max F1 of the {rarer} class, the rarer one ({balance})"
    if method == "percentile":
        return "a percentile of the normal validation scores (needs no labelled anomaly)"
    if method == "conformal":
        return ("split-conformal: flags p-value <= detection.alpha against the normal "
                "validation scores (needs no labelled anomaly)")
    return "a fixed value (detection.fixed_threshold)"


def fit(scores: np.ndarray, labels: np.ndarray, config: ml_collections.ConfigDict) -> float:
    """Threshold by config.detection.threshold; predictions are score >= threshold."""
    method = choose(METHODS, config.detection.threshold, "detection.threshold")
    return method(np.asarray(scores, np.float64), labels, config)
