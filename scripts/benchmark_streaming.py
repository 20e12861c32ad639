"""New patients scored as they arrive: causal (streaming) record baselines against whole-record
baselines, on MIT-BIH DS2, over seeds.

Usage:
  python scripts/benchmark_streaming.py [--seeds=0,1,2] [--mitdb=../shared/data/mitdb]
      [--warmups=16] [--output=results/streaming.json]

Two views of DS2 per seed. "Benchmark subset": the 2,000 scored test beats of
benchmark_quality's protocol (about 4 % of each record's beats, so a stream's 16 warm-up beats
are some 18 % of the test). "In use": every beat of the 22 DS2 records, whole and streamed.

Per seed, configs/ecg_new_patients.py is trained and calibrated as scripts/benchmark_quality.py
runs it (inter-patient: DS1 train and validation, DS2 test; 10,000-beat subset, 2,000 scored test
beats), and its DS2 test components are scored twice from the same model: with each record's
whole baseline (offline, the recipe's figure) and streamed (each record's beats in time order,
each over the usable beats before it, the first record_warmup scored by the global
calibration), which is what the server answers for beats sent one by one. Writes JSON and a
markdown table beside it.
"""
import argparse
import csv

import tfgad  # sets TF log level and Keras backend before TF is imported
import os
import platform
import shutil
import statistics
import tempfile
import time

import numpy as np

import tfgad
from tfgad import config_files, io_utils, run
from tfgad.configs import ecg_new_patients
from tfgad.data import mitbih
from tfgad.detection import record_scoring
from tfgad.evaluation import metrics as metric_lib

CPU_BUDGET = {"data.protocol": "inter", "data.max_samples": 10000,
              "detection.max_samples": 2000}  # benchmark_quality's cpu budget for MIT-BIH


def whole_records(export_path: str, mitdb: str, windows=()) -> dict:
    """Every beat of every DS2 record through the export, as in use: each record whole
    (offline, rhythm features from the whole record) and streamed (tfgad.score --stream:
    causal rhythm features and baselines). Labels: the reference annotation, N normal."""
    detector = tfgad.load(export_path)
    # stream_whole_rr: streamed baselines over beats whose RR ratios saw the whole record
    # (not causal): how much of the gap is the rhythm features' and how much the baselines'.
    scores = {"offline": [], "stream": [], "stream_whole_rr": []}
    labels, groups, components, warming = [], [], [], 0
    for record in mitbih.DS2:
        path = os.path.join(mitdb, str(record))
        beats, whole = detector.score_record(path)
        _, streamed = detector.score_record(path, stream=True)
        scores["offline"].append(whole.score)
        scores["stream"].append(streamed.score)
        scores["stream_whole_rr"].append(detector.score(beats.x, stream=True).score)
        labels.append((beats.annotations != "N").astype(np.int8))
        groups.append(np.full(len(beats.x), record))
        components.append(streamed.components)
        warming += int(np.sum(streamed.baseline == "warming_up"))
    y = np.concatenate(labels)
    out = {"beats": int(len(y)), "records": len(mitbih.DS2), "warming_up": warming,
           "stream_by_window": {}}
    calib = detector.metadata["calibration"]
    joined = {k: np.concatenate([c[k] for c in components]) for k in components[0]}
    for window in windows:  # the same streamed components, other baseline windows
        variant = dict(calib, stream={**calib["stream"], "window": window})
        scored = record_scoring.score(variant, joined, np.concatenate(groups), stream=True)
        out["stream_by_window"][str(window)] = float(
            metric_lib.ranking(y, np.nan_to_num(scored.score))["auroc"])
    for mode, parts in scores.items():
        score = np.concatenate(parts)
        scored = np.isfinite(score)  # flat or gapped beats are not scored
        flags = (score[scored] >= detector.threshold).astype(np.int8)
        out[mode] = _pick(metric_lib.evaluate(y[scored], score[scored], flags))
        out[f"{mode}_unscored"] = int(np.sum(~scored))
    return out


def one_seed(seed: int, mitdb: str, warmups: list, keep: str = "",
             full_records: bool = True, windows=()) -> dict:
    config = ecg_new_patients.get_config()
    config_files.override(config, CPU_BUDGET)
    config.seed, config.data.dir = seed, mitdb
    config.train.verbose, config.train.sample_plot_every = 0, 0
    with tempfile.TemporaryDirectory() as root:
        config.export.dir = os.path.join(root, "saved_models")
        started = time.perf_counter()
        result = run.train_and_evaluate(config, os.path.join(root, "run"), "all")
        seconds = time.perf_counter() - started
        scores_csv = os.path.join(root, "run", "scores.csv")
        if keep:
            os.makedirs(keep, exist_ok=True)
            shutil.copy(scores_csv, os.path.join(keep, f"scores_seed{seed}.csv"))
            io_utils.write_json(os.path.join(keep, f"calibration_seed{seed}.json"),
                                result["calibration"])
        with open(scores_csv) as f:
            rows = list(csv.DictReader(f))  # the scored test beats, in time order per record
        in_use = whole_records(result["export_path"], mitdb, windows) if full_records else None
    calib = result["calibration"]
    groups = np.array([int(r["group"]) for r in rows])
    labels = np.array([int(r["label"]) for r in rows])
    row = {"seed": seed, "seconds": seconds, "test_beats": len(rows), "in_use": in_use,
           "records": int(len(np.unique(groups))),
           "offline": _pick(result["test"]), "stream": _pick(result["test_stream"]),
           "warming_up": result["test_stream"]["warming_up"], "by_warmup": {}}
    if not all(n in rows[0] for n in calib["components"]):
        return row
    # The same components (scores.csv keeps 6 digits), streamed with other warm-ups.
    components = {n: np.array([float(r[n]) for r in rows]) for n in calib["components"]}
    for warmup in warmups:
        variant = dict(calib, stream={**calib["stream"], "warmup": warmup})
        scored = record_scoring.score(variant, components, groups, stream=True)
        row["by_warmup"][str(warmup)] = _pick(metric_lib.evaluate(
            labels, scored.score, scored.is_anomaly.astype(np.int8)))
    return row


def _pick(metrics: dict) -> dict:
    return {k: float(metrics[k]) for k in ("auroc", "f1", "mcc")}


def table(rows: list) -> str:
    lines = ["| seed | offline AUROC | stream AUROC | stream - offline | offline F1 / MCC | "
             "stream F1 / MCC | warming-up beats |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        o, s = r["offline"], r["stream"]
        lines.append(f"| {r['seed']} | {o['auroc']:.4f} | {s['auroc']:.4f} | "
                     f"{s['auroc'] - o['auroc']:+.4f} | {o['f1']:.3f} / {o['mcc']:.3f} | "
                     f"{s['f1']:.3f} / {s['mcc']:.3f} | {r['warming_up']} of {r['test_beats']} |")
    if rows:
        mean = {k: statistics.mean(r[k]["auroc"] for r in rows) for k in ("offline", "stream")}
        lines.append(f"| mean | {mean['offline']:.4f} | {mean['stream']:.4f} | "
                     f"{mean['stream'] - mean['offline']:+.4f} | | | |")
    full = [r for r in rows if r.get("in_use")]
    if full:
        lines += ["", "Every beat of the 22 DS2 records (as in use; the same models):", "",
                  "| seed | beats | offline AUROC | stream AUROC | stream - offline | "
                  "offline F1 / MCC | stream F1 / MCC | warming-up beats |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in full:
            u = r["in_use"]
            o, s = u["offline"], u["stream"]
            lines.append(f"| {r['seed']} | {u['beats']} | {o['auroc']:.4f} | {s['auroc']:.4f} | "
                         f"{s['auroc'] - o['auroc']:+.4f} | {o['f1']:.3f} / {o['mcc']:.3f} | "
                         f"{s['f1']:.3f} / {s['mcc']:.3f} | {u['warming_up']} |")
        mean = {k: statistics.mean(r["in_use"][k]["auroc"] for r in full)
                for k in ("offline", "stream")}
        lines.append(f"| mean | | {mean['offline']:.4f} | {mean['stream']:.4f} | "
                     f"{mean['stream'] - mean['offline']:+.4f} | | | |")
    windows = sorted({w for r in full for w in r["in_use"].get("stream_by_window", {})}, key=int)
    if windows:
        by_window = {w: statistics.mean(r["in_use"]["stream_by_window"][w] for r in full)
                     for w in windows}
        lines += ["", "Whole DS2 records, stream AUROC by baseline window (same models): " +
                  "; ".join(f"{w}: {a:.4f}" for w, a in by_window.items())]
    warmups = sorted({w for r in rows for w in r["by_warmup"]}, key=int)
    if warmups:
        lines += ["", "Stream AUROC by warm-up (same models): " + "; ".join(
            f"{w}: {statistics.mean(r['by_warmup'][w]['auroc'] for r in rows):.4f}"
            for w in warmups)]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--mitdb", default=os.path.join("..", "shared", "data", "mitdb"))
    parser.add_argument("--warmups", default="4,8,16,32")
    parser.add_argument("--windows", default="", help="also stream whole DS2 records with these "
                        "baseline windows (beats), e.g. 64,256,1024,4096")
    parser.add_argument("--output", default=os.path.join("results", "streaming.json"))
    parser.add_argument("--keep", default="", help="a folder for each seed's scores.csv and "
                        "calibration (to study them further)")
    args = parser.parse_args()
    warmups = [int(w) for w in args.warmups.split(",") if w]
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        rows.append(one_seed(seed, args.mitdb, warmups, args.keep,
                             windows=[int(w) for w in args.windows.split(",") if w]))
        print(table(rows[-1:]), flush=True)
        report = {"platform": platform.platform(), "cpus": os.cpu_count(),
                  "config": "configs/ecg_new_patients.py", "budget": CPU_BUDGET, "runs": rows}
        io_utils.write_json(args.output, report)
        io_utils.write_text(os.path.splitext(args.output)[0] + ".md", table(rows))
    print(table(rows))


if __name__ == "__main__":
    main()
