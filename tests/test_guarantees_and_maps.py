"""Conformal p-values and thresholds, alarms per hour, and anomaly maps."""
import json
import os

import numpy as np
import pytest

import tfgad
from tfgad import config_files, data
from tfgad.configs import default
from tfgad.data import synthetic_ecg
from tfgad.detection import calibration, conformal, maps
from tfgad.errors import UserError


def test_the_conformal_threshold_flags_exactly_the_p_values_at_most_alpha():
    reference = [float(v) for v in range(1, 10)]  # n = 9: p = (1 + #{ref >= s}) / 10
    threshold = conformal.threshold(reference, 0.2)  # k = floor(0.2 * 10) = 2: above 8
    assert 8.0 < threshold < 8.0 + 1e-9
    calib = {conformal.KEY: reference}
    scores = np.array([0.5, 8.0, 8.5, 9.0, 12.0])
    np.testing.assert_allclose(conformal.p_values(scores, calib), [1.0, 0.3, 0.2, 0.2, 0.1])
    assert list(scores >= threshold) == list(conformal.p_values(scores, calib) <= 0.2)
    import tensorflow as tf
    np.testing.assert_allclose(conformal.p_values_tf(tf.constant(scores), calib).numpy(),
                               [1.0, 0.3, 0.2, 0.2, 0.1], rtol=1e-6)
    with pytest.raises(UserError, match="detection.alpha=0.05 needs at least 19 normal"):
        conformal.threshold(reference, 0.05)


def test_a_conformal_calibration_holds_the_false_alarm_rate_on_exchangeable_normals():
    rng = np.random.default_rng(0)
    config = default.get_config()
    config.detection.update({"components": "residual,feature", "threshold": "conformal",
                             "alpha": 0.05})
    config.detection.weights.feature = 1.0
    val = {"residual": rng.normal(size=4000), "feature": rng.normal(size=4000)}
    fitted = calibration.fit(val, np.zeros(4000, np.int8), config)
    test = {"residual": rng.normal(size=40000), "feature": rng.normal(size=40000)}
    scores, flags = calibration.apply(fitted, test)
    assert 0.5 * 0.05 <= flags.mean() <= 1.5 * 0.05
    p = conformal.p_values(scores, fitted)
    np.testing.assert_array_equal(flags.astype(bool), p <= 0.05)
    assert "split-conformal" in fitted["threshold_reason"]


@pytest.fixture(scope="module")
def fitted_detector(tmp_path_factory):
    config = config_files.load("test")
    splits, _ = data.load_splits(config, normalize=False)
    detector = tfgad.Detector("test", verbose=0,
                              overrides={"detection.threshold": "conformal",
                                         "detection.alpha": 0.1})
    detector.fit(splits["train"].x, x_val=splits["val"].x, y_val=splits["val"].y)
    export = detector.export(str(tmp_path_factory.mktemp("saved_models") / "ecg"))
    return detector, export, splits


def test_scores_carry_p_values_and_maps_offline_and_from_the_export(fitted_detector):
    detector, export, splits = fitted_detector
    x = splits["test"].x
    offline = detector.score(x)
    assert offline.anomaly_map.shape == x.shape[:2]  # [N, L] for series [N, L, C]
    assert np.all((offline.p_value > 0) & (offline.p_value <= 1))
    np.testing.assert_array_equal(offline.is_anomaly, offline.p_value <= 0.1)
    # By hand: the map is |x - x_hat| of the normalized samples.
    normalized = data.normalization.apply(detector.normalization_, x)
    x_hat = detector.components(normalized)["x_hat"]
    from scipy import ndimage
    sigma = detector.config_.detection.map_smoothing
    assert sigma == 1.0  # the default blur, as scipy.ndimage.gaussian_filter does it
    np.testing.assert_allclose(offline.anomaly_map, ndimage.gaussian_filter(
        np.abs(normalized - x_hat)[..., 0], [0, sigma]), atol=1e-5)
    served = tfgad.load(export).score(x)
    np.testing.assert_allclose(served.p_value, offline.p_value, atol=1e-6)
    np.testing.assert_allclose(served.anomaly_map, offline.anomaly_map, atol=1e-4)


def test_metrics_report_the_realized_false_alarm_rate_beside_alpha(test_config, tmp_path):
    from tfgad import run
    test_config.detection.threshold = "conformal"
    test_config.detection.alpha = 0.1
    result = run.train_and_evaluate(test_config, str(tmp_path / "run"), "all")
    written = json.load(open(tmp_path / "run" / "metrics.json"))
    assert written["conformal"]["alpha"] == 0.1
    normals = written["test"]["fp"] + written["test"]["tn"]
    assert written["conformal"]["test_false_alarm_rate"] == pytest.approx(
        written["test"]["fp"] / normals)
    assert result["conformal"] == written["conformal"]


def test_the_synthetic_ecg_records_where_each_anomaly_is():
    config = config_files.load("test")
    samples, regions = synthetic_ecg.load_with_regions(config)
    np.testing.assert_array_equal(samples.x, synthetic_ecg.load(config).x)  # same draws
    assert regions.shape == samples.x.shape[:2] and not regions[samples.y == 0].any()
    for kind in synthetic_ecg.ANOMALY_TYPES:
        rows = samples.classes == kind
        if rows.any():
            share = regions[rows].mean()
            assert 0.0 < share < 0.8, kind  # a part of the beat, not nothing or everything


def test_the_blurred_map_is_scipys_gaussian_filter_in_numpy_and_tensorflow():
    from scipy import ndimage
    import tensorflow as tf
    rng = np.random.default_rng(0)
    for shape in [(3, 50, 2), (2, 9, 7, 1)]:
        x = rng.normal(size=shape).astype(np.float32)
        expected = ndimage.gaussian_filter(np.abs(x).mean(-1), [0] + [1.5] * (len(shape) - 2))
        np.testing.assert_allclose(maps.residual_map(x, 0 * x, sigma=1.5), expected, atol=1e-6)
        np.testing.assert_allclose(maps.residual_map(tf.constant(x), tf.constant(0 * x), tf, 1.5)
                                   .numpy(), expected, atol=1e-5)


def test_the_residual_map_is_the_mean_absolute_error_over_channels():
    x = np.zeros((1, 3, 2), np.float32)
    x_hat = np.array([[[1, 3], [0, 0], [-2, 2]]], np.float32)
    np.testing.assert_allclose(maps.residual_map(x, x_hat), [[2.0, 0.0, 2.0]])
    import tensorflow as tf
    np.testing.assert_allclose(maps.residual_map(tf.constant(x), tf.constant(x_hat), tf).numpy(),
                               [[2.0, 0.0, 2.0]])
