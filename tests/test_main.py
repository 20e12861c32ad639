"""End to end through the command line with configs/test.py, the bad-input errors, and resume."""
import csv
import json
import os
import subprocess
import sys

import keras
import pytest
from sklearn.metrics import roc_auc_score

from tests.run_cli import run_main, run_main_in_process
from tfgad.training import callbacks, train_lib

OUTPUTS = ["config.json", "normalization.json", "model.weights.h5", "training_log.csv",
           "metrics.json", "scores.csv", "calibration.json", "report.md",
           "plots/training_losses.png", "plots/real_vs_generated.png", "plots/reconstructions.png",
           "plots/score_histograms.png", "plots/roc_pr.png", "plots/samples_epoch0001.png"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """`tfgad train --config=test` from a folder without configs/: the installed command finds
    the shipped config by name, as after `pip install .`."""
    workdir = str(tmp_path_factory.mktemp("run"))
    elsewhere = str(tmp_path_factory.mktemp("elsewhere"))
    command = os.path.join(os.path.dirname(sys.executable), "tfgad")
    assert os.path.isfile(command), "the tfgad command is missing: pip install -e ."
    result = subprocess.run([command, "train", "--config=test", f"--workdir={workdir}",
                             f"--config.export.dir={workdir}/saved_models"], cwd=elsewhere,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert os.listdir(elsewhere) == []  # everything went where the flags said
    return workdir, result


def test_main_writes_every_output(trained):
    workdir, result = trained
    for name in OUTPUTS:
        assert os.path.exists(os.path.join(workdir, name)), name
    assert f"SavedModel in {workdir}/saved_models/tfgad-test/1" in result.stdout
    assert "test AUROC" in result.stdout and "MCC" in result.stdout
    # Strict JSON: a NaN (encoder families have no search iterations) is written as null.
    metrics = json.loads(open(os.path.join(workdir, "metrics.json")).read(),
                         parse_constant=lambda name: pytest.fail(f"metrics.json holds {name}"))
    assert metrics["test"]["auroc"] > 0.75  # the tiny config reaches about 0.87 on its seed
    with open(os.path.join(workdir, "scores.csv")) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == metrics["splits"]["test"]["samples"]
    # The written scores and decisions are the ones the metrics were computed from.
    labels = [int(r["label"]) for r in rows]
    assert roc_auc_score(labels, [float(r["score"]) for r in rows]) == pytest.approx(
        metrics["test"]["auroc"], abs=1e-4)
    assert sum(int(r["prediction"]) for r in rows) == metrics["test"]["tp"] + metrics["test"]["fp"]
    assert {"id", "label", "residual", "discrimination", "feature", "latent", "score",
            "prediction"} <= set(rows[0])
    assert sum(int(r["label"]) for r in rows) == metrics["splits"]["test"]["anomalies"]
    report = open(os.path.join(workdir, "report.md")).read()
    assert "| auroc |" in report and "plots/roc_pr.png" in report


def test_detect_mode_reuses_the_trained_workdir(trained):
    workdir, _ = trained
    before = open(os.path.join(workdir, "scores.csv")).read()
    result = run_main("--mode=detect", f"--workdir={workdir}")  # detect does not export
    assert result.returncode == 0, result.stderr[-3000:]
    # Same weights, same seeds: the same scores.
    assert open(os.path.join(workdir, "scores.csv")).read() == before


@pytest.mark.parametrize("args,message", [
    (["--config.model.nmae=gan"], "nmae"),
    (["--config.model.name=stylegan"], "unknown model.name 'stylegan'; known: aegan, alad"),
    (["--config.data.name=ptbxl"], "known: arrays, digits, mitbih, mnist_png, synthetic_ecg"),
    (["--config.prior.name=cauchy"], "known: normal, truncated_normal, uniform"),
    (["--config.train.epochs=0"], "train.epochs=0; must be >= 1"),
    (["--config.data.val_fraction=1.5"], "data.val_fraction=1.5"),
    (["--config.data.name=mitbih", "--config.data.dir=/nonexistent"], "tfgad download mitbih"),
])
def test_bad_input_ends_with_a_one_line_error(tmp_path, args, message):
    result = run_main_in_process("--config=configs/test.py", f"--workdir={tmp_path}",
                                 f"--config.export.dir={tmp_path}/saved_models", *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_detect_without_a_trained_workdir_is_explained(tmp_path):
    result = run_main_in_process("--mode=detect", f"--workdir={tmp_path}")
    assert result.returncode == 2 and "config.json" in result.stderr


class CrashAfter(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("simulated crash")


def train_until_crash(config, workdir, train_split, epoch, monkeypatch):
    """train_lib.train killed at the end of epoch index `epoch`, after every standard callback
    (BackupAndRestore included) has run; the callbacks are restored for the resumed run."""
    standard = callbacks.standard
    monkeypatch.setattr(callbacks, "standard", lambda *a: standard(*a) + [CrashAfter(epoch)])
    with pytest.raises(RuntimeError, match="simulated crash"):
        train_lib.train(config, workdir, train_split)
    monkeypatch.setattr(callbacks, "standard", standard)


def test_a_killed_training_resumes_where_it_stopped(tmp_path, test_config, monkeypatch):
    from tfgad import data
    test_config.train.epochs = 3
    splits, _ = data.load_splits(test_config)
    workdir = str(tmp_path)
    # The crash comes after BackupAndRestore has saved epoch index 1 (two epochs done).
    train_until_crash(test_config, workdir, splits["train"], 1, monkeypatch)
    train_lib.train(test_config, workdir, splits["train"])
    with open(os.path.join(workdir, "training_log.csv")) as f:
        epochs = [int(r["epoch"]) for r in csv.DictReader(f)]
    assert epochs == [0, 1, 2]
