"""train.jit_compile=auto: the probe times both ways, leaves no trace, and skips short fits."""
import numpy as np
import tensorflow as tf

import tfgad
from tfgad import models, priors
from tfgad.training import xla_training


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
