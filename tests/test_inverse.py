"""The amortized inverse of G: fit on data it reconstructs the data it will be asked to start
on; fit on samples it inverts G; bad settings are named."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgad import data, models, priors
from tfgad.errors import UserError
from tfgad.models import inverse as inverse_lib


@pytest.fixture(scope="module")
def trained(test_config_module):
    config = test_config_module
    config.model.name, config.model.inverse = "gan", True
    splits, _ = data.load_splits(config)
    keras.utils.set_random_seed(0)
    model = models.build(config, splits["train"].x.shape[1:], priors.from_config(config))
    model.fit(splits["train"].x, batch_size=64, epochs=2, verbose=0)
    return model, splits["train"].x


@pytest.fixture(scope="module")
def test_config_module():
    from tfgad.configs import test
    return test.get_config()


def reconstruction(model, x):
    return float(np.abs(model.generator(model.inverse(x)).numpy() - x).mean())


def inversion(model):
    z = model.prior.sample(128, seed=tf.constant([7, 8]))
    return float(tf.reduce_mean(tf.square(model.inverse(model.generator(z)) - z)))


def test_a_data_fit_reconstructs_the_training_data_better_than_a_samples_fit(trained):
    model, x = trained
    start = [v.numpy() for v in model.inverse.weights]
    before_reconstruction, before_inversion = reconstruction(model, x[:256]), inversion(model)
    fits = {}
    for kind, samples in (("samples", None), ("data", x)):
        for variable, value in zip(model.inverse.weights, start):
            variable.assign(value)
        model.inverse_fitted.assign(0)
        loss = inverse_lib.fit(model, 300, 64, 1e-3, seed=0, data=samples)
        assert np.isfinite(loss) and int(model.inverse_fitted.numpy()) == 1
        fits[kind] = (reconstruction(model, x[:256]), inversion(model))
    # Both learn to invert G (the ziz term is in both losses) ...
    assert fits["samples"][1] < 0.8 * before_inversion
    assert fits["data"][1] < 0.8 * before_inversion
    # ... and the one that saw the data starts the search nearer to it.
    assert fits["data"][0] < 0.9 * fits["samples"][0]
    assert fits["data"][0] < before_reconstruction


def test_an_unknown_inverse_fit_is_named(test_config_module):
    config = test_config_module.copy_and_resolve_references()
    config.model.name, config.model.inverse, config.model.inverse_fit = "gan", True, "both"
    with pytest.raises(UserError, match="unknown model.inverse_fit 'both'; known: data, samples"):
        models.build(config, (config.data.length, 1), priors.from_config(config))
