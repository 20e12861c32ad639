"""Validation-only tuning of a family's few sensitive settings, with Optuna; writes a runnable config.

Usage:
  python scripts/tune.py --config=configs/aegan.py [--config.data.name=digits ...]
      [--trials=20] [--minutes=30] [--classes=0,3,7] [--output=configs/tuned/aegan_digits.py]

What is searched (TPE sampler, seeded): model.latent_dim, model.base_filters, both learning
rates, train.epochs (half to twice the config's), the adversarial weight of AE-GAN and GANomaly,
search.n_max for the latent-search families (AnoGAN, WGAN-GP) and the combiner (weighted, or
grid / svm over all of the family's components).

The objective is validation AUROC only: each trial trains on the train split, scores the
validation split (detection.max_samples of it), fits the combiner and its normalization on one
stratified half of validation and measures AUROC on the other half, so a fitted combiner cannot
win by memorizing the samples it is judged on. With --classes (one-class image suites) the
objective is the mean over those normal classes. The test split is never read.

The study is kept in OUTPUT.db (SQLite): a rerun with the same output resumes it, and
--trials / --minutes bound the trials started by this run. The best trial is written as
OUTPUT, a config file with FAMILY, OVERRIDES (the command line's overrides and the tuned
values) and get_config(): run it with python -m tfgad.main --config=OUTPUT, or pass it to
scripts/benchmark_quality.py --recipes. OUTPUT.json holds every trial.
"""
import os
import sys
import tempfile
import time

import tfgad  # noqa: F401  (sets TF log level and Keras backend before TF is imported)
import keras
import numpy as np
import optuna
from absl import app, flags, logging
from ml_collections import config_flags

from tfgad import config_files, data, io_utils, models
from tfgad.detector import Detector
from tfgad.errors import UserError
from tfgad.evaluation import metrics as metric_lib
from tfgad.training import config_checks, train_lib
from tfgad.detection import subsets

FLAGS = flags.FLAGS


def define_flags():
    """The command line's flags; defined when run as a script only, so that importing the
    module (tests) does not clash with tfgad.main's --config."""
    config_flags.DEFINE_config_file("config", None, "The family's config file, e.g. "
                                    "configs/aegan.py, with --config.a.b=value overrides.")
    flags.DEFINE_integer("trials", 20, "Trials this run starts at most.")
    flags.DEFINE_float("minutes", 30.0, "No trial starts after this many minutes.")
    flags.DEFINE_string("classes", "", "Normal classes to average over (one-class suites); "
                        "default: the config's data.normal_class only.")
    flags.DEFINE_string("output", None, "The config file to write; default "
                        "configs/tuned/<family>_<data>.py.")


COMBINERS = ("weighted", "grid", "svm")
# Exceptions of a trial that mean "this setting does not work" (a diverged training, a config
# the checks refuse), not "the tuner is broken": the trial is recorded as failed and the study
# goes on.
TRIAL_FAILURES = (UserError, FloatingPointError)


def suggest(trial: optuna.Trial, config) -> dict:
    """The dotted overrides of one trial."""
    epochs = config.train.epochs
    chosen = {
        "model.latent_dim": trial.suggest_categorical("latent_dim", [8, 16, 32, 64]),
        "model.base_filters": trial.suggest_categorical("base_filters", [8, 16, 32]),
        "train.g_learning_rate": trial.suggest_float("g_learning_rate", 5e-5, 2e-3, log=True),
        "train.d_learning_rate": trial.suggest_float("d_learning_rate", 5e-5, 2e-3, log=True),
        "train.epochs": trial.suggest_int("epochs", max(1, epochs // 2), max(2, 2 * epochs)),
    }
    name = config.model.name
    family = models.MODELS[name]
    for field, (low, high) in family.TUNING.items():  # the family's own sensitive settings
        chosen[field] = trial.suggest_float(field.rsplit(".", 1)[1], low, high, log=True)
    # Scored by latent search, where search.n_max trades time for quality.
    if not family.HAS_ENCODER or config.detection.scorer == "latent_search":
        chosen["search.n_max"] = trial.suggest_categorical("n_max", [50, 100, 200, 300])
    combiner = trial.suggest_categorical("combiner", list(COMBINERS))
    chosen["detection.combiner"] = combiner
    if combiner != "weighted":  # the fitted combiners see every component of the family
        chosen["detection.components"] = ",".join(models.MODELS[name].score_components())
    for field in family.STAGE_EPOCHS:  # a later stage scales with the first, as in configs/
        chosen[field] = max(1, chosen["train.epochs"] // 2)
    return chosen


def halves(samples, seed: int) -> tuple:
    """Two disjoint stratified halves of samples: (fit, judge)."""
    rng = np.random.default_rng(seed)
    fit, judge = [], []
    for label in (0, 1):
        index = rng.permutation(np.flatnonzero(samples.y == label))
        fit.append(index[::2])
        judge.append(index[1::2])
    return samples.subset(np.sort(np.concatenate(fit))), samples.subset(np.sort(np.concatenate(judge)))


def validation_splits(config, source) -> dict:
    """train and val of config's data; test is dropped here, so nothing below can read it."""
    splits, _ = data.load_splits(config, samples=source)
    return {"train": splits["train"], "val": splits["val"]}


def validation_auroc(config, splits: dict) -> float:
    """Trains config's model, calibrates a Detector on one half of validation and returns the
    AUROC of its scores on the other half."""
    with tempfile.TemporaryDirectory() as workdir:
        model = train_lib.train(config, workdir, splits["train"])
    fit_half, judge_half = halves(subsets.validation_subset(config, splits["val"]), config.seed)
    # The splits are normalized already: the detector scores them as they are.
    detector = Detector.from_model(config, model, {"kind": "none"}, splits["train"].x.shape[1:])
    detector.calibrate(fit_half, splits["train"])
    judged = detector.decision_function(judge_half.x)
    keras.backend.clear_session()  # a study builds many models
    return metric_lib.ranking(judge_half.y, judged)["auroc"]


class Objective:
    """Mean validation AUROC over the normal classes of one trial's settings."""

    def __init__(self, base, classes):
        self.base = base
        self.classes = classes
        self.sources = {}  # one read of the data source per normal class, for every trial

    def _source(self, config):
        key = config.data.normal_class
        if key not in self.sources:
            self.sources[key] = data.load_source(config)
        return self.sources[key]

    def __call__(self, trial: optuna.Trial) -> float:
        chosen = suggest(trial, self.base)
        trial.set_user_attr("overrides", chosen)
        started = time.perf_counter()
        aurocs = []
        for normal_class in self.classes:
            config = config_files.override(self.base.copy_and_resolve_references(), chosen)
            config.data.normal_class = normal_class
            config.train.verbose, config.train.sample_plot_every = 0, 0  # quiet, no plots
            config_checks.validate(config)
            keras.utils.set_random_seed(config.seed)
            aurocs.append(validation_auroc(config, validation_splits(config, self._source(config))))
            trial.set_user_attr(f"auroc_class_{normal_class}", aurocs[-1])
        trial.set_user_attr("seconds", time.perf_counter() - started)
        value = float(np.mean(aurocs))
        if not np.isfinite(value):
            raise FloatingPointError(f"validation AUROC is {value}")
        print(f"trial {trial.number}: validation AUROC {value:.4f} in "
              f"{trial.user_attrs['seconds']:.0f} s with {chosen}", flush=True)
        return value


def command_line_overrides(config, family_config) -> dict:
    """The fields where config differs from the family's config file: what the command line set."""
    mine, theirs = config_files.flatten(config), config_files.flatten(family_config)
    return {k: v for k, v in mine.items() if theirs.get(k, object()) != v}


def config_reference(path: str) -> str:
    """How the written file names its base config: by name when it is one of the shipped ones."""
    path = os.path.realpath(path)  # configs/ in a checkout links to tfgad/configs/
    if os.path.dirname(path) == config_files.CONFIGS_DIR:
        return os.path.basename(path)[:-3]
    return path


def run_path(output: str) -> str:
    """output as the run line names it: configs/... when written among the shipped configs
    (a path that works in a checkout and that an installed tfgad resolves to its own copy)."""
    path = os.path.realpath(output)
    if path.startswith(config_files.CONFIGS_DIR + os.sep):
        return "configs/" + os.path.relpath(path, config_files.CONFIGS_DIR)
    return path


def render(study, base_path, fixed, classes, elapsed_minutes, output) -> str:
    """The best trial as a config file: FAMILY, OVERRIDES, get_config()."""
    best = study.best_trial
    overrides = {**fixed, **best.user_attrs["overrides"]}
    family = overrides.get("model.name", config_files.load(base_path).model.name)
    data_name = overrides.get("data.name", config_files.load(base_path).data.name)
    finished = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    classes_text = f" (normal classes {','.join(map(str, classes))})" if len(classes) > 1 else ""
    lines = [
        f'"""Tuned by scripts/tune.py: {family} on {data_name}{classes_text}.',
        "",
        f"Best mean validation AUROC {best.value:.4f} (trial {best.number}; {len(finished)} "
        f"finished trials, this run {elapsed_minutes:.1f} min).",
        "The combiner was fit on one half of validation and judged on the other; the test split",
        f"was not read. Run: python -m tfgad.main --config={run_path(output)}",
        '"""',
        "from tfgad import config_files",
        "",
        f"BASE = {config_reference(base_path)!r}",
        f"FAMILY = {family!r}",
        "OVERRIDES = {",
        *[f"    {k!r}: {v!r}," for k, v in sorted(overrides.items())],
        "}",
        "",
        "",
        "def get_config():",
        "    return config_files.override(config_files.load(BASE), OVERRIDES)",
        "",
    ]
    return "\n".join(lines)


def trials_table(study) -> dict:
    return {"trials": [{"number": t.number, "state": t.state.name, "value": t.value,
                        "params": t.params, **t.user_attrs} for t in study.trials]}


def default_output(config) -> str:
    return os.path.join(config_files.CONFIGS_DIR, "tuned",
                        f"{config.model.name}_{config.data.name}.py")


def _check_same_study(study, fixed, classes, stem) -> None:
    """A resumed study must tune the same thing: its trials are compared with the new ones."""
    setting = {"base_overrides": fixed, "classes": classes}
    recorded = {k: study.user_attrs[k] for k in setting if k in study.user_attrs}
    if not recorded:
        for key, value in setting.items():
            study.set_user_attr(key, value)
    elif recorded != setting:
        raise UserError(f"{stem}.db holds a study of other settings ({recorded}); this run has "
                        f"{setting}; pass another --output, or delete {stem}.db to start over")


def tune(config, base_path, trials, minutes, classes, output) -> optuna.Study:
    """Runs (or resumes) the study of output and writes output, output.json; returns the study."""
    family_config = config_files.load(base_path)
    fixed = command_line_overrides(config, family_config)
    classes = classes or [config.data.normal_class]
    config_checks.validate(config)
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    stem = os.path.splitext(output)[0]
    study = optuna.create_study(
        study_name=os.path.basename(stem), storage=f"sqlite:///{os.path.abspath(stem)}.db",
        direction="maximize", load_if_exists=True,
        sampler=optuna.samplers.TPESampler(seed=config.seed))
    _check_same_study(study, fixed, classes, stem)
    started = time.perf_counter()
    study.optimize(Objective(config, classes), n_trials=trials, timeout=60.0 * minutes,
                   catch=TRIAL_FAILURES, gc_after_trial=True)
    if not any(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials):
        raise UserError(f"no trial of {output} finished (see the failures above); check that "
                        f"the config trains with python -m tfgad.main --config={base_path}")
    elapsed = (time.perf_counter() - started) / 60
    io_utils.write_text(output, render(study, base_path, fixed, classes, elapsed, output))
    io_utils.write_json(stem + ".json", trials_table(study))
    return study


def main(argv):
    del argv
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.set_verbosity(logging.WARNING)
    config = FLAGS.config
    if config is None:
        raise SystemExit("error: --config=configs/<family>.py is required")
    base_path = config_flags.get_config_filename(FLAGS["config"])
    classes = [int(c) for c in FLAGS.classes.split(",") if c.strip()]
    output = FLAGS.output or default_output(config)
    try:
        study = tune(config, base_path, FLAGS.trials, FLAGS.minutes, classes, output)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"best validation AUROC {study.best_value:.4f} (trial {study.best_trial.number}); "
          f"wrote {output}")
    return 0


if __name__ == "__main__":
    define_flags()
    app.run(main, flags_parser=lambda argv: FLAGS(config_files.resolve_argv(argv)))
