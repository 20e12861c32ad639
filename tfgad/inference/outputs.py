"""What scoring writes: scores.csv rows, WFDB annotations of flagged beats, record plots, a summary."""
import csv
import io
import os

import numpy as np

from tfgad import io_utils

ROW_COLUMNS = ("source", "index", "sample", "time_s", "annotation", "file")
ANNOTATION_EXTENSION = "tfgad"


# How each score was made: the beat's signal quality, and the record baseline it was
# normalized by (record, stream, warming_up, too_short; none without record normalization).
CONTEXT_COLUMNS = ("quality", "baseline", "baseline_beats")


def header(component_names: list) -> list:
    return [*ROW_COLUMNS, "score", "is_anomaly", *CONTEXT_COLUMNS, *component_names]


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
                    str(result.quality[i]), str(result.baseline[i]),
                    str(int(result.baseline_beats[i])),
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


TOP_K_BEATS = 8  # flagged beats shown one by one in a record's plot


def top_flagged(result, k: int) -> np.ndarray:
    """Indices of the k highest-scoring flagged samples, highest first."""
    flagged = np.flatnonzero(result.is_anomaly)
    return flagged[np.argsort(-result.score[flagged], kind="stable")][:k]


def plot_record(beats, result, path: str, max_points: int = 20000, top_k: int = TOP_K_BEATS) -> str:
    """A page a reader can check: the record's lead over time with the flagged beats marked,
    then the top_k highest-scoring flagged beats themselves, each drawn over the record's
    typical normal beat (the median of its unflagged beats), with time, score and annotation."""
    from matplotlib.figure import Figure
    from tfgad.evaluation import plots
    flagged = np.flatnonzero(result.is_anomaly)
    top = top_flagged(result, top_k)
    columns = max(1, min(len(top), top_k // 2))
    rows = 1 + (int(np.ceil(len(top) / columns)) if len(top) else 0)
    fig = Figure(figsize=(14, 3.5 + 2.4 * (rows - 1)), layout="constrained")
    grid = fig.add_gridspec(rows, columns, height_ratios=[1.4] + [1] * (rows - 1))
    ax = fig.add_subplot(grid[0, :])
    step = max(1, len(beats.signal) // max_points)
    ax.plot(np.arange(0, len(beats.signal), step) / beats.sampling_rate, beats.signal[::step],
            lw=0.4, color="0.3")
    ax.plot(beats.times[flagged], beats.signal[beats.peaks[flagged]], "rv", ms=4,
            label=f"flagged ({len(flagged)} of {len(result)} beats)")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mV")
    ax.set_title(f"record {beats.name}: beats flagged as anomalous"
                 + (f"; below, the {len(top)} highest-scoring" if len(top) else ""))
    ax.legend(loc="upper right")
    normal = ~result.is_anomaly
    typical = np.median(beats.x[normal, :, 0], axis=0) if normal.any() else None
    for n, index in enumerate(top):
        cell = fig.add_subplot(grid[1 + n // columns, n % columns])
        if typical is not None:
            cell.plot(typical, color="0.6", lw=1.0, label="typical normal beat")
        cell.plot(beats.x[index, :, 0], color="tab:red", lw=1.0, label="flagged beat")
        label = f" [{beats.annotations[index]}]" if beats.annotations[index] else ""
        cell.set_title(f"{beats.times[index]:.1f} s, score {result.score[index]:.3g}{label}",
                       fontsize=9)
        cell.set_xticks([])
        if n == 0:
            cell.legend(loc="upper right", fontsize=7)
    return plots.save(fig, path)


def source_context(result) -> dict:
    """A source's signal quality (counts per kind, and "no_signal" where a lead is off) and
    how its record baseline was made, with what was done instead where there was none."""
    from tfgad.data import signal_quality
    entry = {"quality": signal_quality.counts(result.quality),
             "signal": signal_quality.record_verdict(result.quality)}
    baselines = {str(k): int(v) for k, v in zip(*np.unique(result.baseline, return_counts=True))}
    if baselines and set(baselines) != {"none"}:
        entry["baseline"] = baselines
        if "too_short" in baselines:
            entry["baseline_note"] = (
                f"too few scorable beats for a record baseline ({int(result.baseline_beats[0])}"
                "); scored against the global calibration instead")
    return entry


def summary(per_source: list, detector) -> dict:
    """Counts and flagged fractions per source and overall, and signal quality counts."""
    total = sum(s["samples"] for s in per_source)
    flagged = sum(s["flagged"] for s in per_source)
    quality = {}
    for s in per_source:
        for kind, count in s.get("quality", {}).items():
            quality[kind] = quality.get(kind, 0) + count
    return {"model": detector.path, "version": detector.version, "scorer": detector.scorer,
            "threshold": detector.threshold, "samples": total, "flagged": flagged,
            "flagged_fraction": flagged / total if total else 0.0, "quality": quality,
            "no_signal_sources": [s["source"] for s in per_source
                                  if s.get("signal") == "no_signal"],
            "sources": per_source}


def write_summary(directory: str, report: dict) -> str:
    path = os.path.join(directory, "summary.json")
    io_utils.write_json(path, report)
    return path
