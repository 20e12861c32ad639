"""Folding BatchNormalization into the layer before it: same function, no normalization left."""
import keras
import numpy as np
import tensorflow as tf

from tfgad.models import networks
from tfgad.models.folding import FoldedGenerator


def _with_trained_statistics(generator):
    """Normalization statistics and scales away from their initial values (1 and 0)."""
    rng = np.random.default_rng(0)
    for layer in generator.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            for variable in (layer.gamma, layer.beta, layer.moving_mean):
                variable.assign(rng.normal(0, 0.5, variable.shape).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.2, 3.0, layer.moving_variance.shape))
    return generator


def test_folded_1d_and_2d_generators_compute_the_same_without_normalization():
    for shape in ((40, 1), (8, 8, 1)):
        generator = _with_trained_statistics(
            networks.build_generator(shape, 4, base_filters=8, num_blocks=2))
        folded = FoldedGenerator(generator)
        assert folded.folded
        assert not any(isinstance(l, keras.layers.BatchNormalization) for l in folded.model.layers)
        z = tf.random.stateless_normal([6, 4], seed=[1, 1])
        np.testing.assert_allclose(folded(z).numpy(), generator(z, training=False).numpy(),
                                   rtol=1e-4, atol=1e-5)


def test_refresh_follows_weights_changed_after_folding():
    generator = networks.build_generator((40, 1), 4, base_filters=8, num_blocks=2)
    folded = FoldedGenerator(generator)
    _with_trained_statistics(generator)
    z = tf.random.stateless_normal([3, 4], seed=[2, 2])
    assert np.abs(folded(z).numpy() - generator(z, training=False).numpy()).max() > 1e-3
    folded.refresh()
    np.testing.assert_allclose(folded(z).numpy(), generator(z, training=False).numpy(),
                               rtol=1e-4, atol=1e-5)


def test_a_generator_that_is_not_a_chain_is_used_unchanged():
    z = keras.Input((4,))
    a = keras.layers.BatchNormalization()(keras.layers.Dense(6, use_bias=False)(z))
    out = keras.layers.Add()([a, keras.layers.Dense(6)(z)])
    branching = keras.Model(z, out)
    folded = FoldedGenerator(branching)
    assert not folded.folded
    x = tf.ones([2, 4])
    np.testing.assert_array_equal(folded(x).numpy(), branching(x, training=False).numpy())
    assert not FoldedGenerator(lambda z, training=False: z).folded


def test_a_sequential_generator_without_an_input_is_searched_unfolded():
    import keras
    generator = keras.Sequential([keras.layers.Dense(8), keras.layers.BatchNormalization(),
                                  keras.layers.Dense(4)])
    z = np.random.default_rng(0).normal(size=(3, 5)).astype(np.float32)
    expected = generator(z, training=False).numpy()  # built by a call, not by an Input
    folded = FoldedGenerator(generator)
    assert not folded.folded
    np.testing.assert_allclose(folded(z).numpy(), expected, rtol=1e-6)
