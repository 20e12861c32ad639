"""Losses and score components against hand-computed numbers, eagerly and under tf.function."""
import math

import numpy as np
import pytest
import tensorflow as tf

from tfgad.models import scores
from tfgad.models import losses
from tfgad.priors import Prior


def both_modes(fn):
    """The function itself and its tf.function form; both must give the same numbers."""
    return [fn, tf.function(fn)]


@pytest.mark.parametrize("mode", [0, 1])
def test_residual_is_mean_absolute_error_per_sample(mode):
    x = tf.constant([[[1.0], [2.0]], [[0.0], [0.0]]])
    x_hat = tf.constant([[[0.0], [4.0]], [[0.5], [-0.5]]])
    got = both_modes(scores.residual)[mode](x, x_hat).numpy()
    np.testing.assert_allclose(got, [1.5, 0.5])


def test_discrimination_is_bce_against_real():
    logits = tf.constant([[0.0], [2.0], [-3.0]])
    expected = [math.log(2.0), math.log(1 + math.exp(-2.0)), math.log(1 + math.exp(3.0))]
    np.testing.assert_allclose(scores.discrimination_bce(logits).numpy(), expected, rtol=1e-6)


def test_feature_matching_per_sample():
    f = tf.constant([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    g = tf.constant([[1.0, 0.0, 6.0], [1.0, 1.0, 1.0]])
    np.testing.assert_allclose(scores.feature_matching(f, g).numpy(), [5.0 / 3.0, 1.0])


def test_latent_score_is_negative_chi_log_density():
    prior = Prior("normal", 2)
    z = tf.constant([[3.0, 4.0]])  # ||z|| = 5; chi(2) density r exp(-r^2 / 2)
    expected = -(math.log(5.0) - 12.5)
    np.testing.assert_allclose(scores.latent(z, prior).numpy(), [expected], rtol=1e-5)


@pytest.mark.parametrize("mode", [0, 1])
def test_gan_losses(mode):
    real, fake = tf.constant([[0.0], [0.0]]), tf.constant([[0.0], [0.0]])
    d = both_modes(losses.discriminator_bce)[mode](real, fake).numpy()
    g = both_modes(losses.generator_nonsaturating)[mode](fake).numpy()
    np.testing.assert_allclose(d, 2 * math.log(2.0), rtol=1e-6)
    np.testing.assert_allclose(g, math.log(2.0), rtol=1e-6)


def test_wasserstein_losses():
    real, fake = tf.constant([[3.0], [1.0]]), tf.constant([[0.0], [-2.0]])
    assert losses.critic_wasserstein(real, fake).numpy() == pytest.approx(-3.0)
    assert losses.generator_wasserstein(fake).numpy() == pytest.approx(1.0)


@pytest.mark.parametrize("mode", [0, 1])
def test_gradient_penalty_of_a_linear_critic(mode):
    # C(x) = sum(w * x) has gradient w everywhere: penalty (||w|| - 1)^2 = (5 - 1)^2.
    w = tf.constant([[3.0], [4.0]])
    critic = lambda x: tf.reduce_sum(x * w, axis=[1, 2])[:, None]
    real, fake = tf.random.normal([4, 2, 1]), tf.random.normal([4, 2, 1])
    alpha = tf.constant([0.0, 0.3, 0.7, 1.0])
    fn = both_modes(lambda r, f, a: losses.gradient_penalty(critic, r, f, a))[mode]
    assert fn(real, fake, alpha).numpy() == pytest.approx(16.0, rel=1e-5)


def test_gradient_penalty_is_finite_where_the_gradient_vanishes():
    # C(x) = sum(x^2) has gradient 2x, which vanishes at x = 0: the norm's sqrt has an infinite
    # slope there, and only the epsilon inside it keeps the penalty's gradient finite.
    critic = lambda x: tf.reduce_sum(tf.square(x), axis=[1, 2])[:, None]
    real = tf.zeros([2, 3, 1])
    with tf.GradientTape() as tape:
        tape.watch(real)
        gp = losses.gradient_penalty(critic, real, real, tf.constant([0.5, 0.5]))
    assert gp.numpy() == pytest.approx(1.0, abs=1e-5)
    grad = tape.gradient(gp, real)
    assert grad is not None, "the penalty must depend on the samples"
    assert np.isfinite(grad.numpy()).all()
