"""Training time to quality: test AUROC against wall-clock training time, per stabilizer and
per family.

Usage:
  python scripts/benchmark_training_curve.py [--runs=quickstart,mitbih_aegan,families]
      [--variants=plain,ema,ttur,r1] [--families=gan,wgan_gp,...] [--seeds=0]
      [--epochs=E --checkpoints=5,10] [--output=results/training_curve.json] [--quick]

One training run per (run, variant): at each checkpoint epoch the training clock stops, the
model is finished as train_lib.train would finish it there (the generator average swapped in,
the amortized inverse fit from its initial weights), calibrated on validation and scored on
test, and then put back exactly as it was (every weight) before training goes on. The clock
counts what a user waits for: building the model and pipeline, the XLA probe, the epochs and
their callbacks, but not the checkpoint's finishing and scoring.

  quickstart     configs/anogan.py on the embedded synthetic ECG as the quick start trained it
                 before the measurements below changed it: 20 epochs, no weight average (the
                 whole validation and test splits)
  mitbih_aegan   configs/aegan.py on MIT-BIH intra-patient, the quality benchmark's cpu subset
                 (10,000 beats), 10 epochs (the cpu budget trains 3)
  families       every family at the quality benchmark's cpu budget on MIT-BIH intra, trained
                 for 6 epochs with checkpoints at 1, 2, 3, 4 and 6 (f-AnoGAN, two-stage: one
                 run per GAN-stage length), against its cpu-budget figure in
                 results/quality_mitbih.json

Variants (stabilizers; each one change to the run's config):
  plain   the config as it is
  ema     train.ema_momentum=0.99 (generator weights averaged over the last ~100 steps)
  ttur    two timescales: train.d_learning_rate=4e-4, train.g_learning_rate=1e-4 (Heusel et al.)
  r1      train.r1_gamma=1 (R1 penalty on real samples, Mescheder et al.)
"""
import argparse
import gc
import json
import os
import platform
import tempfile
import time
from unittest import mock

import tfgad  # noqa: F401  (sets TF log level and Keras backend before TF is imported)
import keras
import tensorflow as tf
from absl import logging

import benchmark_quality
from tfgad import config_files, data, io_utils, models
from tfgad.data import rhythm
from tfgad.detection import calibration, subsets
from tfgad.detector import Detector
from tfgad.evaluation import metrics, plots
from tfgad.training import callbacks as callbacks_lib, extensions, train_lib

SHARED = benchmark_quality.SHARED
VARIANTS = {
    "plain": {},
    "ema": {"train.ema_momentum": 0.99},
    "ttur": {"train.d_learning_rate": 4e-4, "train.g_learning_rate": 1e-4},
    "r1": {"train.r1_gamma": 1.0},
}
MITBIH_CPU = {"data.name": "mitbih", "data.protocol": "intra", "data.max_samples": 10000,
              "detection.max_samples": 2000}
FAMILY_CHECKPOINTS = (1, 2, 3, 4, 6)
CPU_BUDGET_EPOCHS = 3  # the quality benchmark's cpu budget on MIT-BIH
QUICK = {"train.epochs": 2, "data.num_subjects": 4, "model.latent_dim": 8,
         "model.base_filters": 8, "model.num_blocks": 2, "model.inverse_steps": 20,
         "detection.max_samples": 200}


class QualityCheckpoints(keras.callbacks.Callback):
    """Stops the training clock at the checkpoint epochs and records evaluate(model) there.

    The clock starts at `started` (before the model is built) and adds each epoch's wall time
    up to this callback's on_epoch_end (so it should be the last callback of the fit)."""

    def __init__(self, at_epochs, evaluate, started):
        super().__init__()
        self.at_epochs, self.evaluate, self.started = set(at_epochs), evaluate, started
        self.train_seconds, self.rows, self._epoch_start = 0.0, [], None

    def on_train_begin(self, logs=None):
        self.train_seconds = time.perf_counter() - self.started

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.train_seconds += time.perf_counter() - self._epoch_start
        if epoch + 1 in self.at_epochs:
            row = {"epoch": epoch + 1, "train_seconds": self.train_seconds,
                   **self.evaluate(self.model)}
            print(f"  epoch {epoch + 1}: {self.train_seconds:.1f} s training, test AUROC "
                  f"{row['auroc']:.4f}, MCC {row['mcc']:.3f}", flush=True)
            self.rows.append(row)


def finished_copy_evaluator(config, norm, splits, train_x):
    """evaluate(model): the test metrics of the model as train_lib.train would leave it after a
    fit ending here; every weight is restored afterwards, so training goes on untouched."""
    val, test = subsets.scored_subsets(config, splits)
    initial_inverse = {}

    def evaluate(model):
        members = extensions._members(model)
        if not initial_inverse:  # the first call: the inverses still hold their initial weights
            for i, member in enumerate(members):
                if member.inverse is not None:
                    initial_inverse[i] = [v.numpy() for v in member.inverse.weights]
        kept = [v.numpy() for v in model.weights]
        try:
            if config.train.ema_momentum > 0:
                extensions.GeneratorAverage().after_fit(model, train_x)
            for i, weights in initial_inverse.items():  # each fit from the same start
                for variable, value in zip(members[i].inverse.weights, weights):
                    variable.assign(value)
            if initial_inverse:
                extensions.fit_inverses(config, model, train_x)
            detector = Detector.from_model(config, model, norm, splits["train"].x.shape[1:])
            detector.calibrate(val, splits["train"])
            scores, predictions = calibration.apply(
                detector.calibration_, detector.components(test.x), test.groups)
            return {k: float(v) for k, v in metrics.evaluate(test.y, scores, predictions).items()
                    if k in ("auroc", "auprc", "f1", "mcc")}
        finally:
            for variable, value in zip(model.weights, kept):
                variable.assign(value)
            gc.collect()

    return evaluate


def curve(config, checkpoints, label):
    """Trains config once, evaluating at the checkpoint epochs: the curve's rows."""
    keras.utils.set_random_seed(config.seed)
    splits, norm = data.load_splits(config)
    train_x = rhythm.signal_part(splits["train"].x, rhythm.channels(config))
    started = time.perf_counter()
    recorder = QualityCheckpoints(checkpoints, finished_copy_evaluator(config, norm, splits,
                                                                       train_x), started)
    standard = callbacks_lib.standard
    with_recorder = mock.patch.object(  # the recorder runs last, after the backup callbacks
        callbacks_lib, "standard", lambda *a, **k: standard(*a, **k) + [recorder])
    print(f"{label}: {config.model.name}, {config.train.epochs} epochs", flush=True)
    with tempfile.TemporaryDirectory() as workdir, with_recorder:
        train_lib.train(config, workdir, splits["train"])
    keras.backend.clear_session()
    return recorder.rows


def quickstart_config(seed, quick):
    config = config_files.load("anogan")
    config.seed, config.train.verbose, config.train.sample_plot_every = seed, 0, 0
    # The reference the stabilizers are measured against: the former 20 plain epochs (the
    # config now trains 5 with the weight average, which these curves chose).
    config.train.epochs, config.train.ema_momentum = 20, 0.0
    if quick:
        config_files.override(config, QUICK)
    return config


def mitbih_aegan_config(seed, quick, mitdb):
    config = config_files.load("aegan")
    config_files.override(config, {**MITBIH_CPU, "train.epochs": 10})
    config.data.dir, config.seed = mitdb, seed
    config.train.verbose, config.train.sample_plot_every = 0, 0
    if quick:
        config_files.override(config, {**QUICK, "data.name": "synthetic_ecg"})
    return config


def checkpoints_of(run, epochs, quick):
    if quick:
        return (1, epochs)
    # The quick start's checkpoints each fit the amortized inverse (1,500 steps): fewer.
    wanted = (2, 5, 10, 15, 20) if run == "quickstart" else (1, 2, 3, 4, 6, 8, 10)
    return tuple(e for e in wanted if e <= epochs)


def family_runs(family, seed, data_dirs, quick):
    """(config, checkpoints) of each training run of the family's curve."""
    budget = "quick" if quick else "cpu"
    base = benchmark_quality.make_config(family, "mitbih_intra", budget, seed, None, data_dirs)
    if quick:
        base.data.name, base.data.num_subjects = "synthetic_ecg", 4
    base.detection.max_samples = 0 if quick else 1000
    model_class = models.MODELS[family]
    if model_class.STAGE_EPOCHS:  # the encoder stage follows the GAN stage: one run per length
        runs = []
        for epochs in ((1,) if quick else (1, 2, 3, 6)):
            config = base.copy_and_resolve_references()
            config.train.epochs = epochs
            stage = max(1, (2 * epochs) // 3)  # the cpu budget's 3 : 2
            config_files.override(config, {field: stage for field in model_class.STAGE_EPOCHS})
            runs.append((config, (epochs + stage,)))  # scored once, after both stages
        return runs
    base.train.epochs = 2 if quick else max(FAMILY_CHECKPOINTS)
    return [(base, (1, 2) if quick else FAMILY_CHECKPOINTS)]


def cpu_figures(path="results/quality_mitbih.json"):
    """{method: (mean AUROC, std)} of the quality benchmark's mitbih_intra cpu rows."""
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        summary = json.load(f).get("summary", [])
    return {row["method"]: (row["auroc"]["mean"], row["auroc"]["std"]) for row in summary
            if row["suite"] == "mitbih_intra" and row["budget"] == "cpu"}


def reached(rows, target):
    """The first row (by training time) whose test AUROC reaches target, or None."""
    hits = [r for r in sorted(rows, key=lambda r: r["train_seconds"]) if r["auroc"] >= target]
    return hits[0] if hits else None


def markdown(result):
    lines = []
    curves = [c for c in result["curves"] if c["run"] != "families"]
    if curves:
        lines += ["| run | variant | seed | epoch | training s | test AUROC | F1 | MCC |",
                  "|---|---|---|---|---|---|---|---|"]
        for c in curves:
            for r in c["rows"]:
                lines.append(f"| {c['run']} | {c['variant']} | {c.get('seed', 0)} | "
                             f"{r['epoch']} | "
                             f"{r['train_seconds']:.1f} | {r['auroc']:.4f} | {r['f1']:.3f} | "
                             f"{r['mcc']:.3f} |")
        lines.append("")
        lines += seed_means(curves)
    families = [c for c in result["curves"] if c["run"] == "families"]
    if families:
        lines += ["| family | recorded cpu-budget figure (3 seeds) | test AUROC by epoch "
                  "(training s) | first epoch at the recorded figure | first epoch within 0.01 "
                  "of this run's 3-epoch AUROC |", "|---|---|---|---|---|"]
        for c in families:
            target = c.get("target")
            points = ", ".join(f"{r['epoch']}: {r['auroc']:.3f} ({r['train_seconds']:.0f} s)"
                               for r in c["rows"])
            hit = reached(c["rows"], target[0] - target[1]) if target else None
            own = [r["auroc"] for r in c["rows"] if r["epoch"] == CPU_BUDGET_EPOCHS]
            near = reached(c["rows"], own[0] - 0.01) if own else None
            lines.append(f"| {c['family']} ({c['method']}) | "
                         + (f"{target[0]:.3f} ± {target[1]:.3f}" if target else "-")
                         + f" | {points} | {_epoch_at(hit)} | {_epoch_at(near)} |")
        lines.append("")
    return "\n".join(lines)


def seed_means(curves):
    """Lines of a table of mean test AUROC and MCC over the seeds per run, variant and epoch
    (none for one seed)."""
    groups = {}
    for c in curves:
        for r in c["rows"]:
            groups.setdefault((c["run"], c["variant"], r["epoch"]), []).append(r)
    if all(len(rows) < 2 for rows in groups.values()):
        return []
    lines = ["| run | variant | epoch | seeds | training s (median) | mean test AUROC | "
             "mean MCC |", "|---|---|---|---|---|---|---|"]
    for (run, variant, epoch), rows in groups.items():
        seconds = sorted(r["train_seconds"] for r in rows)[len(rows) // 2]
        lines.append(f"| {run} | {variant} | {epoch} | {len(rows)} | {seconds:.1f} | "
                     f"{sum(r['auroc'] for r in rows) / len(rows):.4f} | "
                     f"{sum(r['mcc'] for r in rows) / len(rows):.3f} |")
    return lines + [""]


def _epoch_at(row):
    return f"{row['epoch']} ({row['train_seconds']:.0f} s)" if row else "not within the run"


def plot(result, path):
    curves = [c for c in result["curves"] if c["run"] != "families"]
    runs = list(dict.fromkeys(c["run"] for c in curves))
    if not runs:
        return None
    fig, axes = plots.subplots(1, len(runs), figsize=(6 * len(runs), 4.5), squeeze=False)
    for ax, run in zip(axes[0], runs):
        for c in (c for c in curves if c["run"] == run):
            ax.plot([r["train_seconds"] for r in c["rows"]], [r["auroc"] for r in c["rows"]],
                    marker="o", label=f"{c['variant']} (seed {c.get('seed', 0)})")
        ax.set_xlabel("training wall-clock s")
        ax.set_ylabel("test AUROC")
        ax.set_title(f"{run}: AUROC against training time")
        ax.legend(fontsize=8)
    return plots.save(fig, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="quickstart,mitbih_aegan,families")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--families", default=",".join(models.MODELS))
    parser.add_argument("--seeds", default="0", help="one curve per seed and variant")
    parser.add_argument("--epochs", type=int, default=0,
                        help="quickstart, mitbih_aegan: train this many epochs (0: the run's)")
    parser.add_argument("--checkpoints", default="",
                        help="quickstart, mitbih_aegan: these epochs (default: the run's)")
    parser.add_argument("--mitdb", default=os.path.join(SHARED, "mitdb"))
    parser.add_argument("--output", default="results/training_curve.json")
    parser.add_argument("--quick", action="store_true", help="CI smoke run: tiny budgets")
    args = parser.parse_args(argv)
    runs = args.runs.split(",")
    for name, given, known in (("run", runs, ("quickstart", "mitbih_aegan", "families")),
                               ("variant", args.variants.split(","), VARIANTS),
                               ("family", args.families.split(","), models.MODELS)):
        unknown = [g for g in given if g not in known]
        if unknown:
            raise SystemExit(f"error: unknown {name}(s) {unknown}; known: {', '.join(known)}")
    logging.set_verbosity(logging.WARNING)
    tf.get_logger().setLevel("ERROR")  # each checkpoint's detector traces its search anew
    result = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
              "seeds": args.seeds, "curves": []}
    seeds = [int(seed) for seed in args.seeds.split(",")]

    def save():
        io_utils.write_json(args.output, result)

    for run in (r for r in runs if r != "families"):
        for seed in seeds:
            for variant in args.variants.split(","):
                config = (quickstart_config(seed, args.quick) if run == "quickstart"
                          else mitbih_aegan_config(seed, args.quick, args.mitdb))
                config_files.override(config, VARIANTS[variant])
                config.train.epochs = args.epochs or config.train.epochs
                checkpoints = (tuple(int(e) for e in args.checkpoints.split(","))
                               if args.checkpoints
                               else checkpoints_of(run, config.train.epochs, args.quick))
                rows = curve(config, checkpoints, f"{run}/{variant}/seed {seed}")
                result["curves"].append({"run": run, "variant": variant, "seed": seed,
                                         "rows": rows})
                save()
    if "families" in runs:
        figures = cpu_figures()
        for family in args.families.split(","):
            rows = []
            for config, checkpoints in family_runs(family, seeds[0],
                                                   {"mitbih": args.mitdb}, args.quick):
                rows += curve(config, checkpoints, f"families/{family}")
                if models.MODELS[family].STAGE_EPOCHS:  # label by the GAN stage's epochs
                    rows[-1]["epoch"] = int(config.train.epochs)
            method = f"{family}/{config.detection.combiner}"
            result["curves"].append({"run": "families", "variant": "plain", "seed": seeds[0],
                                     "family": family,
                                     "method": method, "target": figures.get(method),
                                     "rows": rows})
            save()
    stem = os.path.splitext(args.output)[0]
    io_utils.write_text(stem + ".md", markdown(result))
    plot(result, stem + ".png")
    print(markdown(result))


if __name__ == "__main__":
    main()
