"""TFP priors: log-probabilities against scipy, support, projection, the chi norm model."""
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

from tfgad.errors import UserError
from tfgad.priors import Prior

Z = np.array([[0.1, -0.5, 1.5], [-1.9, 0.0, 0.7]], np.float32)


def test_normal_log_prob_matches_scipy():
    got = Prior("normal", 3).log_prob(Z).numpy()
    np.testing.assert_allclose(got, stats.norm.logpdf(Z).sum(1), rtol=1e-5)


def test_uniform_log_prob_matches_scipy():
    z = Z / 2.0
    got = Prior("uniform", 3).log_prob(z).numpy()
    np.testing.assert_allclose(got, stats.uniform(-1, 2).logpdf(z).sum(1), rtol=1e-5)


def test_truncated_normal_log_prob_matches_scipy():
    got = Prior("truncated_normal", 3, truncation=2.0).log_prob(Z).numpy()
    np.testing.assert_allclose(got, stats.truncnorm(-2, 2).logpdf(Z).sum(1), rtol=1e-5)


def test_chi_norm_log_prob_matches_scipy():
    norms = np.linalg.norm(Z, axis=1)
    got = Prior("normal", 3).norm_log_prob(Z).numpy()
    np.testing.assert_allclose(got, stats.chi(3).logpdf(norms), rtol=1e-5)


def test_scaled_chi_for_the_uniform_prior():
    prior = Prior("uniform", 3)
    s = 1 / np.sqrt(3.0)  # std of U(-1, 1)
    norms = np.linalg.norm(Z / 2, axis=1)
    np.testing.assert_allclose(prior.norm_log_prob(Z / 2).numpy(),
                               stats.chi(3, scale=s).logpdf(norms), rtol=1e-5)


@pytest.mark.parametrize("name,bound", [("uniform", 1.0), ("truncated_normal", 1.5)])
def test_samples_stay_in_the_support_and_projection_clips(name, bound):
    prior = Prior(name, 4, truncation=1.5)
    z = prior.sample(2000, seed=tf.constant([1, 2])).numpy()
    assert z.shape == (2000, 4)
    assert np.abs(z).max() <= bound
    projected = prior.project(tf.constant([[5.0, -5.0, 0.2, 0.0]])).numpy()
    np.testing.assert_allclose(projected, [[bound, -bound, 0.2, 0.0]])


def test_sampling_is_deterministic_for_a_seed():
    prior = Prior("normal", 5)
    a = prior.sample(3, seed=tf.constant([7, 8])).numpy()
    b = prior.sample(3, seed=tf.constant([7, 8])).numpy()
    np.testing.assert_array_equal(a, b)


def test_unknown_prior_lists_the_known_ones():
    with pytest.raises(UserError, match="known: normal, uniform, truncated_normal"):
        Prior("cauchy", 3)
