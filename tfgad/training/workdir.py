"""What a workdir holds, and whether a mode may use it: checked before anything is written.

A workdir is one training run. train (or all) starts it, or resumes it after a kill with the
same training settings; detect and export reuse its weights with the same model and training
data. Fingerprints tie the outputs together: training_split.json records the training data the
weights were fit on, and calibration.json records the weights it was fit with.
"""
import hashlib
import json
import os

import ml_collections
import numpy as np

from tfgad import config_files, io_utils, sections
from tfgad.errors import UserError

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
BACKUP_DIR = "backup"
TRAINING_SPLIT_FILE = "training_split.json"
# Sections whose change makes a resumed training something else than the run it continues.
TRAINING_SECTIONS = ("seed", "data", "model", "prior", "train")
# Fields that change neither weights nor data: how much training prints and plots.
COSMETIC_FIELDS = ("train.verbose", "train.sample_plot_every")
# Sections the trained weights depend on: detect and export must use the same.
MODEL_SECTIONS = ("model", "prior")


def differences(trained: dict, current: dict, compared: tuple) -> list[str]:
    """'field: trained A, now B' for each field of sections that differs (fields sorted)."""
    # Fields added since a workdir was written take the value an older config.json meant.
    old, new = config_files.flatten(sections.upgrade(trained)), config_files.flatten(current)
    out = []
    for name in sorted(set(old) | set(new)):
        if name.split(".")[0] not in compared or name in COSMETIC_FIELDS:
            continue
        if old.get(name, "<absent>") != new.get(name, "<absent>"):
            out.append(f"{name}: trained {old.get(name, '<absent>')!r}, now {new.get(name, '<absent>')!r}")
    return out


def saved_config(workdir: str) -> dict | None:
    """The workdir's config.json as a dict, or None if it has none."""
    path = os.path.join(workdir, CONFIG_FILE)
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise UserError(f"{path} is not readable JSON ({e}); restore it or use a new --workdir")


def _usable_folder(workdir):
    if os.path.exists(workdir) and not os.path.isdir(workdir):
        raise UserError(f"--workdir={workdir} is a file, not a folder; give a folder path")
    try:
        os.makedirs(workdir, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create --workdir={workdir}: {e.strerror}; give a writable folder")
    if not os.access(workdir, os.W_OK | os.X_OK):
        raise UserError(f"--workdir={workdir} is not writable; give a writable folder")


def prepare(workdir: str, config: ml_collections.ConfigDict, mode: str,
            write: bool = True) -> None:
    """Refuses a mode the workdir cannot serve, before anything is written; writes config.json
    for a new (or resumed) training only (unless write is False: a non-chief worker's check).

    train/all: a finished run is not trained over (its outputs would mix with the new ones);
    a killed run resumes only with the same training settings. detect/export: the workdir must
    hold weights trained with the same model and prior settings.
    """
    if not write and not os.path.isdir(workdir):
        return  # nothing to check yet, and a non-chief creates nothing
    if write:
        _usable_folder(workdir)
    current = config.to_dict()
    trained = saved_config(workdir)
    finished = os.path.exists(os.path.join(workdir, WEIGHTS_FILE))
    if mode in ("train", "all"):
        if finished:
            raise UserError(f"--workdir={workdir} already holds a finished training ({WEIGHTS_FILE}); "
                            "give a new --workdir to train again, or --mode=detect/export to reuse it")
        if trained is not None and os.path.isdir(os.path.join(workdir, BACKUP_DIR)):
            changed = differences(trained, current, TRAINING_SECTIONS)
            if changed:
                raise UserError(f"--workdir={workdir} holds a killed training with other settings, so "
                                f"it cannot resume: {'; '.join(changed)}; use the same settings or a "
                                "new --workdir")
        if write:
            io_utils.write_json(os.path.join(workdir, CONFIG_FILE), current)
        return
    if not finished or trained is None:
        raise UserError(f"no trained model in --workdir={workdir} ({WEIGHTS_FILE} and {CONFIG_FILE}); "
                        "run --mode=train (or all) there first")
    changed = differences(trained, current, MODEL_SECTIONS)
    if changed:
        raise UserError(f"the config does not match the model trained in {workdir}: "
                        f"{'; '.join(changed)}; omit --config to use the trained one")


def file_sha256(path: str) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weights_fingerprint(workdir: str) -> str:
    """The fingerprint of the workdir's trained weights, which calibration.json records."""
    return file_sha256(os.path.join(workdir, WEIGHTS_FILE))


def _split_fingerprint(train_x: np.ndarray) -> dict:
    x = np.ascontiguousarray(train_x, np.float32)
    return {"samples": int(len(x)), "shape": list(x.shape[1:]),
            "sha256": hashlib.sha256(x.tobytes()).hexdigest()}


def record_training_split(workdir: str, train_x: np.ndarray) -> None:
    """Writes the fingerprint of the training data the weights are fit on."""
    io_utils.write_json(os.path.join(workdir, TRAINING_SPLIT_FILE), _split_fingerprint(train_x))


def check_training_split(workdir: str, train_x: np.ndarray, config: ml_collections.ConfigDict) -> None:
    """Refuses detect/export on data whose training split is not the one the weights saw."""
    path = os.path.join(workdir, TRAINING_SPLIT_FILE)
    if not os.path.exists(path):
        return  # a workdir from before fingerprints: nothing to compare with
    with open(path) as f:
        recorded = json.load(f)
    now = _split_fingerprint(train_x)
    if now != recorded:
        changed = differences(saved_config(workdir) or {}, config.to_dict(), ("seed", "data"))
        raise UserError(f"the data config gives another training split than the model in {workdir} "
                        f"was trained on ({recorded['samples']} samples then, {now['samples']} now"
                        f"{'; ' + '; '.join(changed) if changed else ''}); omit --config or use the "
                        "trained data settings")


def check_calibration_matches(calibration: dict, workdir: str) -> None:
    """Refuses a calibration fit with other weights than the workdir's (stale after a retrain)."""
    fitted = calibration.get("weights_sha256")
    if fitted != weights_fingerprint(workdir):
        raise UserError(f"{os.path.join(workdir, 'calibration.json')} was fit with other weights than "
                        f"{os.path.join(workdir, WEIGHTS_FILE)} (a retrain since?); run --mode=detect "
                        "to calibrate the current weights, then export")
