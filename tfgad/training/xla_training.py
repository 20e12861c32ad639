"""train.jit_compile: the train step compiled by XLA or not, chosen by timing on this machine.

Which is faster depends on the CPU (as for the search, tfgad/detection/xla_choice.py), the
family and the batch size (scripts/benchmark_training.py, results/training.md), and XLA's
compile takes seconds that a short fit may not win back. So "auto" times a few steps of this
model both ways on one batch of its training data before the fit, and compiles with XLA when
what it saves over the fit's steps exceeds its extra compile time. The probe's steps leave no
trace: weights, optimizer slots, seeds and trackers are restored after it.
"""
import statistics
import time

import tensorflow as tf
from absl import logging

from tfgad.detection import xla_choice

PROBE_STEPS = 3  # timed steps each way, after the first (compiling) one


def _state(model) -> list:
    """Every variable a train step changes: the networks', seeds', trackers' and optimizers'
    (each ensemble member's)."""
    variables = list(model.variables)
    for member in getattr(model, "members", None) or [model]:
        for name in ("d_optimizer", "g_optimizer", "e_optimizer"):
            optimizer = getattr(member, name, None)
            if optimizer is not None:
                variables += list(optimizer.variables)
    return variables


def _timed_steps(model, batch: tf.Tensor) -> tuple[float, float]:
    """(seconds of the first call, median seconds of a step after it) of model's train
    function as model.jit_compile now says, on batch repeated."""
    model.train_function = None
    model.make_train_function(force=True)
    iterator = iter(tf.data.Dataset.from_tensors(batch).repeat())
    seconds = []
    for _ in range(1 + PROBE_STEPS):
        started = time.perf_counter()
        logs = model.train_function(iterator)
        float(next(iter(logs.values())))  # waits for the step
        seconds.append(time.perf_counter() - started)
    return seconds[0], statistics.median(seconds[1:])


def choose(model, batch: tf.Tensor, fit_steps: int) -> dict:
    """Times model's train step on batch plain and with XLA, restores the model, sets
    model.jit_compile to the choice and returns what was measured.

    XLA's compile takes longer than tracing the plain graph, and it cannot save more than the
    plain steps take: a fit whose plain steps add up to less than one plain trace is not worth
    an XLA probe, and keeps the plain train function the probe built."""
    variables = _state(model)
    saved = [v.numpy() for v in variables]
    plain_first, plain_step = _timed_steps_as(model, batch, False)
    choice = {"xla": False, "plain_step_ms": 1000 * plain_step, "fit_steps": fit_steps}
    if plain_step * fit_steps > plain_first:
        plain_function = model.train_function
        xla_first, xla_step = _timed_steps_as(model, batch, True)
        saved_seconds = (plain_step - xla_step) * fit_steps
        choice.update(xla=saved_seconds > xla_first - plain_first, xla_step_ms=1000 * xla_step,
                      xla_compile_extra_s=xla_first - plain_first)
        logging.info("train step: %s (plain %.1f ms, XLA %.1f ms per step; XLA's compile "
                     "%.1f s more, over %d steps it saves %.1f s)",
                     "XLA" if choice["xla"] else "plain graph", 1000 * plain_step,
                     1000 * xla_step, xla_first - plain_first, fit_steps, saved_seconds)
        model.jit_compile = choice["xla"]
        model.train_function = None if choice["xla"] else plain_function
    for variable, value in zip(variables, saved):
        variable.assign(value)
    model.reset_metrics()
    return choice


def _timed_steps_as(model, batch, jit_compile: bool) -> tuple[float, float]:
    model.jit_compile = jit_compile
    return _timed_steps(model, batch)


def apply(model, setting, batch: tf.Tensor, fit_steps: int, replicas: int) -> dict | None:
    """Sets model.jit_compile as train.jit_compile says: True/False as given; "auto" by
    choose on one device, Keras' own default under a strategy of several replicas (its probe
    would need the strategy's distributed iterator). Returns choose's record, or None."""
    setting = xla_choice.parse(setting)
    if setting != xla_choice.AUTO:
        model.jit_compile = setting
        return None
    if replicas > 1 or fit_steps < 1:
        return None
    return choose(model, batch, fit_steps)
