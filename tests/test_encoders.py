"""Inverse mappings: encoders learn to invert G, scoring returns the common dict, end to end."""
import csv

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import roc_auc_score

from tfgad import data, models, priors
from tfgad import run
from tfgad.detection import scorer as scorer_lib
from tfgad.models import scores

ENCODER_MODELS = tuple(name for name, family in models.MODELS.items() if family.HAS_ENCODER)


def build(config, name, n_critic=1):
    keras.utils.set_random_seed(0)
    config.model.name = name
    config.model.wgan_gp.n_critic = n_critic
    config.model.fanogan.encoder_epochs = 0
    return models.build(config, (config.data.length, 1), priors.from_config(config))


@pytest.fixture(scope="module")
def beats():
    from tfgad.configs import test
    config = test.get_config()
    splits, _ = data.load_splits(config)
    return splits


def inversion_error(model, n=64):
    z = model.prior.sample(n, seed=tf.constant([3, 3]))
    return float(tf.reduce_mean(tf.norm(model.encode(model.generator(z)) - z, axis=-1)))


def reconstruction_error(model, x):
    return float(tf.reduce_mean(tf.abs(x - model.generator(model.encode(x)))))


def toy_problem(test_config):
    """Series x(t) = z1 sin(2 pi t) + z2 cos(2 pi t), z ~ N(0, I_2): a 2-D linear manifold."""
    test_config.model.latent_dim, test_config.data.length = 2, 32
    rng = np.random.default_rng(0)
    z, t = rng.normal(size=(1024, 2)), np.arange(32) / 32
    return (z[:, :1] * np.sin(2 * np.pi * t) + z[:, 1:] * np.cos(2 * np.pi * t))[..., None].astype("float32")


# BiGAN learns the inverse slowly (only through the joint discriminator); ALAD's
# cycle-consistency discriminators make it much faster, as its paper argues.
@pytest.mark.parametrize("name,factor", [("bigan", 0.85), ("alad", 0.5)])
def test_adversarial_encoders_learn_to_invert_the_generator(test_config, name, factor):
    x = toy_problem(test_config)
    model = build(test_config, name)
    before = inversion_error(model, 256)
    model.fit(x, batch_size=64, epochs=60, verbose=0)
    assert inversion_error(model, 256) < factor * before


def test_fanogan_encoder_stage_inverts_a_frozen_generator(test_config):
    x = toy_problem(test_config)
    test_config.train.g_learning_rate = test_config.train.d_learning_rate = 1e-3
    test_config.train.beta_2 = 0.9
    model = build(test_config, "fanogan", n_critic=2)
    model.fit(x, batch_size=64, epochs=20, verbose=0)  # stage 1: WGAN-GP
    frozen = [v.numpy().copy() for v in model.generator_variables() + model.discriminator_variables()]
    before = inversion_error(model, 256)
    reconstruction_before = reconstruction_error(model, x[:256])
    assert model.set_stage(1)
    encoder_before = [v.numpy().copy() for v in model.encoder.trainable_variables]
    history = model.fit(x, batch_size=64, epochs=10, verbose=0)
    assert np.isfinite(history.history["e_loss"]).all()
    assert inversion_error(model, 256) < 0.8 * before
    assert reconstruction_error(model, x[:256]) < 0.6 * reconstruction_before
    for variable, value in zip(model.generator_variables() + model.discriminator_variables(), frozen):
        np.testing.assert_array_equal(variable.numpy(), value)  # G and D stay frozen
    assert all(not np.allclose(v.numpy(), b)
               for v, b in zip(model.encoder.trainable_variables, encoder_before))


@pytest.mark.parametrize("name", ["ganomaly", "aegan", "vaegan"])
def test_autoencoding_models_learn_to_reconstruct(test_config, beats, name):
    test_config.train.g_learning_rate = test_config.train.d_learning_rate = 1e-3
    model = build(test_config, name)
    x = beats["val"].x[beats["val"].y == 0]
    # An untrained network in inference mode outputs about 0: predicting zeros is the bar.
    zeros_error = float(np.abs(x).mean())
    model.fit(beats["train"].x, batch_size=32, epochs=50, verbose=0)
    assert reconstruction_error(model, x) < 0.6 * zeros_error


@pytest.mark.parametrize("name", ENCODER_MODELS)
def test_encoder_scoring_returns_the_common_dict(test_config, beats, name):
    model = build(test_config, name)
    scorer = scorer_lib.from_config(test_config, model)
    assert isinstance(scorer, scorer_lib.EncoderScorer)
    out = scorer(beats["test"].x[:10])
    assert set(scores.component_names(out)) == set(models.MODELS[name].score_components())
    for key in models.MODELS[name].score_components():
        assert out[key].shape == (10,) and np.isfinite(out[key].numpy()).all(), key
    assert out["x_hat"].shape == (10, test_config.data.length, 1)
    np.testing.assert_allclose(out["residual"].numpy(),
                               np.abs(beats["test"].x[:10] - out["x_hat"].numpy()).mean(axis=(1, 2)),
                               rtol=1e-5)


@pytest.mark.parametrize("name", sorted(models.MODELS))
def test_every_scorer_returns_exactly_the_declared_components(test_config, beats, name):
    test_config.search.n_max = 2
    model = build(test_config, name)
    for kind in ("latent_search", "auto"):
        test_config.detection.scorer = kind
        out = scorer_lib.from_config(test_config, model)(beats["test"].x[:4])
        assert set(out) - set(scores.DIAGNOSTICS) == set(model.score_components()), kind
        assert model.score_components()[:4] == scores.COMMON_COMPONENTS


def test_a_family_that_breaks_its_declaration_is_caught(test_config, beats, monkeypatch):
    model = build(test_config, "aegan")
    monkeypatch.setattr(type(model), "OWN_COMPONENTS", ("novelty",))
    with pytest.raises(ValueError, match=r"returns \[\], but OWN_COMPONENTS declares \['novelty'\]"):
        scorer_lib.EncoderScorer(model)(beats["test"].x[:4])


def test_encoder_initialized_search_starts_at_the_encoding(test_config, beats):
    model = build(test_config, "bigan")
    test_config.search.init_from_encoder = True
    test_config.search.n_max = 0  # no step: the result is E(x) itself
    test_config.detection.scorer = "latent_search"
    out = scorer_lib.from_config(test_config, model)(beats["test"].x[:8])
    np.testing.assert_allclose(out["z"].numpy(), model.encode(beats["test"].x[:8]).numpy(),
                               rtol=1e-5, atol=1e-6)
    test_config.search.n_max = 30
    refined = scorer_lib.from_config(test_config, model)(beats["test"].x[:8])
    assert (refined["search_loss"].numpy() <= out["search_loss"].numpy() + 1e-6).all()


def test_latent_search_scorer_refuses_a_missing_encoder(test_config):
    from tfgad.errors import UserError
    model = build(test_config, "gan")
    test_config.detection.scorer = "encoder"
    with pytest.raises(UserError, match="gan has none"):
        scorer_lib.from_config(test_config, model)


@pytest.mark.parametrize("name", ENCODER_MODELS)
def test_each_model_runs_end_to_end(test_config, tmp_path, name):
    test_config.model.name = name
    test_config.train.epochs = 1
    test_config.model.fanogan.encoder_epochs = 1
    test_config.model.wgan_gp.n_critic = 1
    result = run.train_and_evaluate(test_config, str(tmp_path), "all")
    assert result["test"]["auroc"] > 0.75  # one tiny epoch reaches about 0.86 on its seed
    with open(tmp_path / "scores.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == result["splits"]["test"]["samples"]
    assert roc_auc_score([int(r["label"]) for r in rows], [float(r["score"]) for r in rows]) == \
        pytest.approx(result["test"]["auroc"], abs=1e-4)
    assert set(result["components_test"]) == set(models.MODELS[name].score_components())
    assert (tmp_path / "scores.csv").exists() and (tmp_path / "report.md").exists()
    if name == "fanogan":  # both stages ran through the one fit
        header = open(tmp_path / "training_log.csv").readline()
        assert "e_loss" in header and "gp" in header


def test_vaegan_posterior_does_not_collapse(test_config, beats):
    # With the KL summed over z but reconstruction averaged over x, the posterior collapsed to
    # the prior on MIT-BIH (mean KL 0.03 nats, mu constant): the KL is now per entry of x.
    test_config.train.g_learning_rate = test_config.train.d_learning_rate = 1e-3
    test_config.model.vaegan.beta_warmup_steps = 0
    model = build(test_config, "vaegan")
    model.fit(beats["train"].x, batch_size=32, epochs=30, verbose=0)
    mean, _ = model.posterior(beats["val"].x)
    assert float(tf.reduce_mean(tf.math.reduce_std(mean, axis=0))) > 0.3


def test_encoder_scoring_times_xla_per_batch_size_and_scores_alike(test_config):
    model = build(test_config, "aegan")
    x = np.random.default_rng(0).normal(size=(6, test_config.data.length, 1)).astype("float32")
    auto = scorer_lib.EncoderScorer(model, jit_compile="auto")
    plain = scorer_lib.EncoderScorer(model, jit_compile=False)
    for rows in (1, 6):
        got, expected = auto(x[:rows]), plain(x[:rows])
        for name in ("residual", "discrimination", "feature", "latent"):
            np.testing.assert_allclose(got[name].numpy(), expected[name].numpy(), rtol=1e-5,
                                       atol=1e-6)
    choices = auto.settings()["xla_choices"]
    assert [c["rows"] for c in choices] == [1, 6]
    assert all(c["xla"] == (c["xla_ms"] < c["plain_ms"]) for c in choices)
    # Traced into a graph (as an export does), it runs plain ops and measures nothing new.
    traced = tf.function(lambda batch: auto(batch)["residual"])
    traced(tf.constant(x[:3]))
    assert [c["rows"] for c in auto.settings()["xla_choices"]] == [1, 6]
    assert plain.settings() == {"scorer": "encoder", "jit_compile": False}
