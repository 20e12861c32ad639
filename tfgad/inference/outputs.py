"""What scoring writes: scores.csv rows, WFDB annotations of flagged beats, record plots, a summary."""
import csv
import io
import os

import numpy as np

from tfgad import io_utils

ROW_COLUMNS = ("source", "index", "sample", "time_s", "annotation", "file")
ANNOTATION_EXTENSION = "tfgad"


def header(component_names: list) -> list:
    return [*ROW_COLUMNS, "score", "is_anomaly", *component_names]


def _text(value) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.7g}"
    return str(value)


def rows(source_name: str, columns: dict, result, component_names: list) -> list:
    """One list of strings per sample, in header order (the same text locally and on Beam)."""
    out = []
    for i in range(len(result)):
        described = [_text(columns[c][i]) if c in columns else "" for c in ROW_COLUMNS[1:]]
        out.append([source_name, *described, _text(result.score[i]), str(int(result.is_anomaly[i])),
                    *[_text(result.components[n][i]) for n in component_names]])
    return out


def csv_text(table: list) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(table)
    return buffer.getvalue()


def write_annotations(beats, result, directory: str) -> str:
    """Writes <record>.tfgad: a comment annotation at each flagged beat, with its score, so
    that WFDB viewers show the flags next to the signal. Returns the file's path."""
    import wfdb
    flagged = np.flatnonzero(result.is_anomaly)
    os.makedirs(directory, exist_ok=True)
    samples = beats.peaks[flagged].astype(np.int64)
    if len(samples):
        wfdb.wrann(beats.name, ANNOTATION_EXTENSION, sample=samples, symbol=['"'] * len(samples),
                   aux_note=[f"tfgad anomaly score {result.score[i]:.4g}" for i in flagged],
                   fs=beats.sampling_rate, write_dir=directory)
    else:  # wrann refuses an empty annotation list; an empty file says "nothing flagged"
        io_utils.write_bytes(os.path.join(directory, f"{beats.name}.{ANNOTATION_EXTENSION}"), b"")
    return os.path.join(directory, f"{beats.name}.{ANNOTATION_EXTENSION}")


def plot_record(beats, result, path: str, max_points: int = 20000) -> str:
    """The record's lead over time with the flagged beats marked."""
    from tfgad.evaluation import plots
    step = max(1, len(beats.signal) // max_points)
    t = np.arange(0, len(beats.signal), step) / beats.sampling_rate
    fig, ax = plots.subplots(figsize=(14, 3.5))
    ax.plot(t, beats.signal[::step], lw=0.4, color="0.3")
    flagged = np.flatnonzero(result.is_anomaly)
    ax.plot(beats.times[flagged], beats.signal[beats.peaks[flagged]], "rv", ms=4,
            label=f"flagged ({len(flagged)} of {len(result)} beats)")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mV")
    ax.set_title(f"record {beats.name}: beats flagged as anomalous")
    ax.legend(loc="upper right")
    return plots.save(fig, path)


def summary(per_source: list, detector) -> dict:
    """Counts and flagged fractions per source and overall."""
    total = sum(s["samples"] for s in per_source)
    flagged = sum(s["flagged"] for s in per_source)
    return {"model": detector.path, "version": detector.version, "scorer": detector.scorer,
            "threshold": detector.threshold, "samples": total, "flagged": flagged,
            "flagged_fraction": flagged / total if total else 0.0, "sources": per_source}


def write_summary(directory: str, report: dict) -> str:
    path = os.path.join(directory, "summary.json")
    io_utils.write_json(path, report)
    return path
