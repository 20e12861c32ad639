"""Detection quality: every model family and combiner next to classic baselines, over seeds.

Usage:
  python scripts/benchmark_quality.py [--suites=mitbih_intra,mitbih_inter,digits,mnist]
      [--models=gan,...] [--combiners=weighted,grid,svm] [--baselines=isolation_forest,...]
      [--ensembles=3,5] [--recipes=configs/ecg_beats.py,...] [--models=none]
      [--seeds=0,1,2] [--budget=cpu|full] [--classes=0,...,9] [--quick]
      [--output=results/quality.json]

Suites: MIT-BIH normal vs abnormal beats with the intra-patient (per-beat, BeatGAN) and the
inter-patient (DS1 train/val, DS2 test, de Chazal) protocols; scikit-learn's 8x8 digits and
the 5,000 MNIST digits of OpenCV's digits.png, one class normal at a time (the figure is the
mean over the classes).
Per suite, class and seed, every method sees the same splits. A GAN is trained once; its score
components on validation and test are computed once; each combiner is then fit on validation
only and evaluated on test. Baselines get the same normal training samples, and their
threshold is fit by the same rule (detection.threshold, max MCC by default) on validation.
Every finished run is appended to the output JSON at once; a rerun with the same output skips
the runs it already holds (resumable), and the markdown tables are written beside it (.md).

--ensembles=3,5 adds, per family, ensembles of that many members (methods FAMILY_x3/COMBINER).
--recipes adds recipe files (configs/ecg_beats.py, or what scripts/tune.py wrote): the
family's config with the suite and budget, then the recipe's own OVERRIDES on top (except the
suite's data source and the budget's subset sizes), evaluated with the recipe's combiner only
(method recipe:NAME). A recipe whose data settings change the samples (e.g.
data.rhythm_features, data.window_before) gets its own read of the source, split with the
same seed, and every baseline is run on those samples too (method BASELINE@NAME), so that
the recipe is compared with the baselines on the same inputs.
"""
import argparse
import json
import os
import platform
import tempfile
import time

import tfgad  # noqa: F401  (sets TF log level and Keras backend before TF is imported)
import keras
import numpy as np
import tensorflow as tf
from absl import logging

from tfgad import baselines, config_files, data, io_utils, labelled_baselines, models
from tfgad.data import rhythm, splits as split_lib
from tfgad.data.types import Samples
from tfgad.detector import Detector, one_class_rules
from tfgad.detection import calibration, thresholds
from tfgad.evaluation import metrics as metric_lib
from tfgad.models import scores
from tfgad.detection import subsets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "data")
# Model family -> its shipped config (each family's CONFIG in its model file).
FAMILIES = {name: family.CONFIG for name, family in models.MODELS.items()}
COMBINERS = ("weighted", "grid", "svm", "boosted")
DEFAULT_COMBINERS = "weighted,grid,svm"  # the rows of BENCHMARKS.md; boosted: on request
_NO_LABELS = {"data.anomaly_val_fraction": 0.0}
NEXT_DIGIT = "next"  # val_anomaly_classes of a digit suite: the digit after the normal one
SUITES = {
    "mitbih_intra": {"data.name": "mitbih", "data.protocol": "intra"},
    "mitbih_inter": {"data.name": "mitbih", "data.protocol": "inter"},
    "digits": {"data.name": "digits"},
    "mnist": {"data.name": "mnist_png"},
    # Anomaly kinds nobody labelled: validation labels one kind, test judges the others.
    "mitbih_unseen": {"data.name": "mitbih", "data.protocol": "intra",
                      "data.val_anomaly_classes": "V"},
    "digits_unseen": {"data.name": "digits", "data.val_anomaly_classes": NEXT_DIGIT},
    "mnist_unseen": {"data.name": "mnist_png", "data.val_anomaly_classes": NEXT_DIGIT},
    # No labels at all: one-class composition and a percentile threshold.
    "mitbih_intra_nolabel": {"data.name": "mitbih", "data.protocol": "intra", **_NO_LABELS},
    "mitbih_inter_nolabel": {"data.name": "mitbih", "data.protocol": "inter", **_NO_LABELS},
    "digits_nolabel": {"data.name": "digits", **_NO_LABELS},
    "mnist_nolabel": {"data.name": "mnist_png", **_NO_LABELS},
    "synthetic_nolabel": {"data.name": "synthetic_ecg", **_NO_LABELS},
}
CLASS_SUITES = tuple(s for s in SUITES if s.startswith(("digits", "mnist")))  # a run per class
# Budget fields a recipe cannot change: which samples train, validation and test hold.
SUBSET_FIELDS = {"data.max_samples", "detection.max_samples"}
# Training and scoring budgets per suite: config overrides. "full" is what the papers train;
# "cpu" is what fits a 2-core machine in under an hour; "quick" is the CI smoke run.
_TINY = {"model.latent_dim": 8, "model.base_filters": 8, "model.num_blocks": 2,
         "train.epochs": 1, "model.fanogan.encoder_epochs": 1, "search.n_max": 10,
         "detection.max_samples": 200}
_SMALL_IMAGES = {"train.batch_size": 16, "search.n_max": 100, "model.latent_dim": 16,
                 "model.base_filters": 16, "model.num_blocks": 2, "detection.max_samples": 1000}
BUDGETS = {
    "full": {
        "mitbih": {"train.epochs": 20, "model.fanogan.encoder_epochs": 10, "search.n_max": 300},
        "digits": {"train.epochs": 200, "model.fanogan.encoder_epochs": 100, "search.n_max": 300,
                   "train.batch_size": 16},
        "mnist": {"train.epochs": 100, "model.fanogan.encoder_epochs": 50, "search.n_max": 300,
                  "train.batch_size": 16},
        "synthetic": {"train.epochs": 20, "model.fanogan.encoder_epochs": 10, "search.n_max": 300},
    },
    "cpu": {
        "mitbih": {"data.max_samples": 10000, "train.epochs": 3, "model.fanogan.encoder_epochs": 2,
                   "search.n_max": 100, "detection.max_samples": 2000},
        # About 110 (digits) and 300 (mnist) normal training images: small batches, so that
        # the epochs below make some 300 to 400 steps.
        "digits": {**_SMALL_IMAGES, "train.epochs": 48, "model.fanogan.encoder_epochs": 24},
        "mnist": {**_SMALL_IMAGES, "train.epochs": 20, "model.fanogan.encoder_epochs": 10},
        # The synthetic ECG's default: 30 subjects' beats, about 2,000 normal training beats.
        "synthetic": {"train.epochs": 10, "model.fanogan.encoder_epochs": 5, "search.n_max": 100,
                      "detection.max_samples": 2000},
    },
    "quick": {
        "mitbih": {**_TINY, "data.records": "100,105,106,119,208", "data.max_samples": 2000},
        "digits": {**_TINY, "train.epochs": 2},
        "mnist": {**_TINY, "train.epochs": 2},
        "synthetic": {**_TINY, "data.num_subjects": 4},
    },
}


def sample_settings(recipe, suite, budget):
    """The recipe's data.* overrides that change the samples the suite gives (not the fields
    the suite and budget fix): {} when it uses the suite's samples."""
    if recipe is None:
        return {}
    fixed = set(SUITES[suite]) | SUBSET_FIELDS | {"data.dir", "data.normal_class"}
    return {k: v for k, v in recipe.OVERRIDES.items() if k.startswith("data.") and k not in fixed}


def _budget_key(suite):
    return suite.split("_")[0]


def _suite_overrides(suite, normal_class):
    overrides = dict(SUITES[suite])
    if overrides.get("data.val_anomaly_classes") == NEXT_DIGIT:
        overrides["data.val_anomaly_classes"] = str((int(normal_class or 0) + 1) % 10)
    return overrides


def make_config(family, suite, budget, seed, normal_class, data_dirs, ensemble=1, recipe=None):
    """The family's config with the suite's data, the budget and the seed, and a recipe's
    overrides on top; quiet, no plots. The suite and the budget's subset sizes stay the
    benchmark's (every method sees the same samples); the rest of a recipe (its epochs,
    windows, networks, combiner) is what it is evaluated with."""
    config = config_files.load(FAMILIES[family])
    config_files.override(config, _suite_overrides(suite, normal_class))
    config_files.override(config, BUDGETS[budget][_budget_key(suite)])
    if recipe is not None:
        kept = set(SUITES[suite]) | (set(BUDGETS[budget][_budget_key(suite)]) & SUBSET_FIELDS)
        kept |= {"data.dir", "data.normal_class"}
        config_files.override(config, {k: v for k, v in recipe.OVERRIDES.items() if k not in kept})
    if ensemble > 1:
        config.model.ensemble = ensemble
    config.seed = seed
    config.data.dir = data_dirs.get(config.data.name, "")
    config.data.normal_class = normal_class if normal_class is not None else 0
    config.train.verbose, config.train.sample_plot_every = 0, 0
    return config


def _run_key(run):
    return (run["suite"], run["budget"], run["normal_class"], run["seed"], run["method"])


def gan_runs(config, splits, norm, combiners, keep_components=False):
    """Fits a Detector once (trains, scores validation), scores test once, then fits and
    evaluates each combiner on those outputs (the fitted ones over every component the model
    has, unless keep_components)."""
    val, test = subsets.scored_subsets(config, splits)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        detector = Detector(config, verbose=0, workdir=workdir).fit_samples(
            splits["train"], val, norm)
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    test_out = detector.components(test.x)
    ms_per_sample = 1000.0 * (time.perf_counter() - started) / max(len(test), 1)
    names = base_components(test_out, config)
    results = {}
    for combiner in combiners:
        overrides = {"detection.combiner": combiner}
        if combiner != "weighted" and not keep_components:  # the fitted ones get every component
            overrides["detection.components"] = ",".join(names)
        # A recipe as it stands: the detector's own calibration (which, without labels, may
        # have fallen back to the one-class rules: tfgad/detection/one_class.py).
        calib = detector.calibration_ if keep_components else detector.calibration_with(overrides)
        test_scores, test_pred = calibration.apply(calib, test_out, test.groups)
        results[combiner] = judged_metrics(test, config, test_scores, test_pred, {
            "components": calib["components"],
            "train_seconds": train_seconds, "score_ms_per_sample": ms_per_sample})
    keras.backend.clear_session()  # a long benchmark builds hundreds of models
    return results


def test_metrics(labels, test_scores, predictions):
    """AUROC, AUPRC, F1, MCC of the validation-fit threshold, and, for reporting only, the
    best MCC any threshold reaches on test (how much the validation threshold loses)."""
    return {**metric_lib.evaluate(labels, test_scores, predictions),
            "oracle_mcc": thresholds.best_value(test_scores, labels, thresholds.mcc_counts)}


def base_components(outputs, config):
    """The model's score components by name (an ensemble's, without the member suffix or
    the spread, which calibration adds itself)."""
    names = scores.component_names(outputs)
    if config.model.ensemble > 1:
        names = [n[:-len("_m0")] for n in names if n.endswith("_m0")]
    return names


def judged_metrics(test, config, test_scores, predictions, extra):
    """test_metrics on the test rows the suite judges (the normals and the unseen kinds'
    anomalies when validation labels only some: data.val_anomaly_classes), with extra."""
    rows = split_lib.unseen_rows(test, config.data)
    rows = np.ones(len(test), bool) if rows is None else rows
    return {**test_metrics(test.y[rows], test_scores[rows], predictions[rows]), **extra,
            "test_samples": int(rows.sum()), "test_anomalies": int(test.y[rows].sum())}


def _timed(function, *args):
    started = time.perf_counter()
    value = function(*args)
    return value, time.perf_counter() - started


def classic_scores(name, config, train, val, test):
    """A classic detector fit on the normal train split: its (val, test) scores on the GANs'
    scored subsets, fit seconds, scoring ms per test sample."""
    score, train_seconds = _timed(baselines.fit, name, train.x, config)
    val_scores = np.asarray(score(val.x), np.float64)
    test_scores, seconds = _timed(lambda: np.asarray(score(test.x), np.float64))
    keras.backend.clear_session()
    return val_scores, test_scores, train_seconds, 1000.0 * seconds / len(test)


def thresholded_run(config, val, test, val_scores, test_scores, extra, threshold_scores=None):
    """Metrics of test scores under a threshold fit by the GANs' rule (detection.threshold)
    on validation scores (threshold_scores: out-of-fold ones, where given)."""
    threshold = thresholds.fit(val_scores if threshold_scores is None else threshold_scores,
                               val.y, config)
    return judged_metrics(test, config, test_scores, (test_scores >= threshold).astype(np.int8),
                          extra)


def baseline_run(name, config, splits, classic=None):
    """A classic detector (unsupervised), its threshold by the GANs' rule on the GANs' val
    subset; its scores go into classic[name] (if given) for the label-fair composition."""
    val, test = subsets.scored_subsets(config, splits)
    val_scores, test_scores, train_seconds, ms = classic_scores(name, config, splits["train"],
                                                                val, test)
    if classic is not None:
        classic[name] = (val_scores, test_scores)
    return thresholded_run(config, val, test, val_scores, test_scores,
                           {"train_seconds": train_seconds, "score_ms_per_sample": ms})


def labelled_run(name, config, splits):
    """A label-fair classifier (tfgad/labelled_baselines.py) trained on the normal train split
    and the labelled validation samples the GAN's combiner sees; its threshold by the same
    rule on out-of-fold validation scores."""
    val, test = subsets.scored_subsets(config, splits)
    train_x = splits["train"].x
    if name in labelled_baselines.BY_RECORD:  # every input within its record, as the recipes
        normalized = lambda s: labelled_baselines.record_normalized(s.x, s.groups)  # noqa: E731
        train_x = normalized(splits["train"])
        val = Samples(normalized(val), val.y, val.groups, val.classes)
        test = Samples(normalized(test), test.y, test.groups, test.classes)
    started = time.perf_counter()
    out_of_fold = labelled_baselines.out_of_fold_scores(name, train_x, val.x, val.y, config)
    score = labelled_baselines.fit(name, train_x, val.x, val.y, config)
    train_seconds = time.perf_counter() - started
    test_scores, seconds = _timed(lambda: np.asarray(score(test.x), np.float64))
    keras.backend.clear_session()
    return thresholded_run(config, val, test, score(val.x), test_scores,
                           {"train_seconds": train_seconds,
                            "score_ms_per_sample": 1000.0 * seconds / len(test)}, out_of_fold)


def classic_combined_run(config, splits, classic, combiner, record_normalization="none"):
    """The classic detectors' scores (and the samples' context features, where they carry
    them) as components, composed by the combiner fit on the labelled validation samples, and
    normalized per record where the GAN recipes beside it are: what the GANs' composition
    would give without the GANs."""
    val, test = subsets.scored_subsets(config, splits)
    val_out = {name: v for name, (v, _) in classic.items()}
    test_out = {name: t for name, (_, t) in classic.items()}
    context = rhythm.channels(config)
    if context:  # the same rr_* components the GAN recipes' scorers read
        for out, samples in ((val_out, val), (test_out, test)):
            values = rhythm.split(tf.constant(samples.x), context)[1].numpy()
            out.update(rhythm.components(values))
    cfg = config.copy_and_resolve_references()
    cfg.model.ensemble = 1
    cfg.detection.combiner, cfg.detection.components = combiner, ",".join(val_out)
    cfg.detection.center_discrimination = False
    cfg.detection.record_normalization = record_normalization
    calib = calibration.fit(val_out, val.y, cfg, groups=val.groups)
    test_scores, test_pred = calibration.apply(calib, test_out, test.groups)
    return judged_metrics(test, config, test_scores, test_pred,
                          {"components": calib["components"], "train_seconds": 0.0,
                           "score_ms_per_sample": 0.0})


def _load(path):
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return {"runs": []}


def machine():
    """What the figures were measured on, for the results JSON."""
    return {"platform": platform.platform(), "cpus": os.cpu_count(),
            "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
            "tensorflow": tf.__version__}


def _save(result, path):
    result["machine"] = machine()
    result["summary"] = summarize(result["runs"])
    io_utils.write_text(path, json.dumps(result, indent=2, default=float))
    io_utils.write_text(os.path.splitext(path)[0] + ".md", markdown(result))


METRICS = ("auroc", "auprc", "f1", "mcc")


def summarize(runs):
    """Mean and std over seeds per (suite, budget, method); class suites first average over
    their classes within each seed."""
    groups = {}
    for run in runs:
        groups.setdefault((run["suite"], run["budget"], run["method"]), []).append(run)
    rows = []
    for (suite, budget, method), members in sorted(groups.items()):
        per_seed = {}
        for run in members:
            per_seed.setdefault(run["seed"], []).append(run)
        seeds = sorted(per_seed)
        row = {"suite": suite, "budget": budget, "method": method, "seeds": seeds,
               "classes": sorted({r["normal_class"] for r in members}, key=str),
               "train_minutes": float(np.mean([r["train_seconds"] for r in members])) / 60,
               "score_ms_per_sample": float(np.median([r["score_ms_per_sample"] for r in members]))}
        for metric in METRICS + ("oracle_mcc",):
            if not all(metric in r for r in members):  # runs from before it was recorded
                continue
            values = [np.mean([r[metric] for r in per_seed[s]]) for s in seeds]
            row[metric] = {"mean": float(np.mean(values)), "std": float(np.std(values))}
        rows.append(row)
    return rows


def method_kind(method):
    """What a row of the tables is: "gan_labels" (a GAN fit on labelled validation anomalies:
    a fitted combiner or a recipe), "gan" (weighted components), "label_fair" (a classifier
    or the classic detectors composed on the same labels) or "classic" (unsupervised)."""
    name = method.split("@")[0]
    if "/" in name:
        return "gan" if name.endswith("/weighted") else "gan_labels"
    if name in labelled_baselines.LABELLED_BASELINES or name.startswith("classic+"):
        return "label_fair"
    return "classic"


def verdicts(rows, labelled=True):
    """The lines that say, per suite, whether the best GAN beats the best baseline of its
    kind: label-fair ones for GANs fit on labels, classic detectors for the others. In a suite
    without labels (labelled=False) every GAN row is one-class, whatever its combiner (one
    fit against generated negatives)."""
    best = {}
    for row in rows:
        kind = method_kind(row["method"])
        kind = "gan" if kind == "gan_labels" and not labelled else kind
        if kind not in best or row["auroc"]["mean"] > best[kind]["auroc"]["mean"]:
            best[kind] = row
    lines = []
    for gan, rival, what in (("gan_labels", "label_fair", "with labels"),
                             ("gan", "classic", "without labels")):
        if gan in best and rival in best:
            g, r = best[gan], best[rival]
            lead = g["auroc"]["mean"] - r["auroc"]["mean"]
            lines.append(f"- {what}: best GAN `{g['method']}` AUROC {g['auroc']['mean']:.3f}, "
                         f"best {'label-fair baseline' if rival == 'label_fair' else 'classic detector'}"
                         f" `{r['method']}` {r['auroc']['mean']:.3f}: "
                         f"{'GAN leads' if lead > 0 else 'baseline leads'} by {abs(lead):.3f}")
    return lines + [""] if lines else []


def markdown(result):
    lines = []
    for suite in SUITES:
        rows = [r for r in result["summary"] if r["suite"] == suite]
        if not rows:
            continue
        lines += [f"### {suite}", "",
                  "| method | budget | AUROC | AUPRC | F1 | MCC | best MCC on test | seeds | "
                  "train min/run | score ms/sample |", "|---|---|---|---|---|---|---|---|---|---|"]
        for r in sorted(rows, key=lambda r: -r["auroc"]["mean"]):
            # A single seed has no spread to show; "-": not recorded for these runs.
            cells = [(f"{r[m]['mean']:.3f}" + (f" ± {r[m]['std']:.3f}" if len(r["seeds"]) > 1
                                                else "")) if m in r else "-"
                     for m in METRICS + ("oracle_mcc",)]
            lines.append(f"| {r['method']} | {r['budget']} | {' | '.join(cells)} | "
                         f"{len(r['seeds'])} | {r['train_minutes']:.2f} | "
                         f"{r['score_ms_per_sample']:.3f} |")
        lines.append("")
        lines += verdicts(rows, SUITES[suite].get("data.anomaly_val_fraction") != 0.0)
    return "\n".join(lines)


def _ints(text):
    return [int(v) for v in text.split(",") if v.strip()]


def _names(text, known, what):
    names = [v.strip() for v in text.split(",") if v.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"error: unknown {what} {unknown}; known: {', '.join(known)}")
    return names


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suites", default=",".join(SUITES))
    parser.add_argument("--models", help="default all families (quick: gan,aegan); none: only "
                        "--recipes and --baselines")
    parser.add_argument("--combiners", default=DEFAULT_COMBINERS)
    parser.add_argument("--ensembles", default="", help="member counts, e.g. 3,5: ensembles of "
                        "each family in --models as well")
    parser.add_argument("--recipes", default="", help="recipe config files (FAMILY, OVERRIDES)")
    parser.add_argument("--baselines", default=",".join(baselines.BASELINES),
                        help="classic detectors (none: leave them out)")
    parser.add_argument("--labelled", default=",".join(labelled_baselines.LABELLED_BASELINES),
                        help="label-fair classifiers beside every method fit on labelled "
                        "validation anomalies (none: leave them out)")
    parser.add_argument("--seeds", help="default 0,1,2 (quick: 0,1)")
    parser.add_argument("--classes", help="normal classes of the digit suites; default all 10 "
                        "(quick: 0)")
    parser.add_argument("--budget", default="cpu", choices=sorted(BUDGETS))
    parser.add_argument("--mitdb", default=os.path.join(SHARED, "mitdb"))
    parser.add_argument("--mnist", default=os.path.join(SHARED, "mnist-opencv"))
    parser.add_argument("--output", default="results/quality.json")
    parser.add_argument("--quick", action="store_true",
                        help="CI smoke run: tiny models, quick budget, 2 seeds, 1 class")
    args = parser.parse_args(argv)
    if args.quick:
        args.budget = "quick"
    defaults = ("0,1", "0", "gan,aegan") if args.quick else ("0,1,2", "0,1,2,3,4,5,6,7,8,9",
                                                            ",".join(FAMILIES))
    args.seeds = args.seeds or defaults[0]
    args.classes = args.classes or defaults[1]
    args.models = args.models or defaults[2]
    if args.models == "none":  # recipes or baselines only
        args.models = ""
    args.suites = _names(args.suites, list(SUITES), "suite")
    args.models = _names(args.models, list(FAMILIES), "model")
    args.combiners = _names(args.combiners, list(COMBINERS), "combiner")
    args.baselines = _names("" if args.baselines == "none" else args.baselines,
                            list(baselines.BASELINES), "baseline")
    args.labelled = _names("" if args.labelled == "none" else args.labelled,
                           list(labelled_baselines.LABELLED_BASELINES), "labelled baseline")
    args.ensembles = _ints(args.ensembles)
    args.recipes = {os.path.splitext(os.path.basename(p))[0]: config_files.load_module(p)
                    for p in args.recipes.split(",") if p.strip()}
    return args


def negatives_calibrated(recipe):
    """Whether a recipe fits its combiner and threshold against generated negatives when
    validation holds no labelled anomaly (detection.one_class=negatives): it keeps them."""
    return recipe is not None and recipe.OVERRIDES.get("detection.one_class") == "negatives"


def gan_methods(args):
    """(method prefix, family, ensemble members, recipe module, combiners) of every GAN run."""
    methods = [(f, f, 1, None, args.combiners) for f in args.models]
    methods += [(f"{f}_x{k}", f, k, None, args.combiners) for f in args.models
                for k in args.ensembles]
    for name, recipe in args.recipes.items():
        combiner = recipe.OVERRIDES.get("detection.combiner", "weighted")
        methods.append((f"recipe:{name}", recipe.FAMILY, recipe.OVERRIDES.get("model.ensemble", 1),
                        recipe, [combiner]))
    return methods


def main(argv=None):
    args = parse_args(argv)
    logging.set_verbosity(logging.WARNING)
    data_dirs = {"mitbih": args.mitdb, "mnist_png": args.mnist}
    result = _load(args.output)
    done = {_run_key(r) for r in result["runs"]}
    for suite in args.suites:
        classes = _ints(args.classes) if suite in CLASS_SUITES else [None]
        source = {}  # one read of the samples per class and recipe, split by each seed
        for normal_class in classes:
            for seed in args.seeds.split(","):
                seed = int(seed)
                key = lambda method: (suite, args.budget, normal_class, seed, method)

                def record(method, metrics):
                    run = {"suite": suite, "budget": args.budget, "normal_class": normal_class,
                           "seed": seed, "method": method, **metrics}
                    result["runs"].append(run)
                    done.add(_run_key(run))
                    _save(result, args.output)
                    print(f"{suite} class={normal_class} seed={seed} {method}: "
                          f"AUROC {run['auroc']:.3f} F1 {run['f1']:.3f} MCC {run['mcc']:.3f} "
                          f"({run['train_seconds']:.0f} s)", flush=True)

                # One group of methods per set of samples: the suite's, and each recipe's own.
                groups = {}
                for method in gan_methods(args):
                    settings = sample_settings(method[3], suite, args.budget)
                    tag = f"@{method[0][len('recipe:'):]}" if settings else ""
                    groups.setdefault(tag, (settings, []))[1].append(method)
                groups.setdefault("", ({}, []))
                for tag, (settings, methods) in groups.items():
                    base = make_config("gan", suite, args.budget, seed, normal_class, data_dirs)
                    config_files.override(base, settings)
                    labelled = base.data.anomaly_val_fraction > 0
                    if not labelled:  # no labels: every method composes and thresholds one-class
                        base = one_class_rules(base)
                        methods = [(p, f, k, r, cs if negatives_calibrated(r) else ["weighted"])
                                   for p, f, k, r, cs in methods]
                    # Methods fit on labelled anomalies get label-fair baselines beside them.
                    fitted = sorted({c for *_, cs in methods for c in cs if c != "weighted"}) \
                        if labelled else []
                    by_record = "robust" if any(
                        (r.OVERRIDES if r else {}).get("detection.record_normalization") == "robust"
                        for _, _, _, r, _ in methods) else "none"
                    fair = ([n + tag for n in args.labelled] + [f"classic+{c}{tag}" for c in fitted]
                            if fitted else [])
                    todo = [p for p, _, _, _, cs in methods for c in cs
                            if key(f"{p}/{c}") not in done]
                    todo += [b for b in args.baselines if key(b + tag) not in done]
                    todo += [m for m in fair if key(m) not in done]
                    if not todo:
                        continue
                    if (normal_class, tag) not in source:
                        source[normal_class, tag] = data.load_source(base)
                    splits, norm = data.load_splits(base, samples=source[normal_class, tag])
                    for prefix, family, members, recipe, combiners in methods:
                        combiners = [c for c in combiners if key(f"{prefix}/{c}") not in done]
                        if not combiners:
                            continue
                        config = make_config(family, suite, args.budget, seed, normal_class,
                                             data_dirs, members, recipe)
                        keras.utils.set_random_seed(seed)
                        # A recipe is evaluated as it stands: its own combiner and components.
                        runs = gan_runs(config, splits, norm, combiners,
                                        keep_components=recipe is not None)
                        for combiner, metrics in runs.items():
                            record(f"{prefix}/{combiner}", metrics)
                    classic = {}  # the classic detectors' (val, test) scores
                    for name in args.baselines:
                        if key(name + tag) not in done:
                            record(name + tag, baseline_run(name, base, splits, classic))
                    for name in args.labelled:
                        if fitted and key(name + tag) not in done:
                            record(name + tag, labelled_run(name, base, splits))
                    for combiner in fitted:
                        if key(f"classic+{combiner}{tag}") in done or not args.baselines:
                            continue
                        val, test = subsets.scored_subsets(base, splits)
                        for name in args.baselines:  # scores of runs done before a resume
                            if name not in classic:
                                classic[name] = classic_scores(name, base, splits["train"], val,
                                                               test)[:2]
                        record(f"classic+{combiner}{tag}",
                               classic_combined_run(base, splits, classic, combiner,
                                                    by_record))
    _save(result, args.output)
    print(markdown(result))


if __name__ == "__main__":
    main()
