"""Batched latent search: lowers the residual, stops per sample, restarts never hurt."""
import numpy as np
import pytest
import tensorflow as tf

from tfgad.detection.latent_search import LatentSearch
from tfgad.errors import UserError
from tfgad.models import networks
from tfgad.priors import Prior


@pytest.fixture(scope="module")
def setup():
    tf.keras.utils.set_random_seed(0)
    generator = networks.build_generator((32, 1), 4, base_filters=8, num_blocks=2)
    prior = Prior("normal", 4)
    z_true = prior.sample(8, seed=tf.constant([1, 2]))
    return generator, prior, z_true, generator(z_true, training=False)


def residual(x, x_hat):
    return np.abs(np.asarray(x) - np.asarray(x_hat)).mean(axis=(1, 2))


@pytest.mark.parametrize("jit", [False, True])
def test_search_lowers_the_residual(setup, jit):
    generator, prior, _, x = setup
    search = LatentSearch(generator, prior, n_max=150, learning_rate=0.05, jit_compile=jit)
    start = search.starts(1, 8, tf.constant([5, 6]))  # the start the search draws for this seed
    before = residual(x, generator(start, training=False))
    out = search(x, seed=(5, 6))
    after = residual(x, out["x_hat"])
    assert out["z"].shape == (8, 4) and out["x_hat"].shape == (8, 32, 1)
    assert out["loss"].shape == (8,) and out["iterations"].dtype == tf.int32
    np.testing.assert_allclose(out["loss"].numpy(), after, rtol=1e-4)
    assert (after < before).all()
    assert after.mean() < 0.5 * before.mean()


def test_each_sample_stops_on_its_own(setup):
    generator, prior, z_true, x = setup
    # Half the batch starts at its true code (loss 0, already at target), half far away.
    far = prior.project(-z_true[4:] * 2.0)
    z_init = tf.concat([z_true[:4], far], axis=0)
    search = LatentSearch(generator, prior, n_max=300, eps=1e-3)
    out = search(x, z_init=z_init)
    iterations = out["iterations"].numpy()
    np.testing.assert_array_equal(iterations[:4], 0)
    assert (iterations[4:] > 0).all()
    assert (out["loss"].numpy()[:4] < 1e-3).all()


def test_results_do_not_depend_on_the_batch(setup):
    generator, prior, _, x = setup
    search = LatentSearch(generator, prior, n_max=40, restarts=2)
    whole = search(x, seed=(1, 2))
    parts = [search(x[i:i + 3], seed=(1, 2)) for i in range(0, 8, 3)]
    np.testing.assert_allclose(np.concatenate([p["loss"].numpy() for p in parts]),
                               whole["loss"].numpy(), rtol=1e-4, atol=1e-6)


def test_n_max_bounds_the_iterations(setup):
    generator, prior, _, x = setup
    out = LatentSearch(generator, prior, n_max=7)(x, seed=(1, 1))
    assert out["iterations"].numpy().max() == 7


def test_restarts_never_make_a_sample_worse(setup):
    generator, prior, _, x = setup
    start = prior.sample(8, seed=tf.constant([9, 9]))
    single = LatentSearch(generator, prior, n_max=30, restarts=1)(x, z_init=start)
    multi = LatentSearch(generator, prior, n_max=30, restarts=4)(x, seed=(3, 4), z_init=start)
    assert (multi["loss"].numpy() <= single["loss"].numpy() + 1e-7).all()


def test_truncated_prior_keeps_z_in_its_support(setup):
    generator, _, _, x = setup
    prior = Prior("truncated_normal", 4, truncation=0.5)
    out = LatentSearch(generator, prior, n_max=50, learning_rate=0.5)(x, seed=(1, 2))
    assert np.abs(out["z"].numpy()).max() <= 0.5 + 1e-6


def test_chi_penalty_pulls_norms_to_the_chi_mode():
    # A generator that ignores z leaves the chi-norm penalty as the only force on z.
    constant = lambda z, training=False: tf.zeros([tf.shape(z)[0], 32, 1]) + 0.0 * z[:, :1, None]
    prior = Prior("normal", 4)
    x = tf.zeros([8, 32, 1])
    start = prior.sample(8, seed=tf.constant([4, 4])) * 4.0  # atypically large norms
    free = LatentSearch(constant, prior, n_max=300)(x, z_init=start)
    held = LatentSearch(constant, prior, n_max=800, chi_weight=1.0)(x, z_init=start)
    np.testing.assert_allclose(free["z"].numpy(), start.numpy())
    # -log chi_4(r) is smallest at r = sqrt(d - 1).
    np.testing.assert_allclose(np.linalg.norm(held["z"].numpy(), axis=1), np.sqrt(3.0), atol=0.05)


def test_bad_settings_are_named():
    generator = networks.build_generator((32, 1), 4, base_filters=8, num_blocks=2)
    with pytest.raises(UserError, match="known: l1, l2"):
        LatentSearch(generator, Prior("normal", 4), distance="cosine")
    with pytest.raises(UserError, match="restarts"):
        LatentSearch(generator, Prior("normal", 4), restarts=0)
