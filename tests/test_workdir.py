"""No silent wrong results: diverged training, stale calibrations, mismatched configs, reruns."""
import csv
import json
import os
import shutil

import numpy as np
import pytest

from tests.test_main import CrashAfter
from tfgad import models, priors
from tfgad.training import callbacks, train_lib
from tfgad import run
from tfgad.export import writer as export
from tfgad.detection import calibration
from tfgad.errors import UserError


def epochs_logged(workdir):
    with open(os.path.join(workdir, "training_log.csv")) as f:
        return [int(r["epoch"]) for r in csv.DictReader(f)]


@pytest.fixture(scope="module")
def finished(copy_of_trained_run):
    """A finished run (trained, calibrated, exported) and its config: this module's copy."""
    return copy_of_trained_run


def test_a_diverging_training_stops_at_once_and_leaves_no_model(test_config, tmp_path):
    test_config.train.g_learning_rate = test_config.train.d_learning_rate = 1e12
    with pytest.raises(UserError, match=r"training diverged at epoch 1, batch \d+: .*= (nan|inf)"):
        run.train_and_evaluate(test_config, str(tmp_path), "all")
    assert not os.path.exists(tmp_path / "model.weights.h5")
    assert not os.path.exists(test_config.export.dir) or not os.listdir(test_config.export.dir)


def test_nan_weights_or_calibration_are_never_exported(test_config, tmp_path):
    model = models.build(test_config, (test_config.data.length, 1), priors.from_config(test_config))
    calib = {"components": ["residual"], "normalization": {"kind": "none", "shift": [0.0],
                                                           "scale": [1.0]},
             "combiner": {"kind": "weighted", "weights": [1.0]}, "threshold": float("nan")}
    norm = {"kind": "none"}
    with pytest.raises(UserError, match="calibration holds NaN or inf"):
        export.export(model, test_config, calib, norm, (test_config.data.length, 1),
                      base_dir=str(tmp_path), name="m")
    calib["threshold"] = 0.5
    variable = model.generator.trainable_variables[0]
    variable.assign(np.full(variable.shape, np.nan, np.float32))
    with pytest.raises(UserError, match="NaN or inf weights"):
        export.export(model, test_config, calib, norm, (test_config.data.length, 1),
                      base_dir=str(tmp_path), name="m")
    assert not os.path.exists(tmp_path / "m")  # refused before any folder is made


def test_calibration_refuses_non_finite_components(test_config):
    comps = {k: np.r_[np.nan, np.ones(9)] if k == "latent" else np.arange(10.0)
             for k in ("residual", "discrimination", "feature", "latent")}
    with pytest.raises(UserError, match=r"score components \['latent'\] hold NaN or inf"):
        calibration.fit(comps, np.r_[np.zeros(5), np.ones(5)].astype(int), test_config)


def test_a_stale_calibration_is_refused_by_export(finished, tmp_path):
    config, workdir = finished
    stale = str(tmp_path / "stale")
    shutil.copytree(workdir, stale)
    other = config.copy_and_resolve_references()
    other.seed = 1  # other weights, as after a retrain
    model = train_lib.build_model(other, (config.data.length, 1))
    model.save_weights(os.path.join(stale, "model.weights.h5"))
    with pytest.raises(UserError, match="calibration.json was fit with other weights .* run "
                                        "--mode=detect"):
        run.train_and_evaluate(config, stale, "export")
    run.train_and_evaluate(config, stale, "detect")  # recalibrates the current weights
    assert run.train_and_evaluate(config, stale, "export")["export_path"]


def test_detect_with_another_model_config_is_refused_and_keeps_config_json(finished):
    config, workdir = finished
    before = open(os.path.join(workdir, "config.json")).read()
    other = config.copy_and_resolve_references()
    other.model.latent_dim = 4
    with pytest.raises(UserError, match="model.latent_dim: trained 8, now 4; omit --config"):
        run.train_and_evaluate(other, workdir, "detect")
    other = config.copy_and_resolve_references()
    other.data.max_samples = 100
    with pytest.raises(UserError, match="another training split .*data.max_samples: trained 0, "
                                        "now 100"):
        run.train_and_evaluate(other, workdir, "export")
    assert open(os.path.join(workdir, "config.json")).read() == before


def test_training_again_on_a_finished_workdir_is_refused(finished):
    config, workdir = finished
    with pytest.raises(UserError, match="already holds a finished training"):
        run.train_and_evaluate(config, workdir, "train")


def _crash_in_epoch(monkeypatch, epoch, before_backup):
    """Makes the standard callbacks crash at the end of epoch (0-based): after the log row is
    written and, unless before_backup, after the backup is saved too."""
    standard = callbacks.standard

    def crashing(*args):
        found = standard(*args)
        at = next(i for i, c in enumerate(found) if isinstance(c, callbacks.EpochCSVLogger)) + 1
        if not before_backup:
            at = len(found)
        return found[:at] + [CrashAfter(epoch)] + found[at:]
    monkeypatch.setattr(callbacks, "standard", crashing)
    return standard


def test_a_kill_between_log_and_backup_logs_each_epoch_once(test_config, tmp_path, monkeypatch):
    test_config.train.epochs = 3
    standard = _crash_in_epoch(monkeypatch, 1, before_backup=True)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run.train_and_evaluate(test_config, str(tmp_path), "train")
    assert epochs_logged(tmp_path) == [0, 1]  # epoch 1 logged, but the backup holds epoch 0
    monkeypatch.setattr(callbacks, "standard", standard)
    run.train_and_evaluate(test_config, str(tmp_path), "train")
    assert epochs_logged(tmp_path) == [0, 1, 2]


def test_resuming_with_other_training_settings_is_refused(test_config, tmp_path, monkeypatch):
    test_config.train.epochs = 2
    standard = _crash_in_epoch(monkeypatch, 0, before_backup=False)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run.train_and_evaluate(test_config, str(tmp_path), "train")
    monkeypatch.setattr(callbacks, "standard", standard)
    changed = test_config.copy_and_resolve_references()
    changed.train.g_learning_rate = 1e-3
    changed.train.verbose = 1  # cosmetic: not a difference
    with pytest.raises(UserError, match=r"cannot resume: train.g_learning_rate: trained 0.0002, "
                                        r"now 0.001; use the same settings"):
        run.train_and_evaluate(changed, str(tmp_path), "train")
    run.train_and_evaluate(test_config, str(tmp_path), "train")
    assert epochs_logged(tmp_path) == [0, 1]
    assert json.load(open(tmp_path / "config.json"))["train"]["g_learning_rate"] == 2e-4


def test_an_abandoned_export_folder_is_removed_by_the_next_export(finished):
    config, workdir = finished
    model_dir = export.target_folder(config)  # the test config exports as tfgad-test
    abandoned = os.path.join(model_dir, ".tmp-9-999999999")  # no such process
    os.makedirs(os.path.join(abandoned, "variables"))
    path = run.train_and_evaluate(config, workdir, "export")["export_path"]
    assert not os.path.exists(abandoned)
    assert os.path.isfile(os.path.join(path, "saved_model.pb"))


def test_json_outputs_are_strict_json_with_null_for_nan(tmp_path):
    from tfgad import io_utils
    path = str(tmp_path / "metrics.json")
    io_utils.write_json(path, {"mean_iterations": float("nan"), "x": [np.float32(np.inf), 1.5],
                               "n": np.int64(3)})
    text = open(path).read()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"mean_iterations": None, "x": [None, 1.5], "n": 3.0}
