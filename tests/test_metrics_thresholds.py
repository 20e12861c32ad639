"""Metrics against scikit-learn and thresholds on hand-made score arrays."""
import numpy as np
import pytest
from ml_collections import ConfigDict
from sklearn import metrics as skm

from tfgad.detection import thresholds
from tfgad.errors import UserError
from tfgad.evaluation import metrics

LABELS = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 1, 0])
SCORES = np.array([0.1, 0.2, 0.15, 0.3, 0.8, 0.05, 0.9, 0.7, 0.4, 0.35, 0.6, 0.25])
PRED = (SCORES >= 0.5).astype(int)


def test_metrics_match_scikit_learn():
    got = metrics.evaluate(LABELS, SCORES, PRED)
    assert got["auroc"] == pytest.approx(skm.roc_auc_score(LABELS, SCORES))
    assert got["auprc"] == pytest.approx(skm.average_precision_score(LABELS, SCORES))
    assert got["f1"] == pytest.approx(skm.f1_score(LABELS, PRED))
    assert got["precision"] == pytest.approx(skm.precision_score(LABELS, PRED))
    assert got["recall"] == pytest.approx(skm.recall_score(LABELS, PRED))
    assert got["mcc"] == pytest.approx(skm.matthews_corrcoef(LABELS, PRED))
    tn, fp, fn, tp = skm.confusion_matrix(LABELS, PRED).ravel()
    assert (got["tn"], got["fp"], got["fn"], got["tp"]) == (tn, fp, fn, tp)


def test_degenerate_predictions_give_zero_not_nan():
    got = metrics.decisions([0, 0, 1], [0, 0, 0])
    assert got["precision"] == 0.0 and got["f1"] == 0.0 and got["mcc"] == 0.0


def test_one_class_ranking_is_nan():
    assert np.isnan(metrics.ranking([0, 0, 0], [0.1, 0.2, 0.3])["auroc"])


def config(**detection):
    base = {"threshold": "max_f1", "percentile": 95.0, "fixed_threshold": 0.0,
            "weights": {"residual": 1.0}}
    base.update(detection)
    return ConfigDict({"detection": base})


def test_max_f1_threshold_by_hand():
    # Cutting at 0.4 flags 0.9, 0.8, 0.7, 0.6, 0.4: tp 4, fp 1, fn 0 -> F1 8/9, the best cut.
    t = thresholds.fit(SCORES, LABELS, config())
    assert t == pytest.approx(0.4)
    assert skm.f1_score(LABELS, SCORES >= t) == pytest.approx(8 / 9)
    f1s = [skm.f1_score(LABELS, SCORES >= c) for c in np.unique(SCORES)]
    assert skm.f1_score(LABELS, SCORES >= t) == pytest.approx(max(f1s))


def test_max_mcc_threshold_is_the_best_cut():
    t = thresholds.fit(SCORES, LABELS, config(threshold="max_mcc"))
    mccs = [skm.matthews_corrcoef(LABELS, SCORES >= c) for c in np.unique(SCORES)]
    assert skm.matthews_corrcoef(LABELS, SCORES >= t) == pytest.approx(max(mccs))


def test_percentile_uses_normal_samples_only():
    t = thresholds.fit(SCORES, LABELS, config(threshold="percentile", percentile=50.0))
    assert t == pytest.approx(np.median(SCORES[LABELS == 0]))


def test_labelled_threshold_without_anomalies_says_what_to_use():
    with pytest.raises(UserError, match="threshold=percentile"):
        thresholds.fit(SCORES, np.zeros_like(LABELS), config())
