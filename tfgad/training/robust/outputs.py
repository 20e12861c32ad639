"""What robust training left out, made visible: rejected.csv, robust.json and a histogram.

The training split's true labels are read here, for this report only; training and
calibration never see them.
"""
import csv
import io
import json
import os

import ml_collections
import numpy as np

from tfgad import io_utils
from tfgad.data.types import Samples
from tfgad.evaluation import plots
from tfgad.training.robust.state import TrainingSetState

SUMMARY_FILE = "robust.json"
REJECTED_FILE = "rejected.csv"


def rejection_quality(left_out: np.ndarray, labels: np.ndarray) -> dict:
    """Precision (share of the left-out samples that are anomalies) and recall (share of the
    anomalies left out); None where undefined (nothing left out, no anomaly in the split)."""
    left_out, anomalous = np.asarray(left_out, bool), np.asarray(labels) == 1
    hits = int((left_out & anomalous).sum())
    return {"left_out": int(left_out.sum()), "anomalies": int(anomalous.sum()),
            "true_rejections": hits,
            "precision": hits / int(left_out.sum()) if left_out.any() else None,
            "recall": hits / int(anomalous.sum()) if anomalous.any() else None}


def rejected_csv(state: TrainingSetState, train: Samples) -> str:
    """One row per left-out training sample: id (index in the training split), group, class,
    score, the epoch since which it is left out, and its true label."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "group", "class", "score", "epoch_rejected", "label"])
    score, since = state.score.numpy(), state.since.numpy()
    for i in np.flatnonzero(since >= 0):
        writer.writerow([i, train.groups[i], train.classes[i], f"{score[i]:.6g}", since[i],
                         train.y[i]])
    return buffer.getvalue()


def summary(state: TrainingSetState, train: Samples, config: ml_collections.ConfigDict) -> dict:
    r = config.train.robust
    left_out = state.left_out()
    classes, counts = np.unique(train.classes[left_out], return_counts=True)
    return {"method": state.method, "fraction": r.fraction,
            "fraction_rule": "given" if r.fraction > 0 else f"robust z-score > {r.z_cut}",
            "training_samples": len(train), "left_out_fraction": float(left_out.mean()),
            "left_out_by_class": {str(c): int(n) for c, n in zip(classes, counts)},
            **rejection_quality(left_out, train.y)}


def write(workdir: str, state: TrainingSetState, train: Samples,
          config: ml_collections.ConfigDict) -> dict:
    """Writes rejected.csv, robust.json and plots/training_scores.png; returns the summary."""
    result = summary(state, train, config)
    io_utils.write_text(os.path.join(workdir, REJECTED_FILE), rejected_csv(state, train))
    io_utils.write_json(os.path.join(workdir, SUMMARY_FILE), result)
    plots.training_scores(state.score.numpy(), train.y, state.left_out(),
                          os.path.join(workdir, "plots", "training_scores.png"),
                          title=f"training scores ({state.method}): precision "
                                f"{_fmt(result['precision'])}, recall {_fmt(result['recall'])}")
    return result


def _fmt(value):
    return "n/a" if value is None else f"{value:.2f}"


def load_summary(workdir: str) -> dict | None:
    """robust.json of a workdir trained with robust training, else None."""
    path = os.path.join(workdir, SUMMARY_FILE)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)
