"""Scoring time to the same quality: the former latent search against the amortized one.

Usage:
  python scripts/benchmark_time_to_quality.py [--configs=anogan,wgan_gp]
      [--suites=synthetic,mitbih] [--budgets=0,25,50,100] [--random_default=300] [--seeds=0]
      [--repeats=3] [--only="random@300;amortized@val(0,25)"]
      [--output=results/time_to_quality.json] [--quick]

Per config, suite and seed, one model is trained (with model.inverse=True, so that both starts
can be scored; the inverse fit is timed apart). Then, on the same model and the same
validation and test subsets, each search variant calibrates on validation and scores test:

  random@N          AnoGAN's search: starts from the prior, N steps (the former default at
                    N = 300, without the stop: the 1.0x reference)
  amortized@N       starts at I(x), the inverse fit on the training data (model.inverse_fit=
                    data, the default), N steps (N = 0: I(x) alone)
  amortized[samples]@N  the same with the inverse fit on generator samples alone (fit again
                    from the same initial weights)
  +stop             with the per-sample stop (search.stop_patience=10, tolerance 1e-3)
  amortized@val(B)  n_max chosen on validation among the budgets B (search.budgets, the
                    configs' default with B = 0,25): the residual's validation AUROC decides

Test AUROC and scoring ms/sample (median of --repeats timings of the test subset, in this one
run, side by side) are written to the JSON with a markdown table and a plot of AUROC against
ms/sample beside it.
"""
import argparse
import os
import platform
import statistics
import tempfile
import time
from unittest import mock

import tfgad  # noqa: F401  (sets TF log level and Keras backend before TF is imported)
import keras
import numpy as np
from absl import logging

from tfgad import config_files, data, io_utils
from tfgad.data import rhythm
from tfgad.detection import calibration
from tfgad.detector import Detector
from tfgad.evaluation import metrics, plots
from tfgad.training import extensions, train_lib
from tfgad.detection import subsets

SHARED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..",
                      "shared", "data")
SUITES = {
    "synthetic": {"data.name": "synthetic_ecg"},
    # The quality benchmark's cpu budget of MIT-BIH: a 10,000-beat subset, 3 epochs.
    "mitbih": {"data.name": "mitbih", "data.max_samples": 10000, "train.epochs": 3},
}
STOP = {"search.stop_patience": 10, "search.stop_tolerance": 1e-3}
SAMPLES_FIT_BUDGETS = (25, 50)
VALIDATION_CHOICES = ((0, 25), (0, 25, 50))


def variants(budgets, random_default):
    """(name, inverse fit, overrides) of every search scored, in the order they are scored."""
    out = []
    fixed = {"search.stop_patience": 0, "search.budgets": ""}
    for n_max in sorted(set(budgets) - {0} | {random_default}):
        base = {"search.init": "random", "search.n_max": n_max, **fixed}
        out.append((f"random@{n_max}", "data", base))
        # Below 100 steps a sample rarely stalls for 10 steps: the same search.
        if n_max >= 100 or n_max == random_default:
            out.append((f"random@{n_max}+stop", "data", {**base, **STOP}))
    for n_max in sorted(set(budgets)):
        base = {"search.init": "amortized", "search.n_max": n_max, **fixed}
        out.append((f"amortized@{n_max}", "data", base))
        if n_max >= 100:
            out.append((f"amortized@{n_max}+stop", "data", {**base, **STOP}))
    # The configs' default: validation chooses n_max among the budgets (search.budgets).
    for choice in VALIDATION_CHOICES:
        if set(choice) <= set(budgets):
            out.append((f"amortized@val({','.join(map(str, choice))})", "data",
                        {"search.init": "amortized", "search.n_max": max(choice), **fixed,
                         "search.budgets": ",".join(map(str, choice))}))
    for n_max in sorted(set(SAMPLES_FIT_BUDGETS) & set(budgets)):
        out.append((f"amortized[samples]@{n_max}", "samples",
                    {"search.init": "amortized", "search.n_max": n_max, **fixed}))
    return out


def scored(config, model, norm, splits, overrides, repeats):
    """Calibrates the variant on validation, scores test: AUROC, ms/sample, mean steps."""
    cfg = config.copy_and_resolve_references()
    config_files.override(cfg, overrides)
    val, test = subsets.scored_subsets(cfg, splits)
    detector = Detector.from_model(cfg, model, norm, splits["train"].x.shape[1:])
    detector.calibrate(val, splits["train"])
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        out = detector.components(test.x)
        times.append(1000.0 * (time.perf_counter() - started) / len(test))
    scores, predictions = calibration.apply(detector.calibration_, out, test.groups)
    return {**metrics.evaluate(test.y, scores, predictions),
            "n_max": int(detector.config_.search.n_max),
            "ms_per_sample": statistics.median(times), "ms_per_sample_all": times,
            "mean_steps": float(np.mean(out["iterations"])), "test_samples": len(test)}


def run_one(config_name, suite, seed, budgets, random_default, repeats, mitdb, quick=False,
            only=()):
    config = config_files.load(config_name)
    config_files.override(config, SUITES[suite])
    config.model.inverse = True
    config.seed, config.train.verbose, config.train.sample_plot_every = seed, 0, 0
    config.detection.max_samples = 500
    if quick:  # the CI smoke run
        config_files.override(config, {"train.epochs": 1, "detection.max_samples": 60,
                                       "model.inverse_steps": 20, "data.max_samples": 600})
    if config.data.name == "mitbih":
        config.data.dir = mitdb
    keras.utils.set_random_seed(seed)
    splits, norm = data.load_splits(config)
    started = time.perf_counter()
    # Trained without the amortized inverse's fit (its training extension's after_fit is
    # skipped): each variant below fits it, timed, from the same initial weights.
    skip_fit = mock.patch.object(extensions.AmortizedInverse, "after_fit",
                                 lambda self, model, train_x: train_x)
    with tempfile.TemporaryDirectory() as workdir, skip_fit:
        model = train_lib.train(config, workdir, splits["train"])
    train_seconds = time.perf_counter() - started
    initial_inverse = [v.numpy() for v in model.inverse.weights]
    train_x = rhythm.signal_part(splits["train"].x, rhythm.channels(config))
    rows, fitted = [], None
    for name, fit, overrides in variants(budgets, random_default):
        if only and name not in only:
            continue
        if fit != fitted:  # each fit from the same initial weights, timed
            for variable, value in zip(model.inverse.weights, initial_inverse):
                variable.assign(value)
            config.model.inverse_fit = fit
            started = time.perf_counter()
            extensions.fit_inverses(config, model, train_x)
            inverse_seconds, fitted = time.perf_counter() - started, fit
        row = {"config": config_name, "suite": suite, "seed": seed, "variant": name,
               "default": f"random@{random_default}",
               **scored(config, model, norm, splits, overrides, repeats),
               "train_seconds": train_seconds, "inverse_fit": fit,
               "inverse_seconds": inverse_seconds}
        print(f"{config_name} {suite} seed={seed} {name}: AUROC {row['auroc']:.4f}, "
              f"{row['ms_per_sample']:.2f} ms/sample, {row['mean_steps']:.1f} steps", flush=True)
        rows.append(row)
    keras.backend.clear_session()
    return rows


def markdown(rows):
    lines = ["| config | suite | variant | test AUROC | F1 | ms/sample | speed-up vs default | "
             "mean steps |", "|---|---|---|---|---|---|---|---|"]
    for (config, suite), group in _groups(rows).items():
        default = _default(group)
        for name in dict.fromkeys(r["variant"] for r in group):
            members = [r for r in group if r["variant"] == name]
            auroc = np.mean([r["auroc"] for r in members])
            ms = np.median([r["ms_per_sample"] for r in members])
            f1 = np.mean([r["f1"] for r in members])
            steps = np.mean([r["mean_steps"] for r in members])
            lines.append(f"| {config} | {suite} | {name} | {auroc:.4f} | {f1:.3f} | {ms:.2f} | "
                         f"{default / ms:.1f}x | {steps:.0f} |")
    return "\n".join(lines) + "\n"


def _groups(rows):
    groups = {}
    for r in rows:
        groups.setdefault((r["config"], r["suite"]), []).append(r)
    return groups


def _default(group):
    """ms/sample of today's former default: random starts, n_max --random_default, no stop."""
    return np.median([r["ms_per_sample"] for r in group if r["variant"] == r["default"]])


def plot(rows, path):
    groups = _groups(rows)
    fig, axes = plots.subplots(1, len(groups), figsize=(6 * len(groups), 4.5), squeeze=False)
    for ax, ((config, suite), group) in zip(axes[0], groups.items()):
        for init, marker in (("random", "o"), ("amortized", "s"), ("amortized[samples]", "^")):
            for stop, fill in (("", "full"), ("+stop", "none")):
                chosen = [r for r in group if r["variant"].startswith(init + "@")
                          and r["variant"].endswith(stop) and (stop or "+stop" not in r["variant"])]
                if chosen:
                    ax.plot([r["ms_per_sample"] for r in chosen], [r["auroc"] for r in chosen],
                            marker=marker, fillstyle=fill, ls="",
                            label=f"{init}{' + per-sample stop' if stop else ''}")
                    for r in chosen:
                        ax.annotate(r["variant"].split("@")[1].replace("+stop", ""),
                                    (r["ms_per_sample"], r["auroc"]), fontsize=7)
        ax.set_xscale("log")
        ax.set_xlabel("scoring ms/sample (log)")
        ax.set_ylabel("test AUROC")
        ax.set_title(f"{config} on {suite}: AUROC against time (labels: steps)")
        ax.legend(fontsize=8)
    return plots.save(fig, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="anogan,wgan_gp")
    parser.add_argument("--suites", default="synthetic,mitbih")
    parser.add_argument("--budgets", default="0,25,50,100")
    parser.add_argument("--random_default", type=int, default=300,
                        help="n_max of today's search from the prior, the 1.0x reference")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--only", default="",
                        help="score only these variants (names separated by ';')")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mitdb", default=os.path.join(SHARED, "mitdb"))
    parser.add_argument("--output", default="results/time_to_quality.json")
    parser.add_argument("--quick", action="store_true", help="CI smoke run: tiny budgets")
    args = parser.parse_args(argv)
    unknown = [s for s in args.suites.split(",") if s not in SUITES]
    if unknown:
        raise SystemExit(f"error: unknown suite(s) {unknown}; known: {', '.join(SUITES)}")
    logging.set_verbosity(logging.WARNING)
    budgets = [int(b) for b in args.budgets.split(",")]
    only = [v for v in args.only.split(";") if v]
    rows = []
    for config_name in args.configs.split(","):
        for suite in args.suites.split(","):
            for seed in (int(s) for s in args.seeds.split(",")):
                rows += run_one(config_name, suite, seed, budgets, args.random_default,
                                args.repeats, args.mitdb, args.quick, only)
                result = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
                          "rows": rows}
                io_utils.write_json(args.output, result)
    stem = os.path.splitext(args.output)[0]
    io_utils.write_text(stem + ".md", markdown(rows))
    plot(rows, stem + ".png")
    print(markdown(rows))


if __name__ == "__main__":
    main()
