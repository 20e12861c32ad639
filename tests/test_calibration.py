"""Score normalization, combiners, thresholds and the TF evaluation of a saved calibration."""
import csv
import json

import numpy as np
import pytest
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.svm import SVC

from tfgad.configs import default
from tfgad import data
from tfgad.training import train_lib
from tfgad import run
from tfgad.data import splits as splits_lib
from tfgad.detection import calibration, combiners, normalize, record_context
from tfgad.detection import scorer as scorer_lib
from tfgad.evaluation import metrics
from tfgad.errors import UserError

RNG = np.random.default_rng(0)


def config(**detection):
    c = default.get_config()
    c.detection.normalization = "none"
    for key, value in detection.items():
        setattr(c.detection, key, value)
    return c


def test_zscore_and_minmax_use_normal_samples_only():
    m = np.array([[1.0, 10.0], [3.0, 30.0], [100.0, -50.0]])
    labels = np.array([0, 0, 1])
    shift, scale = normalize.fit(m, labels, "zscore")
    np.testing.assert_allclose(shift, [2.0, 20.0])
    np.testing.assert_allclose(scale, [1.0, 10.0])
    shift, scale = normalize.fit(m, labels, "minmax")
    np.testing.assert_allclose(shift, [1.0, 10.0])
    np.testing.assert_allclose(scale, [2.0, 20.0])


def test_simplex_enumerates_every_weight_vector():
    w = combiners.simplex(3, 0.5)
    assert sorted(map(tuple, w)) == sorted([(1, 0, 0), (0, 1, 0), (0, 0, 1), (0.5, 0.5, 0),
                                            (0.5, 0, 0.5), (0, 0.5, 0.5)])
    with pytest.raises(UserError, match="must divide 1"):
        combiners.simplex(3, 0.3)


def test_grid_finds_the_one_informative_component():
    labels = np.r_[np.zeros(80), np.ones(20)].astype(int)
    informative = labels + RNG.normal(0, 0.1, 100)
    noise = RNG.normal(0, 1, 100)
    comps = {"residual": noise, "feature": informative}
    calib = calibration.fit(comps, labels, config(combiner="grid", components="residual,feature"))
    assert calib["combiner"]["weights"] == [0.0, 1.0]
    assert calib["combiner"]["metric_value"] == pytest.approx(1.0)
    scores, decided = calibration.apply(calib, comps)
    assert f1_score(labels, decided) == pytest.approx(1.0)


def test_grid_finds_equal_weights_when_the_sum_separates():
    # Anomalies have a + b > 1, normal samples a + b < 0.8; neither part alone separates.
    a, b = RNG.uniform(0, 1, 400), RNG.uniform(0, 1, 400)
    keep = (a + b > 1.0) | (a + b < 0.8)
    a, b = a[keep], b[keep]
    labels = (a + b > 1.0).astype(int)
    comps = {"residual": a, "latent": b}
    calib = calibration.fit(comps, labels, config(combiner="grid", components="residual,latent",
                                                  grid_step=0.1))
    np.testing.assert_allclose(calib["combiner"]["weights"], [0.5, 0.5])
    # The best cut sits at the lowest anomalous score (a + b) / 2, just above 0.5.
    assert calib["threshold"] == pytest.approx(((a + b) / 2)[labels == 1].min())
    assert calib["combiner"]["metric_value"] == pytest.approx(1.0)


def xor_data(n=400):
    x = RNG.uniform(-1, 1, (n, 2))
    x = x[np.abs(x).min(axis=1) > 0.1]  # a margin around the axes
    return x, ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(int)


def test_svm_separates_xor_where_no_linear_weighting_can():
    x, labels = xor_data()
    comps = {"residual": x[:, 0], "latent": x[:, 1]}
    grid = calibration.fit(comps, labels, config(combiner="grid", components="residual,latent"))
    svm = calibration.fit(comps, labels, config(combiner="svm", components="residual,latent",
                                                svm_c=10.0, svm_gamma=2.0))
    svm_scores, svm_decided = calibration.apply(svm, comps)
    assert roc_auc_score(labels, svm_scores) > 0.98
    assert f1_score(labels, svm_decided) > 0.95
    # No weighting on the simplex ranks XOR better than chance; flagging everything gives F1 2/3.
    linear_aurocs = [roc_auc_score(labels, x @ w) for w in combiners.simplex(2, 0.1)]
    assert max(linear_aurocs) < 0.65
    assert grid["combiner"]["metric_value"] < 0.85


def test_tf_evaluation_of_a_saved_svm_equals_scikit_learn(tmp_path):
    x, labels = xor_data()
    comps = {"residual": x[:, 0] * 3 + 1, "latent": x[:, 1] * 0.5}
    c = config(combiner="svm", components="residual,latent", normalization="zscore", svm_c=3.0)
    calib = calibration.fit(comps, labels, c)
    calibration.save(calib, str(tmp_path / "calibration.json"))
    loaded = calibration.load(str(tmp_path / "calibration.json"))
    z = normalize.apply(calibration.matrix(comps, loaded["components"]),
                        loaded["normalization"]["shift"], loaded["normalization"]["scale"])
    reference = SVC(kernel="rbf", C=3.0, gamma="scale", class_weight="balanced").fit(z, labels)
    tf_scores, tf_decided = calibration.apply_tf(
        loaded, {k: v.astype(np.float32) for k, v in comps.items()})
    np.testing.assert_allclose(tf_scores.numpy(), reference.decision_function(z), rtol=1e-4, atol=1e-4)
    np_scores, np_decided = calibration.apply(loaded, comps)
    np.testing.assert_allclose(tf_scores.numpy(), np_scores, rtol=1e-4, atol=1e-4)
    agree = tf_decided.numpy() == np_decided.astype(bool)
    assert agree.mean() > 0.99  # float32 inputs may flip a sample exactly at the threshold


def test_boosted_trees_separate_xor_and_evaluate_as_scikit_learn_does(tmp_path):
    from sklearn.ensemble import HistGradientBoostingClassifier
    x, labels = xor_data()
    comps = {"residual": x[:, 0] * 3 + 1, "latent": x[:, 1] * 0.5}
    c = config(combiner="boosted", components="residual,latent", normalization="zscore")
    calibration.save(calibration.fit(comps, labels, c), str(tmp_path / "calibration.json"))
    loaded = calibration.load(str(tmp_path / "calibration.json"))  # through JSON
    z = normalize.apply(calibration.matrix(comps, loaded["components"]),
                        loaded["normalization"]["shift"], loaded["normalization"]["scale"])
    reference = HistGradientBoostingClassifier(random_state=c.seed).fit(z, labels)
    np_scores, np_decided = calibration.apply(loaded, comps)
    np.testing.assert_allclose(np_scores, reference.decision_function(z), rtol=1e-9, atol=1e-9)
    tf_scores, _ = calibration.apply_tf(loaded, comps)
    np.testing.assert_allclose(tf_scores.numpy(), np_scores, rtol=1e-5, atol=1e-5)
    assert roc_auc_score(labels, np_scores) > 0.98 and f1_score(labels, np_decided) > 0.95
    assert len(loaded["combiner"]["feature"]) == reference.n_iter_


def test_a_fitted_combiner_gets_its_threshold_from_out_of_fold_scores():
    rng = np.random.default_rng(3)
    comps = {"residual": rng.normal(size=200), "latent": rng.normal(size=200)}
    labels = (rng.uniform(size=200) < 0.3).astype(int)  # no signal at all
    # An SVM this sharp memorizes validation: its own scores separate it perfectly.
    c = config(combiner="svm", components="residual,latent", svm_c=1000.0, svm_gamma=500.0,
               threshold_folds=0)
    in_sample = calibration.fit(comps, labels, c)
    assert f1_score(labels, calibration.apply(in_sample, comps)[1]) == 1.0
    assert in_sample["threshold_reason"].endswith("fit on the combined validation scores")
    c.detection.threshold_folds = 5
    cross_fit = calibration.fit(comps, labels, c)
    assert cross_fit["threshold_reason"].endswith("out-of-fold validation scores (5 folds)")
    assert cross_fit["combiner"] == in_sample["combiner"]  # the saved combiner: all of validation
    z = calibration.matrix(comps, ["residual", "latent"])
    scores, described = calibration.threshold_scores(c, z, labels, cross_fit)
    assert described == "out-of-fold validation scores (5 folds)"
    assert abs(np.corrcoef(scores, labels)[0, 1]) < 0.3  # what memorizing is worth on new rows
    assert cross_fit["threshold"] != in_sample["threshold"]


def test_tf_evaluation_of_weighted_calibration():
    comps = {"residual": RNG.normal(size=50), "feature": RNG.normal(size=50)}
    labels = (comps["residual"] > 1).astype(int)
    calib = calibration.fit(comps, labels, config(components="residual,feature",
                                                  normalization="minmax",
                                                  weights={"residual": 0.7, "feature": 0.3}))
    tf_scores, _ = calibration.apply_tf(calib, comps)
    np.testing.assert_allclose(tf_scores.numpy(), calibration.apply(calib, comps)[0], rtol=1e-5)


def test_record_normalized_calibration_fits_per_record_and_serves_rows_by_their_baseline():
    # Two records whose normal level differs by 5: raw scores mix them, per record they align.
    offset = np.r_[np.zeros(60), 5 * np.ones(60)]
    labels = np.r_[np.zeros(55), np.ones(5), np.zeros(55), np.ones(5)].astype(int)
    comps = {"residual": offset + RNG.normal(size=120) + 4 * labels}
    groups = np.r_[np.zeros(60), np.ones(60)]
    settings = dict(components="residual", weights={"residual": 1.0})
    raw = calibration.fit(comps, labels, config(**settings))
    robust = calibration.fit(comps, labels, config(record_normalization="robust", **settings),
                             groups=groups)
    assert robust["record_normalization"] == "robust"
    raw_auroc = roc_auc_score(labels, calibration.apply(raw, comps)[0])
    robust_auroc = roc_auc_score(labels, calibration.apply(robust, comps, groups)[0])
    assert robust_auroc > 0.99 and raw_auroc < 0.9
    one_record = {"residual": comps["residual"][60:]}
    base = record_context.robust_baseline(one_record["residual"][:, None])
    rows = (np.tile(base.location, (60, 1)), np.tile(base.scale, (60, 1)))
    tf_scores, tf_flags = calibration.apply_tf(robust, one_record, rows)
    np_scores, np_flags = calibration.apply(robust, one_record)
    np.testing.assert_allclose(tf_scores.numpy(), np_scores, rtol=1e-5, atol=1e-6)
    # The global calibration beside it scores beats that have no record baseline yet.
    assert robust["global"]["record_normalization"] == "none"
    assert robust["stream"] == {"window": 256, "warmup": 16}
    np.testing.assert_array_equal(tf_flags.numpy(), np_flags.astype(bool))
    with pytest.raises(UserError, match="unknown detection.record_normalization 'median'"):
        calibration.fit(comps, labels, config(record_normalization="median", **settings))


def test_grid_and_svm_need_anomalies_in_validation():
    comps = {"residual": RNG.normal(size=30), "feature": RNG.normal(size=30)}
    for combiner in combiners.FITTED:
        with pytest.raises(UserError, match="holds only one class"):
            calibration.fit(comps, np.zeros(30, int),
                            config(combiner=combiner, components="residual,feature"))
    calib = calibration.fit(comps, np.zeros(30, int), config(
        threshold="percentile", percentile=90.0, components="residual,feature"))
    scores, _ = calibration.apply(calib, comps)
    assert (scores >= calib["threshold"]).mean() == pytest.approx(0.1, abs=0.04)


def test_missing_components_and_zero_weights_are_named():
    comps = {"residual": RNG.normal(size=10)}
    with pytest.raises(UserError, match=r"returns no \['latent'\]"):
        calibration.fit(comps, np.zeros(10, int), config(components="residual,latent"))
    with pytest.raises(UserError, match="is 0"):
        calibration.fit(comps, np.r_[np.zeros(5), np.ones(5)].astype(int),
                        config(components="residual", weights={"residual": 0.0}))


@pytest.fixture(scope="module")
def trained_workdir(tmp_path_factory):
    from tfgad.configs import test
    c = test.get_config()
    c.detection.monitor_every = 1
    workdir = str(tmp_path_factory.mktemp("calibrated"))
    run.train_and_evaluate(c, workdir, "train")
    return c, workdir


def test_monitor_searches_from_the_prior_while_the_amortized_inverse_is_not_fit(tmp_path):
    # The quick start's config (search.init=amortized) fits the inverse after training only.
    from tfgad.configs import test
    c = test.get_config()
    c.detection.monitor_every, c.train.epochs = 1, 1
    c.model.inverse, c.model.inverse_steps, c.search.init = True, 5, "amortized"
    run.train_and_evaluate(c, str(tmp_path), "train")
    with open(tmp_path / "training_log.csv") as f:
        (row,) = list(csv.DictReader(f))
    assert 0.0 <= float(row["val_auroc_residual"]) <= 1.0


def test_monitor_logs_auroc_per_component_in_the_training_log(trained_workdir):
    c, workdir = trained_workdir
    with open(f"{workdir}/training_log.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == c.train.epochs
    assert {"val_auroc_residual", "val_auroc_latent", "val_auroc_combined"} <= set(rows[0])
    # The last row holds what the final weights give on the monitor's validation samples.
    splits, _ = data.load_splits(c)
    model = train_lib.load_trained(c, workdir, splits["train"].x.shape[1:])
    monitored = splits_lib.stratified_subset(splits["val"], c.detection.monitor_samples, c.seed)
    out = scorer_lib.score_samples(scorer_lib.from_config(c, model), monitored.x,
                                   c.detection.batch_size, c.seed)
    for name in ("residual", "latent", "feature", "discrimination"):
        expected = metrics.ranking(monitored.y, out[name])["auroc"]
        assert float(rows[-1][f"val_auroc_{name}"]) == pytest.approx(expected, abs=1e-3), name
    assert float(rows[-1]["val_auroc_combined"]) > 0.5


def test_test_split_never_reaches_the_calibration(trained_workdir, monkeypatch):
    c, workdir = trained_workdir
    c.detection.combiner = "grid"
    seen = []
    real_fit = calibration.fit
    monkeypatch.setattr(calibration, "fit", lambda comps, labels, *a: (
        seen.append(np.asarray(labels).copy()) or real_fit(comps, labels, *a)))
    result = run.train_and_evaluate(c, workdir, "detect")
    splits, _ = data.load_splits(c)
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], splits["val"].y)
    assert result["splits"]["val"]["samples"] == len(splits["val"])
    saved = json.load(open(f"{workdir}/calibration.json"))
    assert saved["fit_on"] == {"split": "validation", "samples": len(splits["val"]),
                               "anomalies": int(splits["val"].y.sum())}


@pytest.mark.parametrize("combiner", ["grid", "svm", "boosted", "single"])
def test_combiners_run_end_to_end_and_report(trained_workdir, combiner):
    c, workdir = trained_workdir
    c.detection.combiner = combiner
    result = run.train_and_evaluate(c, workdir, "detect")
    assert json.load(open(f"{workdir}/calibration.json"))["combiner"]["kind"] == combiner
    report = open(f"{workdir}/report.md").read()
    assert f"Combiner `{combiner}`" in report and "| **combined** |" in report
    assert set(result["components_val"]) == {"residual", "discrimination", "feature", "latent"}


def test_one_class_validation_works_with_percentile(trained_workdir):
    c, workdir = trained_workdir
    c.data.anomaly_val_fraction = 0.0
    c.detection.combiner, c.detection.threshold = "weighted", "percentile"
    result = run.train_and_evaluate(c, workdir, "detect")
    assert result["splits"]["val"]["anomalies"] == 0
    # The 95th percentile of normal validation scores flags about 5 % of them, at least one.
    normals = result["splits"]["val"]["samples"]
    assert 1 <= result["val"]["fp"] <= int(np.ceil(0.05 * normals)) + 1
    assert result["test"]["auroc"] > 0.75
    c.detection.combiner = "grid"
    with pytest.raises(UserError, match="holds no anomaly, but detection.combiner=grid fit on"):
        run.train_and_evaluate(c, workdir, "detect")


@pytest.mark.parametrize("normalization", ["none", "minmax", "zscore"])
@pytest.mark.parametrize("combiner", combiners.KINDS)
def test_numpy_and_tensorflow_evaluations_of_a_calibration_agree(combiner, normalization):
    rng = np.random.default_rng(7)  # its own draws: the data must not depend on test order
    labels = (rng.uniform(size=300) < 0.3).astype(int)
    comps = {"residual": rng.normal(size=300) * 3 + 1 + 2 * labels,
             "latent": rng.normal(size=300) * 0.5 + labels}
    calib = calibration.fit(comps, labels, config(
        combiner=combiner, normalization=normalization, components="residual,latent",
        single_component="latent", weights={"residual": 0.4, "latent": 0.6}))
    np_scores, np_decided = calibration.apply(calib, comps)
    tf_scores, tf_decided = calibration.apply_tf(calib, comps)
    np.testing.assert_allclose(tf_scores.numpy(), np_scores, rtol=1e-5, atol=1e-5)
    # The threshold is one validation sample's score: that sample sits on the boundary, where
    # the last bit decides; every other decision must agree.
    clear = np.abs(np_scores - calib["threshold"]) > 1e-9 * max(1.0, abs(calib["threshold"]))
    np.testing.assert_array_equal(tf_decided.numpy()[clear], np_decided.astype(bool)[clear])
    assert clear.sum() >= len(clear) - 1
    assert 0 < np_decided.sum() < len(np_decided)  # a threshold inside the scores' range
