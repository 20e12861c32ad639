"""Latent search at the hardware's limit: tfgad against a PyTorch eager search, side by side.

Usage:
  pip install -e ".[bench]"   # torch, for the peer
  python scripts/benchmark_search.py [--quick] [--output=results/search.json]
One run measures, on the same generator (tfgad's 1-D DCGAN in an ecgan-sized setting:
latent 5, 128 samples; --config and overrides choose another), the same starts, the same
weights (copied into a PyTorch copy of the network, checked equal) and the same Adam (lr 0.01,
betas 0.5/0.99), ms/sample as the median over repeats:
  peer       PyTorch eager, ecgan's loop: batch-mean stop, eval mode, weights frozen
  loop       TensorFlow, a Python loop over a compiled Adam step, batch-mean stop
  tfgad      the shipped search with its defaults (jit_compile=auto, compaction, folded BN)
  tfgad_*    the same with XLA forced off / on, without compaction, without folding,
             and restarts: full against successive halving
plus the FLOPs of one search step (forward and backward to z, counted from the layers), the
machine's peak FLOP rate (a 4096 x 4096 float32 matmul) and the share of it reached, and the
number of filter-gradient kernels the runtime executed during a search (profiler).
"""
import argparse
import ast
import glob
import json
import os
import tempfile

import tfgad  # noqa: F401  (sets TF log level and Keras backend before TF is imported)
import numpy as np
import tensorflow as tf

import benchmark_quality
from benchmark_inference import LoopReference, forward_flops, peak_flops, row, timed
from tfgad import config_files, io_utils, models, priors
from tfgad.detection.latent_search import LatentSearch

ADAM = dict(learning_rate=0.01, beta_1=0.5, beta_2=0.99)


def setup(config_name, overrides, samples):
    """(generator, prior, x): an untrained generator and samples G(z) + noise of varied size,
    so that with eps > 0 samples stop at different steps, as real data does."""
    config = config_files.override(config_files.load(config_name), overrides)
    prior = priors.from_config(config)
    model = models.build(config, (config.data.length, 1), prior)
    x = model.generator(prior.sample(samples, seed=[5, 5]), training=False).numpy()
    rng = np.random.default_rng(0)
    scale = rng.uniform(0.0, 0.12, (samples, 1, 1)).astype("float32")
    return model.generator, prior, x + scale * rng.normal(0, 1, x.shape).astype("float32")


def step_flops(generator) -> int:
    """One search step per sample: a forward pass, times 2 for the backward pass to the input
    (the same products again; no weight gradients are computed)."""
    return 2 * forward_flops(generator)


def profiled_kernels(search, x) -> list:
    """(kernel name, seconds) of every TensorFlow op the runtime ran during one search, from
    the profiler's trace (after a warm-up search)."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2
    search(x)
    events = []
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        search(x)
        tf.profiler.experimental.stop()
        for path in glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True):
            space = xplane_pb2.XSpace()
            with open(path, "rb") as f:
                space.ParseFromString(f.read())
            for plane in space.planes:
                names = {k: v.name for k, v in plane.event_metadata.items()}
                events += [(names.get(e.metadata_id, ""), e.duration_ps * 1e-12)
                           for line in plane.lines for e in line.events]
    return events


def executed_filter_gradients(search, x) -> int:
    """Kernels named *BackpropFilter* the runtime ran during one search (the gradient code
    builds them; they feed nothing, and the runtime should prune them)."""
    return sum("BackpropFilter" in name for name, _ in profiled_kernels(search, x))


def kernel_profile(search, x, top=10) -> list:
    """Where one search's op time goes, by op type (the name after the last ':' of the
    TensorFlow op events): [{op, ms, share}] for the top ones, share of all op time."""
    by_type = {}
    for name, seconds in profiled_kernels(search, x):
        scope, _, op = name.rpartition(":")
        # TF op events read "scope/layer/name:OpType"; the executor's and the eager runtime's
        # own events (which enclose the ops) have no scope path, or spaces.
        if "/" in scope and " " not in name:
            by_type[op] = by_type.get(op, 0.0) + seconds
    total = sum(by_type.values()) or 1.0
    ranked = sorted(by_type.items(), key=lambda item: -item[1])[:top]
    return [{"op": op, "ms": 1000.0 * t, "share": t / total} for op, t in ranked]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="anogan")
    parser.add_argument("--override", action="append", default=[],
                        help="FIELD=VALUE for the config (default: latent 5, length 128)")
    parser.add_argument("--batch", default="1,64,256,1024")
    parser.add_argument("--eps", default="0,0.05")
    parser.add_argument("--n_max", type=int, default=500)
    parser.add_argument("--compaction_batch", default="64,512", help="eps>0 extra batch sizes")
    parser.add_argument("--restarts", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no_peer", action="store_true", help="without torch")
    parser.add_argument("--profile_batch", type=int, default=256,
                        help="batch of the op-time profile of the default search (0: none)")
    parser.add_argument("--output", default="results/search.json")
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny sizes")
    args = parser.parse_args()
    if args.quick:
        args.batch, args.n_max, args.compaction_batch, args.repeats, args.restarts = "1,8", 20, "8", 1, 2
        args.profile_batch = 8
    overrides = {"model.latent_dim": 5, "data.length": 128}
    for text in args.override:
        key, value = text.split("=", 1)
        try:
            overrides[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            overrides[key] = value
    ints = lambda text: [int(v) for v in text.split(",") if v.strip()]
    batches = ints(args.batch)
    extra = [b for b in ints(args.compaction_batch) if b not in batches]
    generator, prior, pool = setup(args.config, overrides, max(batches + extra))
    peer = torch_version = None
    if not args.no_peer:
        import torch
        import torch_peer
        torch_version = torch.__version__
        peer = torch_peer.TorchGenerator(generator)
        z = prior.sample(16, seed=tf.constant([1, 1])).numpy()
        with torch.no_grad():
            gap = float(np.abs(peer(torch.from_numpy(z)).numpy() - generator(z, training=False)).max())
        if gap > 1e-4:
            raise SystemExit(f"the PyTorch copy differs from the Keras generator by {gap}")

    rows = []

    def add(kind, batch, times, **extra_fields):
        rows.append(row(kind, batch, times, **extra_fields))
        print(rows[-1], flush=True)

    variants = {"tfgad": {}, "tfgad_xla_off": {"jit_compile": False},
                "tfgad_xla_on": {"jit_compile": True},
                "tfgad_no_compaction": {"compaction": False},
                "tfgad_no_folding": {"fold_batch_norm": False}}
    for eps in [float(v) for v in args.eps.split(",")]:
        for batch in batches + (extra if eps > 0 else []):
            x = tf.constant(pool[:batch])
            start = None
            for kind, kwargs in variants.items():
                if kind == "tfgad_no_compaction" and eps == 0:
                    continue  # compaction only acts when samples stop
                if batch in extra and kind in ("tfgad_xla_on", "tfgad_no_folding"):
                    continue
                search = LatentSearch(generator, prior, n_max=args.n_max, eps=eps, **ADAM, **kwargs)
                start = search.starts(1, batch, tf.constant([0, 0]))
                times, out = timed(lambda: {k: v.numpy() for k, v in search(x).items()}, args.repeats)
                add(kind, batch, times, eps=eps, n_max=args.n_max,
                    mean_iterations=float(out["iterations"].mean()),
                    mean_residual=float(out["loss"].mean()),
                    xla=search.settings().get("xla_choices"))
            reference = LoopReference(generator, batch, prior.latent_dim, ADAM["learning_rate"])
            reference.optimizer.beta_1, reference.optimizer.beta_2 = ADAM["beta_1"], ADAM["beta_2"]
            times, (steps, residual) = timed(lambda: reference(x, start, args.n_max, eps), args.repeats)
            add("loop", batch, times, eps=eps, n_max=args.n_max, mean_iterations=float(steps),
                mean_residual=float(residual.mean()))
            if peer is not None:
                times, (steps, residual) = timed(lambda: torch_peer.eager_search(
                    peer, pool[:batch], start.numpy(), args.n_max, eps), args.repeats)
                add("peer_torch", batch, times, eps=eps, n_max=args.n_max,
                    mean_iterations=float(steps), mean_residual=float(residual.mean()))

    halving_batch = min(64, max(batches))
    x = tf.constant(pool[:halving_batch])
    for schedule in ("full", "halving"):
        search = LatentSearch(generator, prior, n_max=args.n_max, restarts=args.restarts,
                              restart_schedule=schedule, **ADAM)
        times, out = timed(lambda: {k: v.numpy() for k, v in search(x).items()}, args.repeats)
        add(f"restarts_{schedule}", halving_batch, times, eps=0.0, n_max=args.n_max,
            restarts=args.restarts, mean_residual=float(out["loss"].mean()))

    flops = step_flops(generator)
    peak = peak_flops(1024 if args.quick else 4096)
    for r in rows:
        if r["kind"].startswith("tfgad") or r["kind"] in ("loop", "peer_torch"):
            # Row-steps actually needed: the mean of the steps each sample ran (eps = 0: n_max).
            r["gflops_per_s"] = flops * r["mean_iterations"] / (r["ms_per_sample_median"] * 1e-3) / 1e9
            r["share_of_peak"] = r["gflops_per_s"] * 1e9 / peak
    # Where the default search's op time goes at the profile batch (20 steps, XLA off: the
    # profile names TensorFlow ops, which an XLA cluster hides).
    profile = kernel_profile(LatentSearch(generator, prior, n_max=20, jit_compile=False, **ADAM),
                             tf.constant(pool[:args.profile_batch])) if args.profile_batch else []
    filter_kernels = executed_filter_gradients(
        LatentSearch(generator, prior, n_max=5, jit_compile=False, **ADAM), tf.constant(pool[:8]))
    result = {"machine": benchmark_quality.machine(), "config": args.config, "overrides": overrides,
              "sample_shape": list(pool.shape[1:]), "generator_parameters": generator.count_params(),
              "step_flops_per_sample": flops, "peak_gflops_per_s": peak / 1e9,
              "executed_filter_gradient_kernels": filter_kernels,
              "profile_batch": args.profile_batch, "profile": profile,
              "torch": torch_version,
              "rows": rows}
    io_utils.write_text(args.output, json.dumps(result, indent=2))
    table = markdown(result)
    io_utils.write_text(os.path.splitext(args.output)[0] + ".md", table)
    print("\n" + table)


def markdown(result):
    rows = result["rows"]
    find = lambda kind, eps, batch: next((r for r in rows if (r["kind"], r.get("eps"), r["batch"])
                                          == (kind, eps, batch)), None)
    ms = lambda r: "" if r is None else f"{r['ms_per_sample_median']:.2f}"
    lines = [f"generator {result['generator_parameters']:,} parameters, sample shape "
             f"{result['sample_shape']}, {result['step_flops_per_sample'] / 1e6:.2f} MFLOP per "
             f"sample-step; peak {result['peak_gflops_per_s']:.0f} GFLOP/s (matmul); "
             f"filter-gradient kernels executed: {result['executed_filter_gradient_kernels']}; "
             f"torch {result['torch']}; {result['machine']['cpus']} CPUs", "",
             "| eps | batch | peer (torch) | loop (TF) | tfgad default | XLA off | XLA on | "
             "no compaction | no folding | default vs peer | default vs no compaction | "
             "steps tfgad / peer | residual tfgad / peer | share of peak |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    keys = sorted({(r["eps"], r["batch"]) for r in rows if r["kind"] == "tfgad"})
    for eps, batch in keys:
        got = {k: find(k, eps, batch) for k in ("peer_torch", "loop", "tfgad", "tfgad_xla_off",
                                                "tfgad_xla_on", "tfgad_no_compaction",
                                                "tfgad_no_folding")}
        ratio = lambda other: ("" if other is None else
                               f"{other['ms_per_sample_median'] / got['tfgad']['ms_per_sample_median']:.2f}x")
        peer = got["peer_torch"]
        lines.append(
            f"| {eps} | {batch} | " + " | ".join(ms(got[k]) for k in got) + f" | {ratio(peer)} | "
            f"{ratio(got['tfgad_no_compaction'])} | {got['tfgad']['mean_iterations']:.0f} / "
            f"{'' if peer is None else round(peer['mean_iterations'])} | "
            f"{got['tfgad']['mean_residual']:.4f} / {'' if peer is None else round(peer['mean_residual'], 4)} | "
            f"{100 * got['tfgad']['share_of_peak']:.1f} % |")
    lines += ["", "| restarts | schedule | batch | ms/sample | residual |", "|---|---|---|---|---|"]
    for r in rows:
        if r["kind"].startswith("restarts_"):
            lines.append(f"| {r['restarts']} | {r['kind'][9:]} | {r['batch']} | {ms(r)} | "
                         f"{r['mean_residual']:.4f} |")
    if result.get("profile"):
        lines += ["", f"Op time of the default search at batch {result['profile_batch']} "
                      "(XLA off), by op type:", "", "| op | ms | share |", "|---|---|---|"]
        lines += [f"| {p['op']} | {p['ms']:.1f} | {100 * p['share']:.1f} % |"
                  for p in result["profile"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
