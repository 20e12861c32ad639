"""Protocols where detection matters: anomaly kinds validation never labelled (test_unseen)."""
import csv
import json
import os

import pytest
from sklearn.metrics import roc_auc_score

from tfgad import run


def test_unseen_kinds_are_judged_apart_in_metrics_and_report(copy_of_trained_run):
    config, workdir = copy_of_trained_run
    config = config.copy_and_resolve_references()
    config.data.val_anomaly_classes = "inverted_t"
    result = run.train_and_evaluate(config, workdir, "detect")
    # Validation labelled inverted_t only, so the calibration saw no other anomaly.
    assert result["calibration"]["fit_on"]["anomalies"] == result["splits"]["val"]["anomalies"]
    unseen = result["test_unseen"]
    with open(os.path.join(workdir, "scores.csv")) as f:
        rows = [r for r in csv.DictReader(f) if r["class"] != "inverted_t"]
    assert unseen["samples"] == len(rows)
    assert unseen["anomalies"] == sum(int(r["label"]) for r in rows) > 0
    assert "inverted_t" not in unseen["classes"] and "normal" not in unseen["classes"]
    assert unseen["auroc"] == pytest.approx(roc_auc_score(
        [int(r["label"]) for r in rows], [float(r["score"]) for r in rows]), abs=1e-6)
    with open(os.path.join(workdir, "metrics.json")) as f:
        assert json.load(f)["test_unseen"]["auroc"] == pytest.approx(unseen["auroc"])
    with open(os.path.join(workdir, "report.md")) as f:
        report = f.read()
    assert "## Test on anomaly kinds validation never labelled" in report
    assert f"| auroc | {unseen['auroc']:.4f} |" in report
