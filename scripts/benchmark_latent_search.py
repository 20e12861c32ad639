"""Latent-search speed: ms/sample of the compiled batched search, XLA off and on.

Usage: python scripts/benchmark_latent_search.py [--config=configs/anogan.py] [--n_max=500]
       [--batch_sizes=1,256] [--repeats=5] [--quick]
Writes results/latent_search.json and prints a markdown table. eps = 0, so every sample runs
all n_max steps: the figures are the cost of n_max steps, not of an early stop.
"""
import argparse
import importlib.util
import json
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import tfgad  # noqa: E402,F401
from tfgad import io_utils, models, priors  # noqa: E402
from tfgad.detection.latent_search import LatentSearch  # noqa: E402


def load_config(path):
    spec = importlib.util.spec_from_file_location("bench_config", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config()


def time_search(search, x, repeats):
    search(x, seed=(0, 0))  # trace and compile
    times = []
    for r in range(repeats):
        start = time.perf_counter()
        out = search(x, seed=(1, r))
        out["loss"].numpy()  # wait for the result
        times.append(time.perf_counter() - start)
    return times, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/anogan.py")
    parser.add_argument("--n_max", type=int, default=500)
    parser.add_argument("--batch_sizes", default="1,256")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", default="results/latent_search.json")
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny sizes")
    args = parser.parse_args()
    config = load_config(args.config)
    if args.quick:
        args.n_max, args.batch_sizes, args.repeats = 20, "1,8", 2
    length = config.data.length
    prior = priors.from_config(config)
    model = models.build(config, (length, 1), prior)
    rng = np.random.default_rng(0)
    rows = []
    for batch in [int(b) for b in args.batch_sizes.split(",")]:
        x = model.generator(prior.sample(batch, seed=[5, 5]), training=False).numpy()
        x += rng.normal(0, 0.05, x.shape).astype("float32")
        for jit in (False, True):
            search = LatentSearch(model.generator, prior, n_max=args.n_max, eps=0.0,
                                  learning_rate=config.search.learning_rate,
                                  distance=config.search.distance, jit_compile=jit)
            times, out = time_search(search, x, args.repeats)
            ms = [1000 * t / batch for t in times]
            rows.append({"batch": batch, "xla": jit, "n_max": args.n_max,
                         "ms_per_sample_median": float(np.median(ms)),
                         "ms_per_sample_min": float(np.min(ms)),
                         "ms_per_sample_max": float(np.max(ms)),
                         "mean_iterations": float(np.mean(out["iterations"])),
                         "mean_loss": float(np.mean(out["loss"]))})
            print(f"batch {batch:4d} xla {str(jit):5s}: {rows[-1]['ms_per_sample_median']:.2f} "
                  f"ms/sample (median of {args.repeats})", flush=True)
    result = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
              "generator_parameters": model.generator.count_params(),
              "latent_dim": config.model.latent_dim, "length": length, "rows": rows}
    io_utils.write_text(args.output, json.dumps(result, indent=2))
    print("\n| batch | XLA | ms/sample (median) | min | max |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['batch']} | {r['xla']} | {r['ms_per_sample_median']:.2f} | "
              f"{r['ms_per_sample_min']:.2f} | {r['ms_per_sample_max']:.2f} |")


if __name__ == "__main__":
    main()
