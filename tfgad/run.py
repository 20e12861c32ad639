"""What `python -m tfgad.main` runs: workdir I/O around the Detector.

train_and_evaluate(config, workdir, mode) reads the config's data source and splits, trains
(resumable, on one device or a cluster), then hands the trained model to a tfgad.Detector,
which calibrates on validation only, scores test and exports; this module writes what a run
leaves in its workdir: metrics.json, scores.csv, calibration.json, plots and report.md.
"""
import os
import time
from typing import Any, Iterable

import keras
import ml_collections
import numpy as np
from absl import logging

from tfgad import config_files, data, io_utils
from tfgad.data import splits as split_lib
from tfgad.detection import calibration, record_scoring
from tfgad.detector import Detector
from tfgad.errors import UserError
from tfgad.evaluation import metrics as metric_lib
from tfgad.evaluation import report, run_outputs
from tfgad.export import writer as export_lib
from tfgad.models import scores
from tfgad.training import cluster, config_checks, train_lib
from tfgad.training import workdir as workdir_lib
from tfgad.training.robust import outputs as robust_outputs
from tfgad.detection import subsets

MODES = ("train", "detect", "export", "all")


def detect(config: ml_collections.ConfigDict, workdir: str, detector: Detector,
           splits: dict) -> dict:
    """Scores val and test, fits the calibration on val only, evaluates on test, writes outputs.

    Returns:
      the metrics dict written to metrics.json.
    """
    val, test = subsets.scored_subsets(config, splits)
    # Validation only: the test split never reaches the calibration.
    val_out = detector.calibrate(val, splits["train"], subsets.logged_progress("validation"))
    started = time.perf_counter()
    test_out = detector.components(test.x, subsets.logged_progress("test"))
    ms_per_sample = 1000.0 * (time.perf_counter() - started) / max(len(test), 1)
    calib = detector.calibration_
    calib["weights_sha256"] = workdir_lib.weights_fingerprint(workdir)
    calibration.save(calib, os.path.join(workdir, "calibration.json"))
    val_scores, val_pred = detector.decision_scores_, detector.labels_  # calibrate's
    test_scores, test_pred = calibration.apply(calib, test_out, test.groups)
    names = scores.component_names(test_out)
    result: dict[str, Any] = {
        "test": metric_lib.evaluate(test.y, test_scores, test_pred),
        "val": metric_lib.evaluate(val.y, val_scores, val_pred),
        "components_test": {k: metric_lib.ranking(test.y, test_out[k]) for k in names},
        "components_val": {k: metric_lib.ranking(val.y, val_out[k]) for k in names},
        "calibration": calib,
        "splits": {k: {"samples": len(s), "anomalies": int(s.y.sum())}
                   for k, s in (("train", splits["train"]), ("val", val), ("test", test))},
        "contamination": split_lib.contamination_summary(config.data, splits["train"]),
        # What robust training left out, with precision/recall against the true labels.
        "robust": robust_outputs.load_summary(workdir),
        "scoring": {**detector.scorer_settings(), "ms_per_sample": ms_per_sample,
                    "batch_size": config.detection.batch_size,
                    "mean_iterations": float(np.mean(test_out.get("iterations", np.nan)))},
    }
    result.update(_situational_metrics(config, calib, test, test_out, test_scores, test_pred,
                                       result))
    io_utils.write_json(os.path.join(workdir, "metrics.json"), result)
    io_utils.write_text(os.path.join(workdir, "scores.csv"),
                        run_outputs.scores_csv(test, test_out, test_scores, test_pred))
    logging.info("writing plots and report.md (some seconds)")
    plot_files = run_outputs.write_plots(workdir, detector.model_, test, test_out, test_scores,
                                         calib, result["components_val"],
                                         config.detection.map_smoothing)
    io_utils.write_text(os.path.join(workdir, "report.md"), report.render(config, result, plot_files))
    return result


def _situational_metrics(config, calib, test, test_out, test_scores, test_pred,
                         result) -> dict:
    """The metrics a run has only in some settings: streamed records, the conformal guarantee
    beside what test realized, anomalies of kinds validation never labelled."""
    extra = {}
    if record_scoring.is_record_normalized(calib):
        extra["test_stream"] = stream_metrics(calib, test, test_out)
    if config.detection.threshold == "conformal":
        extra["conformal"] = {"alpha": config.detection.alpha,
                              "test_false_alarm_rate": result["test"]["false_alarm_rate"],
                              "val_false_alarm_rate": result["val"]["false_alarm_rate"]}
    unseen = split_lib.unseen_rows(test, config.data)
    if unseen is not None:
        extra["test_unseen"] = unseen_metrics(test, test_scores, test_pred, unseen)
    return extra


def stream_metrics(calib: dict, test, test_out: dict) -> dict:
    """Test metrics with causal record baselines (each record's beats in time order, as a
    server answers them sent one by one), and how many beats were still warming up."""
    scored = record_scoring.score(calib, test_out, test.groups, stream=True)
    return {**metric_lib.evaluate(test.y, scored.score, scored.is_anomaly.astype(np.int8)),
            "warming_up": int(np.sum(scored.baseline == "warming_up")),
            "settings": calib.get("stream", {})}


def unseen_metrics(test, test_scores, test_pred, rows) -> dict:
    """Test metrics on the normals and the anomalies of kinds validation never labelled
    (data.val_anomaly_classes): how the detector does on anomalies nobody showed it."""
    return {**metric_lib.evaluate(test.y[rows], test_scores[rows], test_pred[rows]),
            "samples": int(rows.sum()), "anomalies": int(test.y[rows].sum()),
            "classes": sorted(set(test.classes[rows & (test.y == 1)]))}


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str, mode: str = "all",
                       user_set: Iterable[str] = ()) -> dict | None:
    """Runs the whole flow in workdir.

    Args:
      config: a ConfigDict as from configs/default.py.
      workdir: output folder; reused (and resumed) if it exists.
      mode: "train", "detect" (needs a trained workdir), "export" or "all".
      user_set: the dotted fields set on the command line (config_files.fit_data_kind).

    Returns:
      the metrics dict (with export_path after an export), or None in train mode.
    """
    if mode not in MODES:
        raise UserError(f"unknown mode {mode!r}; known: {', '.join(MODES)}")
    # First of all: MultiWorkerMirroredStrategy must exist before TensorFlow's first operation.
    cluster.strategy(config.train.strategy)
    task = cluster.this_task(config.train.strategy)
    for change in config_files.fit_data_kind(config, user_set=user_set):
        logging.info("image data (data.kind_settings=auto): %s", change)
    config_checks.validate(config)
    training = mode in ("train", "all")
    if not task.is_chief and not training:
        return None  # detection and export are the chief's
    # Before anything is written: a finished or mismatched workdir is refused here (a
    # non-chief checks the chief's workdir and writes nothing there).
    workdir_lib.prepare(workdir, config, mode, write=task.is_chief)
    keras.utils.set_random_seed(config.seed)
    splits, norm = _load_splits(config)
    sample_shape = splits["train"].x.shape[1:]
    if mode == "all" and task.is_chief:  # before minutes of training, not after them
        export_lib.check_same_model(export_lib.target_folder(config),
                                    export_lib.lineage(config, sample_shape))
    if training:
        model = train_lib.train_as_cluster_member(config, workdir, task, splits, norm)
        if model is None or mode == "train":
            return None
    else:
        workdir_lib.check_training_split(workdir, splits["train"].x, config)
        model = train_lib.load_trained(config, workdir, sample_shape)
    detector = Detector.from_model(config, model, norm, sample_shape)
    result = detect(config, workdir, detector, splits) if mode in ("detect", "all") else None
    if mode in ("export", "all"):
        result = dict(result or {}, export_path=_export(workdir, detector))
    return result


def _load_splits(config: ml_collections.ConfigDict) -> tuple[dict, dict]:
    """The config's splits, checked, and the normalization fit on the training split."""
    splits, norm = data.load_splits(config)
    logging.info("splits: %s", {k: (len(s), int(s.y.sum())) for k, s in splits.items()})
    config_checks.check_splits(config, splits)
    if config.data.contamination:
        logging.info("contamination: %s", split_lib.contamination_summary(config.data,
                                                                          splits["train"]))
    return splits, norm


def _export(workdir: str, detector: Detector) -> str:
    """Exports the detector with the workdir's calibration (that of its own weights)."""
    path = os.path.join(workdir, "calibration.json")
    if not os.path.exists(path):
        raise UserError(f"no calibration at {path}; run --mode=detect first")
    detector.use_calibration(calibration.load(path))
    workdir_lib.check_calibration_matches(detector.calibration_, workdir)
    logging.info("exporting the SavedModel (tracing the scoring graph: some seconds)")
    exported = detector.export()
    logging.info("exported the SavedModel to %s", exported)
    return exported
