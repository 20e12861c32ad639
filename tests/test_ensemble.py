"""model.ensemble=k: members trained in one fit, per-member normalization, spread, export."""
import csv

import keras
import numpy as np
import pytest
import tensorflow as tf


from tfgad import data, models, priors
from tfgad import run
from tfgad.configs import default
from tfgad.detection import calibration
from tfgad.detection import scorer as scorer_lib
from tfgad.errors import UserError
from tfgad.detection import subsets


def ensemble_of(config, name, members=2):
    config.model.name = name
    config.model.ensemble = members
    keras.utils.set_random_seed(0)
    return models.build(config, (config.data.length, 1), priors.from_config(config))


def test_members_start_apart_and_train_in_one_fit(test_config):
    model = ensemble_of(test_config, "aegan")
    first, second = model.members
    assert isinstance(model, models.Ensemble) and type(first) is models.AEGAN
    assert not np.allclose(first.generator.weights[0].numpy(), second.generator.weights[0].numpy())
    before = [[v.numpy().copy() for v in m.generator.trainable_variables] for m in model.members]
    x = np.random.RandomState(0).normal(0, 0.5, (64, 64, 1)).astype("float32")
    history = model.fit(x, batch_size=32, epochs=1, verbose=0)
    assert {"m0_g_loss", "m1_g_loss", "m0_d_loss", "m1_d_loss"} <= set(history.history)
    for member, old in zip(model.members, before):  # both members were trained
        assert not np.allclose(member.generator.trainable_variables[0].numpy(), old[0])


def test_ensemble_scores_are_each_members_components_and_their_spread(test_config):
    model = ensemble_of(test_config, "bigan", members=3)
    scorer = scorer_lib.from_config(test_config, model)
    x = np.random.RandomState(1).normal(0, 0.5, (5, 64, 1)).astype("float32")
    out = {k: v.numpy() for k, v in scorer(x).items()}
    alone = [scorer_lib.from_config(test_config, m)(x) for m in model.members]
    for i, member_out in enumerate(alone):
        for name in models.BiGAN.score_components():
            np.testing.assert_allclose(out[f"{name}_m{i}"], member_out[name].numpy(), rtol=1e-6)
    residuals = np.stack([m["residual"].numpy() for m in alone])
    np.testing.assert_allclose(out["spread"], residuals.std(axis=0), rtol=1e-5)  # by hand
    np.testing.assert_allclose(out["x_hat"], alone[0]["x_hat"].numpy())  # member 0's diagnostics
    assert "residual" not in out


def detection(**fields):
    config = default.get_config()
    config.model.ensemble = 2
    config.detection.update({"combiner": "weighted", "components": "residual,feature",
                             "normalization": "zscore", "threshold": "max_mcc", **fields})
    config.detection.weights.update({"residual": 1.0, "feature": 0.5, "spread": 2.0})
    return config


def test_calibration_normalizes_each_member_then_averages_and_adds_the_spread():
    rng = np.random.default_rng(0)
    labels = np.r_[np.zeros(40, int), np.ones(10, int)]
    # Member 1's residual is member 0's on another scale: per-member z-scores make them equal.
    r0 = np.r_[rng.normal(1, 0.1, 40), rng.normal(2, 0.1, 10)]
    components = {"residual_m0": r0, "residual_m1": 100 * r0 + 5,
                  "feature_m0": rng.normal(0, 1, 50), "feature_m1": rng.normal(3, 2, 50),
                  "spread": rng.gamma(2.0, 1.0, 50)}
    calib = calibration.fit(components, labels, detection())
    assert calib["components"] == ["residual_m0", "residual_m1", "feature_m0", "feature_m1",
                                   "spread"]
    assert calib["combined_components"] == ["residual", "feature", "spread"]
    scores, _ = calibration.apply(calib, components)

    def z(v):
        return (v - v[labels == 0].mean()) / v[labels == 0].std()
    expected = (1.0 * (z(components["residual_m0"]) + z(components["residual_m1"])) / 2
                + 0.5 * (z(components["feature_m0"]) + z(components["feature_m1"])) / 2
                + 2.0 * z(components["spread"]))
    np.testing.assert_allclose(scores, expected, rtol=1e-9)
    tf_scores, tf_decisions = calibration.apply_tf(
        calib, {k: tf.constant(v, tf.float32) for k, v in components.items()})
    np.testing.assert_allclose(tf_scores.numpy(), scores, rtol=1e-5, atol=1e-5)
    # The single combiner takes the members' mean of its component, without the spread.
    single = calibration.fit(components, labels, detection(combiner="single",
                                                           single_component="residual"))
    assert single["combined_components"] == ["residual"]
    np.testing.assert_allclose(calibration.apply(single, components)[0],
                               z(components["residual_m0"]), rtol=1e-9)


def test_an_ensemble_runs_end_to_end_and_its_export_serves_the_same_scores(test_config, tmp_path):
    test_config.model.name = "gan"  # a latent-search family: each member searches
    test_config.model.ensemble = 2
    test_config.train.epochs = 1
    test_config.search.n_max = 5
    result = run.train_and_evaluate(test_config, str(tmp_path / "run"))
    assert result["calibration"]["members"] == 2
    assert result["scoring"]["scorer"] == "ensemble" and result["scoring"]["members"] == 2
    assert {"residual_m0", "residual_m1", "spread"} <= set(result["components_test"])
    header = open(tmp_path / "run" / "training_log.csv").readline()
    assert "m0_d_loss" in header and "m1_d_loss" in header
    with open(tmp_path / "run" / "scores.csv") as f:
        rows = list(csv.DictReader(f))
    splits, norm = data.load_splits(test_config, normalize=False)
    test_x = subsets.scored_subsets(test_config, splits)[1].x[:8]
    loaded = tf.saved_model.load(result["export_path"])
    served = loaded.signatures["serving_default"](x=tf.constant(test_x))
    np.testing.assert_allclose(served["score"].numpy(), [float(r["score"]) for r in rows[:8]],
                               rtol=1e-4, atol=1e-4)
    assert {"residual_m1", "spread", "score", "is_anomaly"} <= set(served)
    assert loaded.signatures["latent_search"](x=tf.constant(test_x))["z"].shape == (8, 8)


def test_an_ensemble_with_robust_training_or_a_bad_size_is_refused(test_config, tmp_path):
    test_config.model.ensemble = 0
    with pytest.raises(UserError, match="model.ensemble=0; must be >= 1"):
        run.train_and_evaluate(test_config, str(tmp_path / "a"))
    test_config.model.ensemble = 2
    test_config.train.robust.method = "trim"
    with pytest.raises(UserError, match="trains one model, not an ensemble"):
        run.train_and_evaluate(test_config, str(tmp_path / "b"))
