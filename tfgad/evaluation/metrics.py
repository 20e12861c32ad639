"""Detection metrics; evaluation returns {name: value} and writes nothing."""
import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from tfgad.detection.thresholds import mcc_counts


def confusion(labels: np.ndarray, predictions: np.ndarray) -> tuple[int, int, int, int]:
    """(tn, fp, fn, tp) counts for binary labels and predictions."""
    y, p = np.asarray(labels).astype(bool), np.asarray(predictions).astype(bool)
    return int((~y & ~p).sum()), int((~y & p).sum()), int((y & ~p).sum()), int((y & p).sum())


def ranking(labels: np.ndarray, scores: np.ndarray) -> dict:
    """AUROC and AUPRC (average precision); NaN where only one class is present."""
    labels = np.asarray(labels)
    if len(np.unique(labels)) < 2:
        return {"auroc": float("nan"), "auprc": float("nan")}
    return {"auroc": float(roc_auc_score(labels, scores)),
            "auprc": float(average_precision_score(labels, scores))}


def decisions(labels: np.ndarray, predictions: np.ndarray) -> dict:
    """Precision, recall, F1 and MCC (the phi coefficient) of hard decisions, with the confusion matrix."""
    tn, fp, fn, tp = confusion(labels, predictions)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    # The share of normal samples flagged: what a conformal alpha bounds, alarm fatigue's figure.
    false_alarm_rate = fp / (fp + tn) if fp + tn else float("nan")
    return {"precision": precision, "recall": recall, "f1": f1,
            "false_alarm_rate": false_alarm_rate,
            "mcc": float(mcc_counts(*np.array([tp, fp, fn, tn]))), "tn": tn, "fp": fp, "fn": fn, "tp": tp}


def evaluate(labels: np.ndarray, scores: np.ndarray, predictions: np.ndarray) -> dict:
    return {**ranking(labels, scores), **decisions(labels, predictions)}
