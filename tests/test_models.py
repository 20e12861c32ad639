"""One fit step per model on tiny series and images: finite losses, every weight moves."""
import keras
import numpy as np
import pytest

from tfgad import models, priors
from tfgad.errors import UserError

SHAPES = {"series": (24, 1), "image": (8, 8, 1)}


def build(test_config, name, shape, spectral_norm=False):
    test_config.model.name = name
    test_config.model.spectral_norm = spectral_norm
    test_config.model.wgan_gp.n_critic = 2
    return models.build(test_config, shape, priors.from_config(test_config))


@pytest.mark.parametrize("name", sorted(models.MODELS))
@pytest.mark.parametrize("kind", sorted(SHAPES))
def test_one_step_changes_every_weight(test_config, name, kind):
    keras.utils.set_random_seed(0)
    model = build(test_config, name, SHAPES[kind], spectral_norm=(name == "gan"))
    x = np.random.default_rng(0).normal(size=(16,) + SHAPES[kind]).astype("float32")
    # f-AnoGAN's first stage trains G and D; its encoder stage is tested in test_encoders.
    variables = model.generator_variables() + model.discriminator_variables()
    before = [v.numpy().copy() for v in variables]
    history = model.fit(x, batch_size=16, epochs=1, verbose=0)
    for name_, values in history.history.items():
        assert np.isfinite(values).all(), name_
    assert {"d_loss", "g_loss"} <= set(history.history)
    for variable, value in zip(variables, before):
        if name in ("wgan_gp", "fanogan") and variable.path.endswith("logits/bias"):
            continue  # the Wasserstein loss and the penalty ignore a constant shift of C
        assert not np.allclose(variable.numpy(), value), f"{variable.path} did not change"


def test_generator_and_discriminator_shapes(test_config):
    model = build(test_config, "gan", (30, 2))
    z = model.sample_latent(3)
    x = model(z)
    logits, features = model.discriminator(x)
    assert x.shape == (3, 30, 2) and logits.shape == (3, 1) and features.shape[0] == 3


def test_discrimination_scores_rank_fakes_higher(test_config):
    import tensorflow as tf
    logits = tf.constant([[4.0], [-4.0]])  # confident real, confident fake
    for name in models.MODELS:
        score = build(test_config, name, (24, 1)).discrimination_score(logits).numpy()
        assert score[1] > score[0]


def test_unknown_model_lists_the_known_ones(test_config):
    test_config.model.name = "stylegan"
    with pytest.raises(UserError, match="known: aegan, alad, bigan, fanogan, gan, ganomaly"):
        models.build(test_config, (24, 1), priors.from_config(test_config))


def test_weights_and_optimizer_state_round_trip(test_config, tmp_path):
    model = build(test_config, "gan", (24, 1))
    x = np.random.default_rng(1).normal(size=(16, 24, 1)).astype("float32")
    model.fit(x, batch_size=16, epochs=1, verbose=0)
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    other = build(test_config, "gan", (24, 1))
    other.load_weights(path)
    for a, b in zip(model.weights + model.d_optimizer.variables,
                    other.weights + other.d_optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
