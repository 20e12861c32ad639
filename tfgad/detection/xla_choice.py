"""XLA or not, chosen by timing both on this machine: which is faster depends on the CPU.

Measured on two 2-core hosts with the same search, XLA was 2.5-3x slower at batch >= 64 on an
AVX-512 host and 2.4-2.8x faster on an AVX2 host, so no fixed rule holds. The first search for
a generator, device and row count times a few steps both ways and keeps the faster; the choice
is cached for the process and reported by choices().
"""
import statistics
import time
import weakref

import tensorflow as tf

from tfgad.errors import UserError

AUTO = "auto"
_CHOICES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # generator -> {(device, rows): choice}


def parse(value):
    """search.jit_compile as True, False or "auto" (also from strings on the command line)."""
    text = str(value).strip().lower()
    if text in ("auto", ""):
        return AUTO
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise UserError(f"search.jit_compile={value!r}; choose auto, True or False")


def device() -> str:
    """The device the search runs on by default."""
    return "GPU:0" if tf.config.list_logical_devices("GPU") else "CPU:0"


def _run(fn):
    out = fn()
    tf.nest.flatten(out)[0].numpy()  # waits for the result (GPU kernels run asynchronously)


def choose(generator, rows: int, probes, repeats: int = 3) -> bool:
    """True if XLA is faster than plain graphs for this generator, device and row count.

    probes() -> (plain, xla), called only when this is not measured yet: two callables that
    run the same few search steps. The first call of each compiles and is not timed; then they
    alternate repeats times and the medians are compared.
    """
    table = _CHOICES.setdefault(generator, {})
    key = (device(), int(rows))
    if key not in table:
        plain, xla = probes()
        _run(plain)
        _run(xla)
        times: dict[str, list[float]] = {"plain": [], "xla": []}
        for _ in range(repeats):
            for name, fn in (("plain", plain), ("xla", xla)):
                start = time.perf_counter()
                _run(fn)
                times[name].append(time.perf_counter() - start)
        ms = {name: 1000.0 * statistics.median(t) for name, t in times.items()}
        table[key] = {"xla": ms["xla"] < ms["plain"], "plain_ms": ms["plain"], "xla_ms": ms["xla"]}
    return table[key]["xla"]


def decide(setting, key, rows, probes) -> bool:
    """XLA or not under a jit_compile setting: forced (True/False), or for "auto" measured by
    choose(key, rows, probes); plain ops where tracing into a graph (an export) or where the
    row count is unknown."""
    if setting != AUTO:
        return setting
    if not tf.executing_eagerly() or rows is None:
        return False
    return choose(key, rows, probes)


def described(setting, key) -> dict:
    """A jit_compile setting as settings() report it: with "auto", the choices measured so far."""
    out = {"jit_compile": setting}
    if setting == AUTO:
        out["xla_choices"] = choices(key)
    return out


def choices(generator) -> list:
    """What was measured for a generator: [{device, rows, xla, plain_ms, xla_ms}], by rows."""
    table = _CHOICES.get(generator, {})
    return [{"device": d, "rows": r, **table[(d, r)]} for d, r in sorted(table)]
