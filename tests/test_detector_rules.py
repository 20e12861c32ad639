"""tfgad.Detector as scikit-learn and PyOD users expect it: estimator rules (clone, params,
GridSearchCV, NotFittedError, refit), arguments checked in one line, saved detectors that
check themselves."""
import json
import os
import shutil

import numpy as np
import pytest
from sklearn import base, exceptions
from sklearn.model_selection import GridSearchCV, cross_val_score

import tfgad
from tfgad import data
from tfgad.errors import UserError


@pytest.fixture(scope="module")
def beats():
    from tfgad.configs import test
    samples = data.load_source(test.get_config())
    rng = np.random.default_rng(1)
    order = rng.permutation(len(samples.y))
    return samples.x[order], samples.y[order].astype(int)


@pytest.fixture(scope="module")
def fitted(beats):
    x, y = beats
    return tfgad.Detector("test", overrides={"model.name": "aegan"}, verbose=0).fit(x[y == 0])


def test_init_only_stores_and_clone_and_params_work():
    detector = tfgad.Detector("no-such-config", overrides={"train.epochs": 1}, verbose=0)
    assert detector.get_params() == {"config": "no-such-config", "overrides": {"train.epochs": 1},
                                     "verbose": 0, "workdir": None, "contamination": None}
    twin = base.clone(detector.set_params(config="test"))
    assert twin is not detector and twin.get_params() == detector.get_params()
    assert not hasattr(twin, "config_")
    with pytest.raises(exceptions.NotFittedError, match="not fitted yet; call fit"):
        twin.predict(np.zeros((2, 64, 1)))


@pytest.mark.parametrize("overrides, message", [
    ({"train.epochs": "abc"}, r"overrides\['train.epochs'\] = 'abc': the field takes an integer"),
    ({"train.epochs": 1.5}, r"overrides\['train.epochs'\] = 1.5: the field takes an integer"),
    ({"train.epochs": None}, r"the field takes an integer, not None"),
    ({"train": 5}, r"train is a section, not a field; set one of its fields"),
    ({"train.epoch": 5}, r"config has no field train.epoch; did you mean train.epochs"),
    ([("train.epochs", 1)], r"overrides must be a dict"),
    ({"train.epochs": 0}, r"train.epochs"),
])
def test_bad_overrides_are_named_at_fit_before_training(beats, overrides, message):
    with pytest.raises(UserError, match=message):
        tfgad.Detector("test", overrides=overrides, verbose=0).fit(beats[0][:40])


def test_overrides_given_as_text_are_parsed_as_the_command_line_does():
    detector = tfgad.Detector("test", overrides={"train.epochs": "3", "search.eps": 1,
                                                 "detection.svm_cross_validate": "true"})
    config = detector._resolved_config()
    assert config.train.epochs == 3 and config.search.eps == 1.0
    assert isinstance(config.search.eps, float) and config.detection.svm_cross_validate is True


def test_fit_arguments_are_checked_in_one_line(beats):
    x, y = beats
    detector = tfgad.Detector("test", verbose=0)
    with pytest.raises(UserError, match="at least 2 normal samples to train on"):
        detector.fit(x[:2])
    with pytest.raises(UserError, match="y_val labels x_val, which is missing"):
        detector.fit(x[:40], y_val=y[:40])
    with pytest.raises(UserError, match=r"groups has shape \(3,\); give one group id per row"):
        detector.fit(x[:40], x_val=x[40:60], groups=[1, 2, 3])
    with pytest.raises(UserError, match="y has shape"):
        detector.fit(x[:40], x[40:60])  # x_val given positionally lands in y: named
    with pytest.raises(UserError, match="verbose=3"):
        tfgad.Detector("test", verbose=3).fit(x[:40])


def test_batch_size_and_sklearns_score_call_get_one_line(fitted, beats):
    x, y = beats
    for bad in (2.5, "8", 0, True):
        with pytest.raises(UserError, match="batch_size=.*positive whole number"):
            fitted.score(x[:4], batch_size=bad)
    with pytest.raises(UserError, match='scoring=, e.g. scoring="roc_auc"'):
        fitted.score(x[:4], y[:4])
    assert len(fitted.score(x[:4], batch_size=np.int64(2)).score) == 4


def test_fit_can_be_called_again_and_labels_in_y_go_to_validation(beats):
    x, y = beats
    detector = tfgad.Detector("test", overrides={"model.name": "aegan", "train.epochs": 1},
                              verbose=0)
    detector.fit(x[y == 0][:80])
    first = detector.calibration_["fit_on"]
    detector.fit(x[:160], y[:160])  # a notebook cell run again, now with labels
    fit_on = detector.calibration_["fit_on"]
    assert fit_on["anomalies"] == int(y[:160].sum()) and first["anomalies"] == 0
    assert detector.calibration_["threshold_method"] == "max_mcc"


def test_grid_search_and_cross_validation_over_an_override(beats):
    x, y = beats
    x, y = x[:200], y[:200]
    detector = tfgad.Detector("test", overrides={"model.name": "aegan"}, verbose=0)
    grid = GridSearchCV(detector, {"overrides": [{"model.name": "aegan", "train.epochs": 1},
                                                 {"model.name": "aegan", "train.epochs": 2}]},
                        scoring="roc_auc", cv=2).fit(x, y)
    assert set(grid.cv_results_["mean_test_score"].round(6)) and grid.best_estimator_.threshold_
    assert all(0.0 <= s <= 1.0 for s in grid.cv_results_["mean_test_score"])
    scores = cross_val_score(detector, x, y, scoring="roc_auc", cv=2)
    assert scores.shape == (2,) and np.all(scores > 0.5)


def test_save_replaces_atomically_and_refuses_a_file(fitted, beats, tmp_path):
    folder = tmp_path / "saved"
    fitted.save(str(folder))
    fitted.save(str(folder))  # again: replaced, nothing left beside it
    assert sorted(os.listdir(folder)) == ["detector.json", "model.weights.h5"]
    assert [p.name for p in tmp_path.iterdir()] == ["saved"]
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(UserError, match="is a file; give a folder"):
        fitted.save(str(tmp_path / "a_file"))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="holds other files"):
        fitted.save(str(tmp_path / "busy"))
    loaded = tfgad.load(str(folder))
    np.testing.assert_allclose(loaded.decision_function(beats[0][:20]),
                               fitted.decision_function(beats[0][:20]), rtol=1e-5, atol=1e-6)


def _damage(folder, how, other=None):
    meta = folder / "detector.json"
    weights = folder / "model.weights.h5"
    saved = json.loads(meta.read_text())
    if how == "weights missing":
        weights.unlink()
    elif how == "weights truncated":
        weights.write_bytes(weights.read_bytes()[:1000])
    elif how == "json truncated":
        meta.write_text(meta.read_text()[:200])
    elif how == "no calibration":
        del saved["calibration"]
        meta.write_text(json.dumps(saved))
    elif how == "sample_shape":
        saved["sample_shape"] = [32, 1]
        saved.pop("weights_sha256")
        meta.write_text(json.dumps(saved))
    elif how == "latent_dim":
        saved["config"]["model"]["latent_dim"] = 3
        meta.write_text(json.dumps(saved))
    elif how == "other weights":
        shutil.copy(other / "model.weights.h5", weights)
    elif how == "nan threshold":
        meta.write_text(meta.read_text().replace(
            f'"threshold": {json.dumps(saved["calibration"]["threshold"])}', '"threshold": NaN'))


@pytest.mark.parametrize("how, message", [
    ("weights missing", "model.weights.h5 is missing: the saved detector is incomplete"),
    ("weights truncated", "is not the file saved with detector.json"),
    ("json truncated", "detector.json is not valid JSON"),
    ("no calibration", "lacks calibration"),
    ("sample_shape", "do not fit the saved config"),
    ("latent_dim", "do not fit the saved config"),
    ("other weights", "its SHA-256 differs: another model's weights"),
    ("nan threshold", "the calibration holds NaN or inf"),
])
def test_a_damaged_saved_detector_is_refused_in_one_line(fitted, beats, tmp_path, how, message):
    folder = tmp_path / "saved"
    fitted.save(str(folder))
    other = None
    if how == "other weights":
        other = tmp_path / "other"
        tfgad.Detector("test", overrides={"model.name": "aegan", "train.epochs": 1, "seed": 7},
                       verbose=0).fit(beats[0][beats[1] == 0][:60]).save(str(other))
    _damage(folder, how, other)
    with pytest.raises(UserError, match=message) as error:
        tfgad.load(str(folder))
    assert "\n" not in str(error.value)


def test_pyod_attributes_contamination_and_conformal_probabilities(beats):
    x, y = beats
    detector = tfgad.Detector("test", overrides={"model.name": "aegan", "train.epochs": 1},
                              verbose=0, contamination=0.1).fit(x[y == 0][:120])
    # decision_scores_ and labels_: the held-out validation samples' (18 of 120).
    assert detector.decision_scores_.shape == detector.labels_.shape == (18,)
    np.testing.assert_array_equal(detector.labels_,
                                  detector.decision_scores_ >= detector.threshold_)
    assert detector.calibration_["threshold_method"] == "percentile"
    assert detector.config_.detection.percentile == pytest.approx(90.0)
    # p = (1 + #{validation normal scores >= s}) / (n + 1), by hand for three scores.
    reference = np.sort(detector.decision_scores_)
    from tfgad.detection import conformal
    probe = np.array([reference[0] - 1, reference[9], reference[-1] + 1])
    expected = np.array([19, 1 + 9, 1]) / 19.0
    np.testing.assert_allclose(conformal.p_values(probe, detector.calibration_), expected)
    with pytest.raises(UserError, match=r"contamination=0.7; give the expected share"):
        tfgad.Detector("test", contamination=0.7, verbose=0).fit(x[:40])
