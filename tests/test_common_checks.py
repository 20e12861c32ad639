"""Common checks, as scikit-learn's check_estimator and anomalib's model tests run them: every
family, and both classes that score (tfgad.Detector and the export's detector), answer the one
interface (tfgad.interface.FittedDetector) alike."""
import numpy as np
import pytest

import tfgad
from tfgad import data, models
from tfgad.errors import UserError
from tfgad.interface import FittedDetector


@pytest.fixture(scope="module")
def beats():
    from tfgad.configs import test
    samples = data.load_source(test.get_config())
    rng = np.random.default_rng(2)
    normal, anomalous = rng.permutation(np.flatnonzero(samples.y == 0)), np.flatnonzero(samples.y)
    return {"x": samples.x[normal[:100]],
            "x_val": samples.x[np.r_[normal[100:130], anomalous[:12]]],
            "y_val": samples.y[np.r_[normal[100:130], anomalous[:12]]],
            "x_test": samples.x[np.r_[normal[130:150], anomalous[12:22]]]}


@pytest.fixture(scope="module", params=sorted(models.MODELS))
def family_pair(request, beats, tmp_path_factory):
    """(family, fitted tfgad.Detector, the same loaded from its save, its export loaded)."""
    overrides = {"model.name": request.param, "train.epochs": 1, "search.n_max": 10,
                 "model.fanogan.encoder_epochs": 1}
    detector = tfgad.Detector("test", overrides=overrides, verbose=0)
    detector.fit(beats["x"], x_val=beats["x_val"], y_val=beats["y_val"])
    root = tmp_path_factory.mktemp(request.param)
    saved = tfgad.load(detector.save(str(root / "saved")))
    exported = tfgad.load(detector.export(str(root / "saved_models" / request.param)))
    return request.param, detector, saved, exported


def test_every_family_and_class_answers_the_one_interface(family_pair, beats):
    family, *detectors = family_pair
    x = beats["x_test"]
    reference = detectors[0].score(x)
    for detector in detectors:
        assert isinstance(detector, FittedDetector), (family, type(detector).__name__)
        result = detector.score(x)
        assert result.score.shape == result.is_anomaly.shape == (len(x),), family
        assert np.isfinite(result.score).all() and set(result.quality) == {"ok"}
        # Every family's anomaly map and p-value, the same saved, loaded and exported.
        assert result.anomaly_map.shape == x.shape[:2], family
        np.testing.assert_allclose(result.anomaly_map, reference.anomaly_map, atol=1e-3,
                                   err_msg=family)
        np.testing.assert_allclose(result.p_value, reference.p_value, atol=0.05, err_msg=family)
        scores, flags = detector.decision_function(x), detector.predict(x)
        assert flags.dtype == np.int8 and set(np.unique(flags)) <= {0, 1}
        np.testing.assert_array_equal(flags, (scores >= detector.threshold_).astype(np.int8))
        # Saved, loaded and exported: the same answers (the export's graph to 1e-4).
        np.testing.assert_allclose(scores, reference.score, rtol=1e-4, atol=1e-4,
                                   err_msg=f"{family}: {type(detector).__module__}")
        assert detector.threshold_ == pytest.approx(detectors[0].threshold_)
        # PyOD's predict_proba: (normal, anomaly), the conformal p-value, the same everywhere.
        proba = detector.predict_proba(x)
        assert proba.shape == (len(x), 2)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        order = np.argsort(scores)
        assert np.all(np.diff(proba[order, 1]) >= -1e-12)  # higher score, likelier anomaly
        np.testing.assert_allclose(proba, detectors[0].predict_proba(x), atol=0.05)
        # A sample's score does not depend on its batch.
        np.testing.assert_allclose(detector.score(x, batch_size=7).score, scores, rtol=1e-4,
                                   atol=1e-4)


def test_every_class_refuses_bad_arguments_in_one_line(family_pair, beats):
    family, *detectors = family_pair
    x = beats["x_test"]
    for detector in detectors:
        for bad in (0, 2.5, "8"):
            with pytest.raises(UserError, match="batch_size") as error:
                detector.score(x, batch_size=bad)
            assert "\n" not in str(error.value)
        with pytest.raises(UserError, match="shape"):
            detector.score(x[:, :32])
        with pytest.raises(UserError, match="NaN"):
            detector.score(np.where(np.arange(len(x))[:, None, None] == 1, np.nan, x))


def test_a_detector_refuses_every_fitted_only_call_before_fit():
    from sklearn.exceptions import NotFittedError
    detector = tfgad.Detector("test", verbose=0)
    for call in (lambda: detector.predict(np.zeros((2, 64, 1))),
                 lambda: detector.decision_function(np.zeros((2, 64, 1))),
                 lambda: detector.score(np.zeros((2, 64, 1))),
                 lambda: detector.save("never"), lambda: detector.export("never"),
                 lambda: detector.threshold_):
        with pytest.raises(NotFittedError, match="not fitted yet; call fit"):
            call()
