"""Training speed settings: train.jit_compile=auto (the probe times both ways, leaves no trace,
and skips short fits), train.ema_momentum (the generator's weight average) and train.r1_gamma
(the R1 penalty)."""
import numpy as np
import pytest
import tensorflow as tf

import tfgad
from tfgad import models, priors
from tfgad.errors import UserError
from tfgad.training import config_checks, xla_training


def tiny_model():
    config = tfgad.sections.default_config()
    config.model.update(name="gan", latent_dim=4, base_filters=4, num_blocks=2)
    return models.build(config, (32, 1), priors.from_config(config))


def test_the_probe_restores_every_variable_and_records_both_timings():
    model = tiny_model()
    before = [v.numpy().copy() for v in xla_training._state(model)]
    batch = tf.constant(np.random.default_rng(0).normal(size=(8, 32, 1)).astype(np.float32))
    choice = xla_training.choose(model, batch, fit_steps=10**6)  # long enough to probe XLA
    assert {"plain_step_ms", "xla_step_ms", "xla_compile_extra_s"} <= set(choice)
    assert model.jit_compile == choice["xla"]
    after = [v.numpy() for v in xla_training._state(model)]
    assert len(before) == len(after) and all(np.array_equal(a, b) for a, b in zip(before, after))


def test_a_fit_too_short_to_win_back_a_compile_is_not_probed_with_xla():
    model = tiny_model()
    batch = tf.zeros([8, 32, 1])
    choice = xla_training.choose(model, batch, fit_steps=1)
    assert choice["xla"] is False and "xla_step_ms" not in choice
    assert model.train_function is not None  # the probe's plain function serves the fit
    assert xla_training.apply(model, "false", batch, 100, replicas=1) is None
    assert model.jit_compile is False


def test_the_generator_average_replaces_the_last_weights_after_the_fit():
    from tfgad.models.base import adam
    from tfgad.training import extensions
    config = tfgad.sections.default_config()
    config.model.update(name="gan", latent_dim=4, base_filters=4, num_blocks=2)
    config.train.ema_momentum = 0.5
    model = models.build(config, (32, 1), priors.from_config(config))
    assert model.g_optimizer.use_ema and not model.d_optimizer.use_ema
    x = np.random.default_rng(0).normal(size=(64, 32, 1)).astype(np.float32)
    model.fit(tf.data.Dataset.from_tensor_slices(x).batch(16), epochs=1, verbose=0, shuffle=False)
    last = [v.numpy().copy() for v in model.generator_variables()]
    average = [v.numpy().copy() for v in model.g_optimizer._model_variables_moving_average]
    (plugin,) = [p for p in extensions.for_config(config, "", None, 1)
                 if isinstance(p, extensions.GeneratorAverage)]
    plugin.after_fit(model, x)
    now = [v.numpy() for v in model.generator_variables()]
    assert all(np.array_equal(n, a) for n, a in zip(now, average))
    assert any(not np.array_equal(n, w) for n, w in zip(now, last))
    config.model.name = "fanogan"
    with pytest.raises(UserError, match="does not work with model.name=fanogan"):
        config_checks.validate(config)


def test_the_r1_penalty_is_half_gamma_times_the_squared_gradient_norm_at_real_samples():
    from tfgad.models import losses
    x = tf.constant([[1.0, 2.0], [0.0, -1.0]])
    # D(x) = sum(x^2): grad 2x, squared norms 4 * 5 = 20 and 4 * 1 = 4, mean 12.
    assert float(losses.r1_penalty(lambda v: tf.reduce_sum(v * v, axis=1, keepdims=True), x)) \
        == pytest.approx(12.0)
    config = tfgad.sections.default_config()
    config.model.update(name="gan", latent_dim=4, base_filters=4, num_blocks=2)
    config.train.r1_gamma = 10.0
    model = models.build(config, (32, 1), priors.from_config(config))
    batch = tf.constant(np.random.default_rng(0).normal(size=(8, 32, 1)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(batch)
        logits, _ = model.discriminate(batch, None, training=True)
    squared = tf.reduce_sum(tf.square(tape.gradient(logits, batch)), axis=[1, 2])
    assert float(model.real_penalty(batch)) == pytest.approx(5.0 * float(tf.reduce_mean(squared)),
                                                             rel=1e-5)
    model.fit(tf.data.Dataset.from_tensor_slices(batch).batch(8), epochs=1, verbose=0,
              shuffle=False)
    assert all(np.isfinite(v.numpy()).all() for v in model.weights)
    model.r1_gamma = 0.0
    assert model.real_penalty(batch) == 0.0
    config.model.name = "wgan_gp"
    with pytest.raises(UserError, match="it applies to: gan, ganomaly, aegan, vaegan"):
        config_checks.validate(config)
