"""Contaminated training data: test AUROC and AUPRC against the anomalous share of the train split.

Usage:
  python scripts/benchmark_contamination.py [--suites=mitbih_intra,synthetic]
      [--models=aegan,fanogan,gan] [--robust=reject] [--baselines=isolation_forest,conv_ae]
      [--contamination=0,0.02,0.05,0.1,0.2] [--seeds=0,1,2] [--quick]
      [--output=results/contamination.json]

Per suite, contamination level and seed, every method trains on the same contaminated train
split (data.contamination: the anomalous share after injection) and is tested on the same
test subset: each GAN family plainly and with robust training (train.robust.method, the cut
estimated by the robust z-score: no method is told the contamination), and the classic
baselines. GAN scores are combined and thresholded as the family's config does, fit on
validation only. Robust runs also record the rejection precision and recall, measured with
the train split's true labels (used for this report only).
Every finished run is appended to the output JSON at once; a rerun skips the runs it holds.
Writes a markdown table (.md) and a plot of AUROC against contamination (.png) beside it.
"""
import argparse
import json
import os
import tempfile
import time

import tfgad  # noqa: F401  (sets TF log level and Keras backend before TF is imported)
import keras
import numpy as np
from absl import logging

import benchmark_quality
from tfgad import baselines, config_files, data, io_utils
from tfgad.detector import Detector
from tfgad.detection import calibration
from tfgad.evaluation import metrics as metric_lib
from tfgad.evaluation import plots
from tfgad.training.robust import outputs as robust_outputs
from tfgad.detection import subsets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUITES = {
    "mitbih_intra": {"data.name": "mitbih", "data.protocol": "intra"},
    "synthetic": {"data.name": "synthetic_ecg"},
}
# Budgets per suite (config overrides), sized for a 2-core CPU: some 3,000 normal training
# beats. 20 % contamination needs a quarter as many anomalies in the pool: MIT-BIH (10.5 %
# abnormal beats) gets 12,000 beats of which 30 % of the normals train, the synthetic ECG an
# anomaly rate of 30 %.
_ROBUST = {"train.robust.warmup_epochs": 2, "train.robust.every": 1}
_MITBIH_SPLIT = {"data.val_fraction": 0.2, "data.test_fraction": 0.5}
BUDGETS = {
    "cpu": {
        "mitbih_intra": {**_ROBUST, **_MITBIH_SPLIT, "data.max_samples": 12000, "train.epochs": 5,
                         "model.fanogan.encoder_epochs": 3, "model.wgan_gp.n_critic": 2,
                         "search.n_max": 50, "detection.max_samples": 1500},
        "synthetic": {**_ROBUST, "data.max_samples": 4000, "data.anomaly_rate": 0.3,
                      "train.epochs": 5,
                      "model.fanogan.encoder_epochs": 3, "model.wgan_gp.n_critic": 2,
                      "search.n_max": 50, "detection.max_samples": 1500},
    },
    # The configs' own budget (20 epochs, warm-up 3, rejection every 3) on the full synthetic
    # set: long enough for the models to learn the injected anomalies. 0 and 10 % only: the
    # set's 10 % anomaly rate cannot fill 20 %.
    "long": {
        "synthetic": {"search.n_max": 100, "train.epochs": 20},
    },
    "quick": {
        "mitbih_intra": {**_ROBUST, **_MITBIH_SPLIT, **benchmark_quality._TINY,
                         "data.records": "100,119,208,233", "data.max_samples": 1500,
                         "train.epochs": 3, "train.robust.warmup_epochs": 1},
        "synthetic": {**_ROBUST, **benchmark_quality._TINY, "data.anomaly_rate": 0.3,
                      "data.max_samples": 1200, "train.epochs": 3,
                      "train.robust.warmup_epochs": 1},
    },
}
METRICS = ("auroc", "auprc")


def make_config(family, suite, budget, seed, contamination, robust, mitdb):
    config = config_files.load(benchmark_quality.FAMILIES[family])
    config_files.override(config, SUITES[suite])
    if suite not in BUDGETS[budget]:
        raise SystemExit(f"error: budget {budget!r} has no suite {suite!r}; it has: "
                         f"{', '.join(BUDGETS[budget])}")
    config_files.override(config, BUDGETS[budget][suite])
    config.seed, config.data.dir = seed, mitdb if config.data.name == "mitbih" else ""
    config.data.contamination = contamination
    config.train.robust.method = robust
    config.train.verbose, config.train.sample_plot_every = 0, 0
    return config


def gan_run(config, splits, norm):
    """Fits a Detector (plainly or robustly; calibrated on val), evaluates it on test."""
    val, test = subsets.scored_subsets(config, splits)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        detector = Detector(config, verbose=0, workdir=workdir).fit_samples(
            splits["train"], val, norm)
        robust = robust_outputs.load_summary(workdir)
    train_seconds = time.perf_counter() - started
    test_scores, test_pred = calibration.apply(detector.calibration_,
                                               detector.components(test.x), test.groups)
    keras.backend.clear_session()
    result = {**metric_lib.evaluate(test.y, test_scores, test_pred),
              "train_seconds": train_seconds, "test_samples": len(test)}
    if robust:
        result.update(rejection_precision=robust["precision"], rejection_recall=robust["recall"],
                      left_out=robust["left_out"])
    return result


def summarize(runs):
    """Mean and std over seeds per (suite, method, contamination)."""
    groups = {}
    for run in runs:
        groups.setdefault((run["suite"], run["method"], run["contamination"]), []).append(run)
    rows = []
    for (suite, method, level), members in sorted(groups.items()):
        row = {"suite": suite, "method": method, "contamination": level,
               "seeds": sorted(r["seed"] for r in members)}
        for metric in METRICS + ("rejection_precision", "rejection_recall"):
            values = [r[metric] for r in members if r.get(metric) is not None]
            if values:
                row[metric] = {"mean": float(np.mean(values)), "std": float(np.std(values))}
        rows.append(row)
    return rows


def _cell(row, metric):
    if not row or metric not in row:
        return "-"
    value = row[metric]
    return f"{value['mean']:.3f}" + (f" ± {value['std']:.3f}" if len(row["seeds"]) > 1 else "")


def targets(summary, level=0.1):
    """Per robust method at `level`: the share of the AUROC that plain training loses against
    its clean figure that robust training wins back, (robust - plain) / (clean - plain); the
    rejection precision there; and robust minus plain AUROC on clean data."""
    find = {(r["suite"], r["method"], r["contamination"]): r for r in summary}
    rows = []
    for (suite, method, c), row in sorted(find.items()):
        family, _, variant = method.partition("/")
        if c != level or variant not in ("trim", "reject"):
            continue
        plain, clean = find.get((suite, f"{family}/plain", c)), find.get((suite, f"{family}/plain", 0.0))
        robust_clean = find.get((suite, method, 0.0))
        if not (plain and clean and robust_clean):
            continue
        lost = clean["auroc"]["mean"] - plain["auroc"]["mean"]
        won = row["auroc"]["mean"] - plain["auroc"]["mean"]
        rows.append({"suite": suite, "method": method, "lost": lost, "won": won,
                     "recovered": won / lost if lost > 0 else None,
                     "precision": row.get("rejection_precision", {}).get("mean"),
                     "clean_difference": robust_clean["auroc"]["mean"] - clean["auroc"]["mean"]})
    return rows


def _target_lines(summary):
    rows = targets(summary)
    if not rows:
        return []
    lines = ["### Targets at 10 % contamination (means over seeds)", "",
             "| suite | method | AUROC plain loses (clean - plain) | robust wins back | share "
             "recovered (target >= 0.67) | rejection precision (target >= 0.6) | robust - plain "
             "at 0 % (target >= -0.01) |", "|---|---|---|---|---|---|---|"]
    fmt = lambda v, spec: "-" if v is None else format(v, spec)
    for r in rows:
        lines.append(f"| {r['suite']} | {r['method']} | {r['lost']:+.3f} | {r['won']:+.3f} | "
                     f"{fmt(r['recovered'], '.2f')} | {fmt(r['precision'], '.2f')} | "
                     f"{r['clean_difference']:+.3f} |")
    return lines + [""]


def markdown(result):
    lines = _target_lines(result["summary"])
    for suite in SUITES:
        rows = [r for r in result["summary"] if r["suite"] == suite]
        if not rows:
            continue
        levels = sorted({r["contamination"] for r in rows})
        methods = list(dict.fromkeys(r["method"] for r in rows))
        find = {(r["method"], r["contamination"]): r for r in rows}
        header = " | ".join(f"{100 * c:g} %" for c in levels)
        for metric in METRICS:
            lines += [f"### {suite}: test {metric.upper()}", "", f"| method | {header} |",
                      "|---|" + "---|" * len(levels)]
            lines += [f"| {m} | " + " | ".join(_cell(find.get((m, c)), metric) for c in levels)
                      + " |" for m in methods]
            lines.append("")
        robust = [m for m in methods if m.endswith(("/trim", "/reject"))]
        if robust:
            lines += [f"### {suite}: rejection precision / recall (train split)", "",
                      f"| method | {header} |", "|---|" + "---|" * len(levels)]
            lines += [f"| {m} | " + " | ".join(
                f"{_cell(find.get((m, c)), 'rejection_precision')} / "
                f"{_cell(find.get((m, c)), 'rejection_recall')}" for c in levels) + " |"
                for m in robust]
            lines.append("")
    return "\n".join(lines)


def plot(result, path):
    suites = [s for s in SUITES if any(r["suite"] == s for r in result["summary"])]
    if not suites:
        return
    fig, axes = plots.subplots(1, len(suites), figsize=(6.5 * len(suites), 4.5), squeeze=False)
    for ax, suite in zip(axes[0], suites):
        rows = [r for r in result["summary"] if r["suite"] == suite]
        methods = list(dict.fromkeys(r["method"] for r in rows))
        # One colour per family or baseline; the line style tells plain, trim and reject apart.
        groups = list(dict.fromkeys(m.partition("/")[0] for m in methods))
        for method in methods:
            group, _, variant = method.partition("/")
            points = sorted((r["contamination"], r["auroc"]) for r in rows if r["method"] == method)
            x = [100 * c for c, _ in points]
            mean = np.array([a["mean"] for _, a in points])
            std = np.array([a["std"] for _, a in points])
            color = f"C{groups.index(group) % 10}"
            style = {"": "--", "plain": "-", "trim": "-.", "reject": ":"}[variant]
            ax.plot(x, mean, style, marker="o" if variant != "reject" else "s", color=color,
                    label=method)
            if variant in ("", "plain"):  # spreads of the robust variants would hide the lines
                ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.1)
        ax.set(xlabel="contamination of the train split (%)", ylabel="test AUROC", title=suite)
        ax.legend(fontsize=7)
    plots.save(fig, path)


def _save(result, path):
    result["machine"] = benchmark_quality.machine()
    result["summary"] = summarize(result["runs"])
    io_utils.write_text(path, json.dumps(result, indent=2, default=float))
    stem = os.path.splitext(path)[0]
    io_utils.write_text(stem + ".md", markdown(result))
    plot(result, stem + ".png")


def _floats(text):
    return [float(v) for v in text.split(",") if v.strip()]


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suites", default=",".join(SUITES))
    parser.add_argument("--models", default="aegan,fanogan,gan")
    parser.add_argument("--robust", default="reject", help="robust methods, e.g. trim,reject")
    parser.add_argument("--baselines", default="isolation_forest,conv_ae")
    parser.add_argument("--contamination", default="0,0.02,0.05,0.1,0.2")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--budget", default="cpu", choices=sorted(BUDGETS))
    parser.add_argument("--mitdb", default=os.path.join(benchmark_quality.SHARED, "mitdb"))
    parser.add_argument("--output", default="results/contamination.json")
    parser.add_argument("--quick", action="store_true", help="CI smoke run: tiny models")
    args = parser.parse_args(argv)
    if args.quick:
        args.budget = "quick"
    names = benchmark_quality._names
    args.suites = names(args.suites, list(SUITES), "suite")
    args.models = names(args.models, list(benchmark_quality.FAMILIES), "model")
    args.robust = names(args.robust, ["trim", "reject"], "robust method")
    args.baselines = names(args.baselines, list(baselines.BASELINES), "baseline")
    args.contamination = _floats(args.contamination)
    args.seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    return args


def main(argv=None):
    args = parse_args(argv)
    logging.set_verbosity(logging.WARNING)
    result = benchmark_quality._load(args.output)
    done = {(r["suite"], r["budget"], r["contamination"], r["seed"], r["method"])
            for r in result["runs"]}
    for suite in args.suites:
        source = None
        for level in args.contamination:
            for seed in args.seeds:
                key = lambda method: (suite, args.budget, level, seed, method)
                gan_methods = [(family, variant) for family in args.models
                               for variant in ["none"] + args.robust
                               if key(f"{family}/{'plain' if variant == 'none' else variant}")
                               not in done]
                todo = gan_methods + [b for b in args.baselines if key(b) not in done]
                if not todo:
                    continue
                base = make_config("gan", suite, args.budget, seed, level, "none", args.mitdb)
                if source is None:
                    source = data.load_source(base)
                splits, norm = data.load_splits(base, samples=source)

                def record(method, metrics):
                    run = {"suite": suite, "budget": args.budget, "contamination": level,
                           "seed": seed, "method": method,
                           "injected": int(splits["train"].y.sum()), **metrics}
                    result["runs"].append(run)
                    done.add(key(method))
                    _save(result, args.output)
                    extra = (f" rejection P {run['rejection_precision']} R {run['rejection_recall']}"
                             if "rejection_precision" in run else "")
                    print(f"{suite} c={level} seed={seed} {method}: AUROC {run['auroc']:.3f} "
                          f"AUPRC {run['auprc']:.3f}{extra} ({run['train_seconds']:.0f} s)",
                          flush=True)

                for family, variant in gan_methods:
                    config = make_config(family, suite, args.budget, seed, level, variant,
                                         args.mitdb)
                    keras.utils.set_random_seed(seed)
                    record(f"{family}/{'plain' if variant == 'none' else variant}",
                           gan_run(config, splits, norm))
                for name in args.baselines:
                    if key(name) not in done:
                        record(name, benchmark_quality.baseline_run(name, base, splits))
    _save(result, args.output)
    print(markdown(result))


if __name__ == "__main__":
    main()
