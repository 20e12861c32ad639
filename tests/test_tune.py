"""scripts/tune.py: validation-only objective, resumable study, a runnable best config."""
import json
import os
import sys

import numpy as np
import optuna
import pytest

from tests.conftest import ROOT
from tfgad import config_files
from tfgad.data.types import Samples
from tfgad.errors import UserError

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import tune  # noqa: E402

TEST_CONFIG = os.path.join(ROOT, "configs", "test.py")


def _samples(labels):
    labels = np.asarray(labels, np.int8)
    n = len(labels)
    return Samples(np.arange(n, dtype=np.float32).reshape(n, 1, 1), labels,
                   np.zeros(n, np.int64), np.array(["c"] * n))


def test_halves_are_disjoint_stratified_and_cover_validation():
    samples = _samples([0] * 7 + [1] * 4)
    fit, judge = tune.halves(samples, seed=3)
    fit_ids, judge_ids = set(fit.x.ravel()), set(judge.x.ravel())
    assert not fit_ids & judge_ids
    assert fit_ids | judge_ids == set(range(11))
    assert (int(fit.y.sum()), int(judge.y.sum())) == (2, 2)  # 4 anomalies: 2 each
    assert (len(fit), len(judge)) == (6, 5)  # 7 normal: 4 and 3


def test_command_line_overrides_are_the_fields_that_differ_from_the_config_file():
    config = config_files.load(TEST_CONFIG)
    config.data.name, config.train.epochs = "digits", 7
    assert tune.command_line_overrides(config, config_files.load(TEST_CONFIG)) == {
        "data.name": "digits", "train.epochs": 7}


def test_suggestions_follow_the_family():
    config = config_files.load(TEST_CONFIG)
    trial = optuna.trial.FixedTrial({"latent_dim": 16, "base_filters": 8, "g_learning_rate": 1e-4,
                                     "d_learning_rate": 3e-4, "epochs": 3, "w_adv": 2.0,
                                     "n_max": 50, "combiner": "svm"})
    config.model.name = "aegan"
    chosen = tune.suggest(trial, config)
    assert chosen["model.aegan.w_adv"] == 2.0 and "search.n_max" not in chosen
    assert chosen["detection.components"] == "residual,discrimination,feature,latent"
    config.model.name = "gan"  # scored by latent search: n_max is tuned, no w_adv
    chosen = tune.suggest(trial, config)
    assert chosen["search.n_max"] == 50 and not any("w_adv" in k for k in chosen)
    config.model.name = "fanogan"  # its encoder stage: half the tried epochs, at least one
    chosen = tune.suggest(trial, config)
    assert chosen["model.fanogan.encoder_epochs"] == 1 and chosen["train.epochs"] == 3


class _Unreadable:
    """Stands in for the test split: any use of it fails the test."""

    def __getattr__(self, name):
        raise AssertionError(f"the tuner read the test split ({name})")

    def __len__(self):
        raise AssertionError("the tuner read the test split (len)")


def test_tune_never_reads_test_writes_a_runnable_config_and_resumes(tmp_path, monkeypatch):
    load_splits = tune.data.load_splits

    def poisoned(config, **kwargs):
        splits, params = load_splits(config, **kwargs)
        return {**splits, "test": _Unreadable()}, params

    monkeypatch.setattr(tune.data, "load_splits", poisoned)
    config = config_files.load(TEST_CONFIG)
    config.model.name, config.train.epochs = "aegan", 1
    output = str(tmp_path / "tuned" / "aegan_test.py")
    study = tune.tune(config, TEST_CONFIG, trials=2, minutes=5, classes=[], output=output)
    assert len(study.trials) == 2
    best = study.best_trial
    assert 0.0 <= best.value <= 1.0

    recipe = config_files.load_module(output)
    assert recipe.FAMILY == "aegan"
    # The command line's overrides and the best trial's settings, nothing else.
    assert recipe.OVERRIDES == {"model.name": "aegan", "train.epochs": 1,
                                **best.user_attrs["overrides"]}
    written = config_files.load(output)
    assert written.model.latent_dim == best.params["latent_dim"]
    assert written.train.epochs == best.params["epochs"]
    assert written.detection.combiner == best.params["combiner"]
    assert f"{best.value:.4f}" in open(output).read()

    # A rerun with the same output resumes the study: its trials add to the first run's.
    tune.tune(config, TEST_CONFIG, trials=1, minutes=5, classes=[], output=output)
    table = json.loads((tmp_path / "tuned" / "aegan_test.json").read_text())
    assert [t["number"] for t in table["trials"]] == [0, 1, 2]
    assert all(t["state"] == "COMPLETE" for t in table["trials"])

    # A study of other settings under the same output is refused, not mixed in.
    config.train.epochs = 2
    with pytest.raises(UserError, match="holds a study of other settings"):
        tune.tune(config, TEST_CONFIG, trials=1, minutes=5, classes=[], output=output)


def test_a_study_whose_trials_all_fail_says_so(tmp_path, monkeypatch):
    def diverged(config, splits):
        raise UserError("the model holds NaN or inf weights")

    monkeypatch.setattr(tune, "validation_auroc", diverged)
    config = config_files.load(TEST_CONFIG)
    output = str(tmp_path / "gan_test.py")
    with pytest.raises(UserError, match="no trial of .* finished"):
        tune.tune(config, TEST_CONFIG, trials=2, minutes=5, classes=[], output=output)
    assert not os.path.exists(output)
