"""tfgad.Detector: fit on numpy arrays, score, save/load, export; the export scores the same."""
import numpy as np
import pytest

import tfgad
from tfgad import data
from tfgad.errors import UserError


@pytest.fixture(scope="module")
def beats():
    """The test config's synthetic beats as plain arrays: normal training beats, labelled
    validation and test beats."""
    from tfgad.configs import test
    samples = data.load_source(test.get_config())
    rng = np.random.default_rng(0)
    normal, anomalous = rng.permutation(np.flatnonzero(samples.y == 0)), np.flatnonzero(samples.y)
    train, val, test_rows = normal[:120], np.r_[normal[120:150], anomalous[:15]], \
        np.r_[normal[150:], anomalous[15:]]
    return {"x": samples.x[train, :, 0], "x_val": samples.x[val], "y_val": samples.y[val],
            "x_test": samples.x[test_rows], "y_test": samples.y[test_rows]}


@pytest.mark.parametrize("family", ["aegan", "gan"])  # an encoder, a latent search
def test_a_notebook_fits_scores_exports_and_the_export_scores_the_same(beats, tmp_path, family):
    # The notebook: fit on numpy arrays, score, export, load the export.
    detector = tfgad.Detector("test", overrides={"model.name": family}, verbose=0)
    detector.fit(beats["x"], x_val=beats["x_val"], y_val=beats["y_val"])
    scores = detector.decision_function(beats["x_test"])
    flags = detector.predict(beats["x_test"])
    path = detector.export(str(tmp_path / "saved_models" / "ecg"))
    served = tfgad.load(path)

    assert scores.shape == flags.shape == (len(beats["x_test"]),)
    assert set(np.unique(flags)) <= {0, 1}
    np.testing.assert_array_equal(flags, (scores >= detector.threshold_).astype(np.int8))
    from sklearn.metrics import roc_auc_score
    assert roc_auc_score(beats["y_test"], scores) > 0.7  # it detects, not only runs
    np.testing.assert_allclose(served.decision_function(beats["x_test"]), scores, rtol=1e-4,
                               atol=1e-4)
    np.testing.assert_array_equal(served.predict(beats["x_test"]), flags)
    assert served.threshold_ == pytest.approx(detector.threshold_)
    result = detector.score(beats["x_test"][:5])
    assert set(result.components) == set(served.score(beats["x_test"][:5]).components)
    assert path.endswith("ecg/1")


def test_save_and_load_round_trip_and_one_class_fit_uses_a_percentile(beats, tmp_path):
    detector = tfgad.Detector("test", overrides={"model.name": "aegan"}, verbose=0)
    detector.fit(beats["x"])  # no validation given: a held-out share of x, all normal
    assert detector.calibration_["combiner"]["kind"] == "weighted"
    assert detector.calibration_["threshold_method"] == "percentile"
    assert detector.calibration_["fit_on"]["anomalies"] == 0
    # The held-out 15 % of the 120 training beats: never trained on.
    assert detector.calibration_["fit_on"]["samples"] == 18
    # Other settings refit on the same validation outputs; the detector keeps its own.
    assert detector.calibration_with({})["threshold"] == detector.threshold_
    stricter = detector.calibration_with({"detection.percentile": 99.0})
    assert stricter["threshold"] > detector.threshold_
    assert detector.calibration_["threshold"] == detector.threshold_
    loaded = tfgad.load(detector.save(str(tmp_path / "saved")))
    assert isinstance(loaded, tfgad.Detector) and loaded.threshold_ == detector.threshold_
    np.testing.assert_allclose(loaded.decision_function(beats["x_test"]),
                               detector.decision_function(beats["x_test"]), rtol=1e-5)
    with pytest.raises(UserError, match="holds no validation outputs"):
        loaded.calibration_with({})


def test_bad_calls_get_one_line_that_names_the_fix(beats):
    detector = tfgad.Detector("test", verbose=0)
    with pytest.raises(UserError, match="not fitted yet; call fit"):
        detector.predict(beats["x_test"])
    with pytest.raises(UserError, match="config has no field train.epoch; did you mean "
                                        "train.epochs"):
        tfgad.Detector("test", overrides={"train.epoch": 3}).fit(beats["x"])  # checked at fit
    with pytest.raises(UserError, match="y_val holds values other than 0"):
        detector.fit(beats["x"], x_val=beats["x_val"], y_val=beats["y_val"] * 2)
    with pytest.raises(UserError, match=r"x_val samples have shape \(32, 1\); the model expects "
                                        r"\(64, 1\)"):
        detector.fit(beats["x"], x_val=beats["x_val"][:, :32])
    with pytest.raises(UserError, match="x samples: 1 samples hold NaN"):
        detector.fit(np.where(np.arange(120)[:, None] == 3, np.nan, beats["x"]))
    with pytest.raises(UserError, match="x samples have dtype complex64; the model needs real numbers"):
        detector.fit(beats["x"] + 1j)


def test_record_normalized_scores_are_the_same_from_the_detector_and_its_export(beats, tmp_path):
    detector = tfgad.Detector("test", overrides={"model.name": "aegan",
                                                 "detection.record_normalization": "robust"},
                              verbose=0)
    groups = np.arange(len(beats["x"])) % 4  # four records: validation takes whole ones
    detector.fit(beats["x"], groups=groups)
    assert detector.calibration_["record_normalization"] == "robust"
    record = beats["x_test"]
    scores = detector.decision_function(record)  # one record
    served = tfgad.load(detector.export(str(tmp_path / "saved_models" / "ecg")))
    assert served.record_normalization == "robust"
    # Small batches: the loaded export still composes the whole call as one record.
    np.testing.assert_allclose(served.score(record, batch_size=16).score, scores, rtol=1e-4,
                               atol=1e-4)
    # Two records scored apart give other scores than the two as one record.
    halves = np.r_[np.zeros(len(record) // 2), np.ones(len(record) - len(record) // 2)]
    assert not np.allclose(detector.score(record, groups=halves).score, scores)
    # Streamed, the same record is scored causally; its first beats warm up.
    streamed = detector.score(record, stream=True)
    warmup = detector.calibration_["stream"]["warmup"]
    assert list(streamed.baseline[:warmup + 1]) == ["warming_up"] * warmup + ["stream"]
    assert list(detector.score(record).baseline) == ["record"] * len(record)


def test_an_amortized_search_is_fit_saved_exported_and_served_alike(beats, tmp_path):
    overrides = {"model.name": "gan", "model.inverse": True, "model.inverse_steps": 200,
                 "search.init": "amortized", "search.n_max": 5, "search.stop_patience": 3,
                 "search.budgets": "0,10"}  # n_max: neither budget, so the choice must travel
    detector = tfgad.Detector("test", overrides=overrides, verbose=0)
    detector.fit(beats["x"], x_val=beats["x_val"], y_val=beats["y_val"])
    assert int(detector.model_.inverse_fitted.numpy()) == 1
    # Validation chose the budget whose residual ranked its anomalies best, and scores with it.
    chosen = detector.calibration_["search_budget"]
    aurocs = {int(b): a for b, a in chosen["auroc_by_budget"].items()}
    assert set(aurocs) == {0, 10} and chosen["n_max"] == max(aurocs, key=aurocs.get)
    settings = detector.scorer_settings()
    assert settings["init"] == "amortized" and settings["search"]["stop_patience"] == 3
    assert settings["search"]["n_max"] == chosen["n_max"]
    scores = detector.decision_function(beats["x_test"])
    # The inverse inverts G: on G's own samples, G(I(x)) is nearer x than a draw's G(z').
    model = detector.model_
    x = model.generator(model.prior.sample(64, seed=[3, 4])).numpy()
    at_inverse = np.abs(model.generator(model.inverse(x)).numpy() - x).mean()
    at_prior = np.abs(model.generator(model.prior.sample(64, seed=[5, 6])).numpy() - x).mean()
    assert at_inverse < 0.7 * at_prior
    loaded = tfgad.load(detector.save(str(tmp_path / "saved")))
    np.testing.assert_allclose(loaded.decision_function(beats["x_test"]), scores, rtol=1e-5,
                               atol=1e-6)
    served = tfgad.load(detector.export(str(tmp_path / "saved_models" / "gan")))
    np.testing.assert_allclose(served.decision_function(beats["x_test"]), scores, rtol=1e-4,
                               atol=1e-4)


def test_amortized_settings_that_cannot_work_are_named(beats):
    with pytest.raises(UserError, match="search.init=amortized starts at the inverse that "
                                        "model.inverse=True fits"):
        tfgad.Detector("test", overrides={"search.init": "amortized"}, verbose=0).fit(beats["x"])
    with pytest.raises(UserError, match="model.inverse is for the latent-search families; aegan "
                                        "has an encoder"):
        tfgad.Detector("test", overrides={"model.name": "aegan", "model.inverse": True},
                       verbose=0).fit(beats["x"])
