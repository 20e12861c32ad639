"""Inference speed, the review's Table 1: batched latent search vs a Python-loop reference, and encoders.

Usage:
  python scripts/benchmark_inference.py --workdir=RUN [--quick] [--output=results/inference.json]
  python scripts/benchmark_inference.py --config=configs/anogan.py --eps=0 --n_max=500 ...
RUN is a trained workdir (python -m tfgad.main ...); its test samples and generator are used.
With --config instead, the generator is the config's, untrained, and the samples are its
outputs plus noise: the cost of the search steps without training a model first (this
replaces the former benchmark_latent_search.py).
Measured in one run, side by side, with the same generator and settings:
  tfgad   the compiled batched search: one tf.function, tf.while_loop, in-graph Adam,
          per-sample eps stop, XLA off and on;
  loop    the reference most TF2 code uses: a Python loop calling a compiled single Adam step
          on a tf.Variable z, stopping when the batch's mean loss is below eps;
  encoder one forward pass z = E(x), x_hat = G(z) plus the score components, plain and
          compiled by XLA, with its FLOPs per sample and their share of the machine's peak.
Writes JSON, and the markdown table beside it (.md); ms/sample are medians over repeats, with min and max.
"""
import argparse
import json
import os
import statistics
import time

import tfgad  # noqa: F401  (sets TF log level and Keras backend before TF is imported)
import keras
import numpy as np
import tensorflow as tf
from keras import layers
from ml_collections import ConfigDict

import benchmark_quality
from tfgad import config_files, data, io_utils, models, priors
from tfgad.training import train_lib
from tfgad.detection import scorer as scorer_lib
from tfgad.detection.latent_search import LatentSearch


class LoopReference:
    """A Python loop over a compiled Adam step on a tf.Variable z; it stops when the batch's
    mean loss is below eps. The step is traced once and reused, as such code does."""

    def __init__(self, generator, batch, latent_dim, learning_rate):
        self.generator = generator
        self.z = tf.Variable(tf.zeros([batch, latent_dim]))
        self.optimizer = keras.optimizers.Adam(learning_rate)
        self.optimizer.build([self.z])
        self.step = tf.function(self._step)

    def _step(self, x):
        with tf.GradientTape() as tape:
            per_sample = tf.reduce_mean(tf.abs(x - self.generator(self.z, training=False)), axis=[1, 2])
            loss = tf.reduce_mean(per_sample)
        self.optimizer.apply_gradients([(tape.gradient(loss, self.z), self.z)])
        return loss, per_sample

    def __call__(self, x, z0, n_max, eps):
        self.z.assign(z0)
        # A fresh Adam for every search: zero its step count and moments, keep its rate.
        for variable in self.optimizer.variables:
            if not variable.path.endswith("learning_rate"):
                variable.assign(tf.zeros_like(variable))
        steps, per_sample = 0, None
        for steps in range(1, n_max + 1):
            loss, per_sample = self.step(x)
            if float(loss) < eps:  # the host reads the loss every step, as such loops do
                break
        return steps, per_sample.numpy()


def forward_flops(network) -> int:
    """Multiply-adds x 2 of one forward pass of a Keras network per sample (its dense and
    convolution layers, nested networks included)."""
    total = 0
    for layer in network.layers:
        w = layer.get_weights()
        if isinstance(layer, keras.Model):
            total += forward_flops(layer)
        elif isinstance(layer, layers.Dense):
            total += 2 * w[0].size
        elif isinstance(layer, layers.Conv1DTranspose):
            total += 2 * w[0].size * layer.input.shape[1]  # each input column, k * out * in
        elif isinstance(layer, layers.Conv1D):
            total += 2 * w[0].size * layer.output.shape[1]
    return total


def peak_flops(n=4096, repeats=5) -> float:
    a = tf.random.normal([n, n])
    tf.matmul(a, a).numpy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        tf.matmul(a, a).numpy()
        times.append(time.perf_counter() - start)
    return 2.0 * n ** 3 / statistics.median(times)


def trained_model(workdir):
    """(config, model, test samples) of a trained workdir."""
    with open(os.path.join(workdir, "config.json")) as f:
        config = ConfigDict(json.load(f))
    splits, _ = data.load_splits(config)
    return config, train_lib.load_trained(config, workdir, splits["train"].x.shape[1:]), splits["test"].x


def untrained_model(config_name, samples, length=0):
    """(config, untrained model, samples = G(z) + noise) for a config's synthetic-data shape
    (or samples of the given length)."""
    config = config_files.load(config_name)
    config.data.length = length or config.data.length
    prior = priors.from_config(config)
    model = models.build(config, (config.data.length, 1), prior)
    x = model.generator(prior.sample(samples, seed=[5, 5]), training=False).numpy()
    return config, model, x + np.random.default_rng(0).normal(0, 0.05, x.shape).astype("float32")


def timed(fn, repeats):
    fn()  # trace, compile, warm up
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


def row(kind, batch, times, **extra):
    ms = [1000.0 * t / batch for t in times]
    return {"kind": kind, "batch": batch, "ms_per_sample_median": float(np.median(ms)),
            "ms_per_sample_min": float(np.min(ms)), "ms_per_sample_max": float(np.max(ms)),
            **extra}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--workdir", help="a trained tfgad workdir")
    source.add_argument("--config", help="a config file or name: its untrained generator")
    parser.add_argument("--eps", default="0.005,0.05")
    parser.add_argument("--n_max", default="100,500,1000")
    parser.add_argument("--batch", default="1,64,512")
    parser.add_argument("--encoder_batch", default="1,512")
    parser.add_argument("--loop_batch", default="1,64,512")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--length", type=int, default=0,
                        help="with --config: the sample length (0: the config's data.length)")
    parser.add_argument("--output", default="results/inference.json")
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny sizes")
    args = parser.parse_args()
    if args.quick:
        args.eps, args.n_max, args.batch = "0.05", "10", "1,8"
        args.encoder_batch, args.loop_batch, args.repeats = "1,8", "1,8", 1
    ints = lambda text: [int(v) for v in text.split(",") if v.strip()]
    config, model, pool = (trained_model(args.workdir) if args.workdir else
                           untrained_model(args.config, max(ints(args.batch) + ints(args.encoder_batch)),
                                           args.length))
    rows = []

    for eps in [float(v) for v in args.eps.split(",")]:
        for n_max in ints(args.n_max):
            for batch in ints(args.batch):
                x = tf.constant(pool[:batch])
                for jit in (False, True):
                    search = LatentSearch(model.generator, model.prior, n_max=n_max, eps=eps,
                                          learning_rate=config.search.learning_rate,
                                          distance="l1", jit_compile=jit)
                    times, out = timed(lambda: {k: v.numpy() for k, v in search(x).items()},
                                       args.repeats)
                    rows.append(row("tfgad_search", batch, times, eps=eps, n_max=n_max, xla=jit,
                                    mean_iterations=float(out["iterations"].mean()),
                                    mean_residual=float(out["loss"].mean())))
                    print(rows[-1], flush=True)
                if batch in ints(args.loop_batch):
                    z0 = search.starts(1, batch, tf.constant([0, 0]))
                    reference = LoopReference(model.generator, batch, model.prior.latent_dim,
                                              config.search.learning_rate)
                    times, (steps, residual) = timed(lambda: reference(x, z0, n_max, eps),
                                                     args.repeats)
                    rows.append(row("python_loop", batch, times, eps=eps, n_max=n_max, xla=False,
                                    mean_iterations=float(steps),
                                    mean_residual=float(residual.mean())))
                    print(rows[-1], flush=True)

    encoder = {}
    if model.encoder is not None:
        # Plain graphs and the same graph compiled by XLA: which wins on this machine.
        plain = scorer_lib.EncoderScorer(model, jit_compile=False)
        compiled = scorer_lib.EncoderScorer(model, jit_compile=True)
        # The passes every encoder family's components make: E(x), G(z), D(x_hat) and D(x).
        # A family's own components may add more (VAEGAN's kl and mean_norm run q(z|x) again).
        flops = (forward_flops(model.encoder) + forward_flops(model.generator)
                 + 2 * forward_flops(model.discriminator))
        peak = peak_flops(1024 if args.quick else 4096)
        encoder = {"flops_per_sample": flops, "peak_gflops_per_s": peak / 1e9,
                   "floor_ms_per_sample": 1000.0 * flops / peak}
        for batch in ints(args.encoder_batch):
            x = tf.constant(pool[:batch])
            for xla, fn in ((False, plain), (True, compiled)):
                times, out = timed(lambda: {k: v.numpy() for k, v in fn(x).items()}, args.repeats)
                r = row("encoder", batch, times, xla=xla, mean_residual=float(out["residual"].mean()))
                r["share_of_peak"] = encoder["floor_ms_per_sample"] / r["ms_per_sample_median"]
                rows.append(r)
                print(rows[-1], flush=True)

    result = {"machine": benchmark_quality.machine(),
              "workdir": args.workdir, "config": args.config, "model": config.model.name, "data": config.data.name,
              "sample_shape": list(pool.shape[1:]),
              "generator_parameters": model.generator.count_params(), "rows": rows,
              "encoder": encoder,
              "speedups": speedups(rows)}
    io_utils.write_text(args.output, json.dumps(result, indent=2))
    table = markdown(result)
    io_utils.write_text(os.path.splitext(args.output)[0] + ".md", table)
    print("\n" + table)


def speedups(rows):
    """Loop-reference time over the faster tfgad search (XLA or not) at the same settings."""
    out = []
    for ref in (r for r in rows if r["kind"] == "python_loop"):
        same = [r for r in rows if r["kind"] == "tfgad_search" and
                (r["eps"], r["n_max"], r["batch"]) == (ref["eps"], ref["n_max"], ref["batch"])]
        best = min(same, key=lambda r: r["ms_per_sample_median"])
        out.append({"eps": ref["eps"], "n_max": ref["n_max"], "batch": ref["batch"],
                    "loop_ms": ref["ms_per_sample_median"],
                    "tfgad_ms": best["ms_per_sample_median"], "tfgad_xla": best["xla"],
                    "speedup": ref["ms_per_sample_median"] / best["ms_per_sample_median"]})
    return out


def markdown(result):
    lines = [f"{result['model']} on {result['data']}, sample shape {result['sample_shape']}, "
             f"generator {result['generator_parameters']:,} parameters, "
             f"{result['machine']['cpus']} CPUs, GPUs: {result['machine']['gpus'] or 'none'}",
             "", "| kind | eps | n_max | batch | XLA | ms/sample median (min-max) | iterations | "
             "residual |", "|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['kind']} | {r.get('eps', '')} | {r.get('n_max', '')} | {r['batch']} | "
                     f"{r.get('xla', '')} | {r['ms_per_sample_median']:.3f} "
                     f"({r['ms_per_sample_min']:.3f}-{r['ms_per_sample_max']:.3f}) | "
                     f"{r.get('mean_iterations', '')} | {r['mean_residual']:.4f} |")
    if result.get("encoder"):
        e = result["encoder"]
        lines += ["", f"Encoder scoring: {e['flops_per_sample'] / 1e6:.1f} MFLOP per sample "
                      f"(E, G and D twice); peak {e['peak_gflops_per_s']:.0f} GFLOP/s (matmul), so "
                      f"at least {e['floor_ms_per_sample']:.3f} ms/sample on this machine; share "
                      "of peak: " + ", ".join(
                          f"batch {r['batch']} {'XLA' if r['xla'] else 'plain'} "
                          f"{100 * r['share_of_peak']:.0f} %" for r in result["rows"]
                          if r["kind"] == "encoder")]
    lines += ["", "| eps | n_max | batch | python loop ms | tfgad ms (XLA) | speed-up |",
              "|---|---|---|---|---|---|"]
    for s in result["speedups"]:
        lines.append(f"| {s['eps']} | {s['n_max']} | {s['batch']} | {s['loop_ms']:.3f} | "
                     f"{s['tfgad_ms']:.3f} ({s['tfgad_xla']}) | {s['speedup']:.2f}x |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
