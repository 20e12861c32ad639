"""Training speed: a full adversarial step of tfgad against a PyTorch peer of the same networks.

Usage:
  python scripts/benchmark_training.py [--families=gan,wgan_gp,bigan] [--batches=64,256]
      [--steps=20] [--repeats=5] [--output=results/training.json] [--quick]

Per family and batch size, side by side in one process on the same threads: samples per
second of one full step (discriminator and generator updates; WGAN-GP's n_critic critic steps
with the gradient penalty) of
  - tfgad as it trains (Keras' compiled train function, plain TF graph),
  - tfgad with the train step compiled by XLA (compile(jit_compile=True)),
  - the PyTorch peer (scripts/torch_train_peer.py: same layers, losses and optimizers, eager),
each on one batch held in memory, and tfgad once more fed by its input pipeline
(tfgad.data.pipeline.training_dataset over 10,000 samples: shuffle, batch, prefetch), whose
extra time over the in-memory step is the share of wall time the step waits on input.
The rounds alternate the three steppers; medians over --repeats rounds of --steps steps.
Writes the JSON and a markdown table beside it (.md). Needs the [bench] extra (torch).
"""
import argparse
import os
import platform
import statistics
import time

import json
import subprocess
import sys
import tempfile

import tfgad  # noqa: F401  (sets TF log level and Keras backend before TF is imported)
import numpy as np
import tensorflow as tf

from tfgad import io_utils, models, priors, sections
from tfgad.data import pipeline
from tfgad.models.base import adam

SHAPE = (256, 1)  # the quick start's beats (data.length 256, one lead)
PIPELINE_SAMPLES = 10000


def config_for(family: str):
    config = sections.default_config()
    config.model.name = family
    return config


def tfgad_model(family: str, jit_compile: bool):
    config = config_for(family)
    model = models.build(config, SHAPE, priors.from_config(config))
    model.compile(d_optimizer=adam(config, "d"), g_optimizer=adam(config, "g"),
                  jit_compile=jit_compile)
    return model


def tfgad_stepper(model, dataset):
    """A callable that runs n train steps on the dataset and waits for the last."""
    model.make_train_function()
    function = model.train_function
    iterator = iter(dataset)

    def run(n):
        logs = None
        for _ in range(n):
            logs = function(iterator)
        float(next(iter(logs.values())))  # waits for the step
    return run


def torch_stepper(family: str, batch: np.ndarray):
    """(run(n), the peer's facts, stop()): the peer runs in a process of its own, without
    TensorFlow (scripts/torch_train_peer.py's serve): in one process the two runtimes' thread
    pools fight, and PyTorch's optimizer, first built after TensorFlow ran, crashes it."""
    m = config_for(family).model
    settings = {k: m[k] for k in ("latent_dim", "base_filters", "num_blocks", "kernel_size")}
    with tempfile.NamedTemporaryFile(suffix=".npy", delete=False) as f:
        np.save(f, batch)
    peer = subprocess.Popen(
        [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                      "torch_train_peer.py"),
         json.dumps({"family": family, "shape": list(SHAPE), "batch": f.name, **settings})],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    facts = json.loads(peer.stdout.readline())
    os.unlink(f.name)

    def run(n):
        peer.stdin.write(f"{n}\n")
        peer.stdin.flush()
        float(peer.stdout.readline())

    def stop():
        peer.stdin.close()
        peer.wait(timeout=30)
    return run, facts, stop


def parameter_counts(model) -> dict:
    """Trainable parameters per network (PyTorch's parameters(); batch norm's moving
    statistics are buffers there)."""
    nets = {"generator": model.generator, "discriminator": model.discriminator}
    if model.encoder is not None:
        nets["encoder"] = model.encoder
    return {name: int(sum(np.prod(w.shape) for w in net.trainable_weights))
            for name, net in nets.items()}


def measure(family: str, batch_size: int, steps: int, repeats: int, data: np.ndarray) -> dict:
    batch = data[:batch_size]
    in_memory = tf.data.Dataset.from_tensors(tf.constant(batch)).repeat()
    fed = pipeline.training_dataset(data, batch_size, seed=0).repeat()
    plain_model = tfgad_model(family, jit_compile=False)
    steppers = {"tfgad": tfgad_stepper(plain_model, in_memory),
                "tfgad_xla": tfgad_stepper(tfgad_model(family, jit_compile=True), in_memory),
                "tfgad_pipeline": tfgad_stepper(tfgad_model(family, jit_compile=False), fed)}
    steppers["torch"], peer, stop_peer = torch_stepper(family, batch)
    compile_seconds = {}
    for name, run in steppers.items():  # first calls trace and compile: not timed
        started = time.perf_counter()
        run(2)
        compile_seconds[name] = time.perf_counter() - started
    times: dict[str, list[float]] = {name: [] for name in steppers}
    for _ in range(repeats):
        for name, run in steppers.items():
            started = time.perf_counter()
            run(steps)
            times[name].append(time.perf_counter() - started)
    stop_peer()
    ours = parameter_counts(plain_model)
    if ours != peer["parameters"]:  # the peer must be the same networks, or the race is off
        raise SystemExit(f"{family}: the peer's networks differ: tfgad {ours}, "
                         f"torch {peer['parameters']}")
    per_second = {name: steps * batch_size / statistics.median(t) for name, t in times.items()}
    step_ms = {name: 1000 * statistics.median(t) / steps for name, t in times.items()}
    wait = max(0.0, 1.0 - step_ms["tfgad"] / step_ms["tfgad_pipeline"])
    return {"family": family, "batch_size": batch_size, "steps": steps, "repeats": repeats,
            "samples_per_second": per_second, "step_ms": step_ms,
            "first_call_seconds": compile_seconds,
            "tfgad_over_torch": per_second["tfgad"] / per_second["torch"],
            "xla_over_plain": per_second["tfgad_xla"] / per_second["tfgad"],
            "input_wait_share": wait,
            "parameters": ours,
            "torch": {"version": peer["torch"], "threads": peer["threads"]}}


def markdown(result: dict) -> str:
    lines = ["| family | batch | tfgad samples/s | tfgad XLA | PyTorch peer | tfgad / torch | "
             "XLA / plain | input wait | first call s (plain, XLA) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        s, c = r["samples_per_second"], r["first_call_seconds"]
        lines.append(f"| {r['family']} | {r['batch_size']} | {s['tfgad']:.0f} | "
                     f"{s['tfgad_xla']:.0f} | {s['torch']:.0f} | {r['tfgad_over_torch']:.2f}x | "
                     f"{r['xla_over_plain']:.2f}x | {100 * r['input_wait_share']:.1f} % | "
                     f"{c['tfgad']:.1f}, {c['tfgad_xla']:.1f} |")
    m = result["machine"]
    lines += ["", f"{m['cpus']} CPUs ({m['platform']}), TensorFlow {m['tensorflow']}, "
              f"PyTorch {m['torch']} on {m['torch_threads']} threads; GPUs: "
              f"{', '.join(m['gpus']) or 'none'}; medians of {result['rows'][0]['repeats']} "
              f"rounds of {result['rows'][0]['steps']} steps, alternating."]
    return "\n".join(lines) + "\n"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default="gan,wgan_gp,bigan")
    parser.add_argument("--batches", default="64,256")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", default="results/training.json")
    parser.add_argument("--quick", action="store_true", help="CI smoke: gan, batch 8, 2 steps")
    args = parser.parse_args(argv)
    if args.quick:
        args.families, args.batches, args.steps, args.repeats = "gan", "8", 2, 1
    args.families = [f for f in args.families.split(",") if f]
    args.batches = [int(b) for b in args.batches.split(",") if b]
    return args


def main(argv=None):
    args = parse_args(argv)
    rng = np.random.default_rng(0)
    data = rng.standard_normal((PIPELINE_SAMPLES, *SHAPE)).astype(np.float32)
    rows = []
    for family in args.families:
        for batch_size in args.batches:
            row = measure(family, batch_size, args.steps, args.repeats, data)
            rows.append(row)
            s = row["samples_per_second"]
            print(f"{family} batch {batch_size}: tfgad {s['tfgad']:.0f}/s, XLA "
                  f"{s['tfgad_xla']:.0f}/s, torch {s['torch']:.0f}/s "
                  f"({row['tfgad_over_torch']:.2f}x), input wait "
                  f"{100 * row['input_wait_share']:.1f} %", flush=True)
            tf.keras.backend.clear_session()
    result = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                          "tensorflow": tf.__version__, "torch": rows[0]["torch"]["version"],
                          "torch_threads": rows[0]["torch"]["threads"],
                          "gpus": [d.name for d in tf.config.list_physical_devices("GPU")]},
              "rows": rows}
    io_utils.write_json(args.output, result)
    io_utils.write_text(os.path.splitext(args.output)[0] + ".md", markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
