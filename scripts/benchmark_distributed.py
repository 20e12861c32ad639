"""Training throughput with one process and with N local workers (MultiWorkerMirroredStrategy).

Usage:
  python scripts/benchmark_distributed.py [--config=configs/anogan.py] [--workers=1,2]
      [--epochs=4] [--repeats=1] [--output=results/distributed.json]

Trains the config (--mode=train, the same global batch train.batch_size) as one plain process
(train.strategy=default) and, for each N of --workers, as N workers started by
scripts/launch_workers.py on loopback ports (train.strategy=multi_worker). Examples/s is the
training examples of an epoch over the median epoch_seconds of the chief's training_log.csv,
leaving out the first epoch (tracing). Writes the JSON and a markdown table beside it (.md).
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import benchmark_quality
from tfgad import io_utils

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _train(command, workdir):
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"training failed ({done.returncode}):\n{(done.stdout + done.stderr)[-4000:]}")
    wall = time.perf_counter() - started
    with open(os.path.join(workdir, "training_log.csv")) as f:
        seconds = [float(r["epoch_seconds"]) for r in csv.DictReader(f)]
    with open(os.path.join(workdir, "training_split.json")) as f:
        samples = json.load(f)["samples"]
    with open(os.path.join(workdir, "config.json")) as f:
        batch = json.load(f)["train"]["batch_size"]
    examples = (samples // min(batch, samples)) * min(batch, samples)  # full batches only
    epoch = statistics.median(seconds[1:] or seconds)
    return {"epoch_seconds": seconds, "median_epoch_seconds": epoch,
            "examples_per_epoch": examples, "examples_per_second": examples / epoch,
            "wall_seconds": wall, "global_batch": batch}


def run(config, workers, epochs, scratch):
    """One training: workers=0 is the plain process, else N multi-worker processes."""
    workdir = tempfile.mkdtemp(dir=scratch)
    main = [sys.executable, "-m", "tfgad.main", f"--config={config}", "--mode=train",
            f"--workdir={workdir}", f"--config.train.epochs={epochs}",
            "--config.train.sample_plot_every=0"]
    if workers:
        command = [sys.executable, os.path.join(ROOT, "scripts", "launch_workers.py"),
                   f"--workers={workers}", "--", *main, "--config.train.strategy=multi_worker"]
    else:
        command = main
    figures = _train(command, workdir)
    return {"setup": f"{workers} workers (multi_worker)" if workers else "1 process (default)",
            "workers": workers or 1, **figures}


def markdown(result):
    lines = [f"# Training throughput: {result['config']}, {result['epochs']} epochs",
             "", f"Machine: {result['machine']['platform']}, {result['machine']['cpus']} CPUs, "
             f"GPUs: {result['machine']['gpus'] or 'none'}.", "",
             "| setup | global batch | median epoch s | examples/s | vs 1 process | wall s |",
             "|---|---:|---:|---:|---:|---:|"]
    base = result["runs"][0]["examples_per_second"]
    for r in result["runs"]:
        lines.append(f"| {r['setup']} | {r['global_batch']} | {r['median_epoch_seconds']:.2f} | "
                     f"{r['examples_per_second']:.0f} | {r['examples_per_second'] / base:.2f}x | "
                     f"{r['wall_seconds']:.0f} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="configs/anogan.py")
    parser.add_argument("--workers", default="1,2", help="worker counts for multi_worker")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=1, help="alternating rounds of all setups")
    parser.add_argument("--output", default=os.path.join(ROOT, "results", "distributed.json"))
    args = parser.parse_args()
    setups = [0] + [int(w) for w in args.workers.split(",")]
    runs = []
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(args.repeats):  # rounds alternate the setups: drift hits all alike
            for workers in setups:
                runs.append(run(args.config, workers, args.epochs, scratch))
                print(json.dumps({k: v for k, v in runs[-1].items() if k != "epoch_seconds"}),
                      flush=True)
    # One row per setup: the round with the median throughput.
    rows = []
    for workers in setups:
        same = sorted((r for r in runs if r["workers"] == (workers or 1)
                       and (r["setup"].startswith("1 process") == (workers == 0))),
                      key=lambda r: r["examples_per_second"])
        rows.append(same[len(same) // 2])
    result = {"config": args.config, "epochs": args.epochs, "repeats": args.repeats,
              "machine": benchmark_quality.machine(), "runs": rows, "all_runs": runs}
    io_utils.write_text(args.output, json.dumps(result, indent=2))
    io_utils.write_text(os.path.splitext(args.output)[0] + ".md", markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
