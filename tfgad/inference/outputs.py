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
    return [*ROW_COLUMNS, "score", "is_anomaly", "p_value", *CONTEXT_COLUMNS, *component_names]


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
                    _text(result.p_value[i]), str(result.quality[i]), str(result.baseline[i]),
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


EXCERPT_SECONDS = 10.0  # the readable stretch of signal drawn around the top flagged beat


def plot_record(beats, result, path: str, threshold: float | None = None,
                top_k: int = TOP_K_BEATS) -> str:
    """A page a clinician can read: flagged beats per minute over the whole record (a strip,
    not a barcode of markers), a 10-second stretch of the signal around the highest-scoring
    flagged beat with the flags drawn above it, then the top_k flagged beats, each over the
    record's typical normal beat, on a time axis in ms from the R peak."""
    from matplotlib.figure import Figure
    from tfgad.evaluation import plots
    top = top_flagged(result, top_k)
    columns = max(1, min(len(top), top_k // 2))
    rows = 2 + (int(np.ceil(len(top) / columns)) if len(top) else 0)
    fig = Figure(figsize=(14, 5.5 + 2.4 * (rows - 2)), layout="constrained")
    grid = fig.add_gridspec(rows, columns, height_ratios=[0.8, 1.2] + [1] * (rows - 2))
    _flag_strip(fig.add_subplot(grid[0, :]), beats, result)
    _excerpt(fig.add_subplot(grid[1, :]), beats, result, top[0] if len(top) else None)
    normal = ~result.is_anomaly & np.isfinite(result.score)
    typical = np.median(beats.x[normal, :, 0], axis=0) if normal.any() else None
    ms = (np.arange(beats.x.shape[1]) - _peak_offset(beats)) * 1000.0 / beats.sampling_rate
    for n, index in enumerate(top):
        cell = fig.add_subplot(grid[2 + n // columns, n % columns])
        if typical is not None:
            cell.plot(ms, typical, color="0.6", lw=1.0, label="typical normal beat")
        cell.plot(ms, beats.x[index, :, 0], color="tab:red", lw=1.0, label="flagged beat")
        if result.anomaly_map is not None:  # where the reconstruction failed
            plots.overlay_map(cell, result.anomaly_map[index], ms)
        label = f" [{beats.annotations[index]}]" if beats.annotations[index] else ""
        cell.set_title(f"{beats.times[index]:.1f} s, score {result.score[index]:.3g}{label}",
                       fontsize=9)
        cell.set_xlabel("ms from the R peak", fontsize=8)
        cell.tick_params(labelsize=7)
        if n == 0:
            cell.legend(loc="upper right", fontsize=7)
    rule = f"flagged: score >= threshold {threshold:.4g}" if threshold is not None else "flagged"
    fig.suptitle(f"record {beats.name}: {int(result.is_anomaly.sum())} of {len(result)} beats "
                 f"{rule}. [N], [V], ... after a beat's time: the record's reference "
                 "annotation (AAMI class), where it has one", fontsize=10)
    return plots.save(fig, path)


def _peak_offset(beats) -> int:
    """Where the R peak sits in a beat window (the window's largest median magnitude)."""
    return int(np.argmax(np.abs(np.median(beats.x[:, :, 0], axis=0)))) if len(beats.x) else 0


def _flag_strip(ax, beats, result) -> None:
    minutes = beats.times / 60.0
    edges = np.arange(0.0, max(float(minutes.max()) if len(minutes) else 1.0, 1.0) + 1.0)
    all_beats, _ = np.histogram(minutes, edges)
    flagged, _ = np.histogram(minutes[result.is_anomaly], edges)
    unscored, _ = np.histogram(minutes[~np.isfinite(result.score)], edges)
    ax.bar(edges[:-1], all_beats, width=1.0, align="edge", color="0.85", label="beats")
    ax.bar(edges[:-1], flagged, width=1.0, align="edge", color="tab:red", label="flagged")
    if unscored.any():
        ax.bar(edges[:-1], unscored, width=1.0, align="edge", color="tab:blue", alpha=0.6,
               label="not scored (signal quality)")
    ax.set(xlabel="minute of the record", ylabel="beats per minute", xlim=(0, edges[-1]))
    ax.set_title("the whole record: beats and flagged beats per minute", fontsize=10)
    ax.legend(loc="upper right", fontsize=8)


def _excerpt(ax, beats, result, center) -> None:
    middle = beats.times[center] if center is not None else EXCERPT_SECONDS / 2
    start = max(0.0, middle - EXCERPT_SECONDS / 2)
    lo, hi = int(start * beats.sampling_rate), int((start + EXCERPT_SECONDS) * beats.sampling_rate)
    t = np.arange(lo, min(hi, len(beats.signal))) / beats.sampling_rate
    ax.plot(t, beats.signal[lo:hi], lw=0.7, color="0.2")
    top = float(np.max(beats.signal[lo:hi])) if hi > lo else 1.0
    shown = (beats.times >= start) & (beats.times < start + EXCERPT_SECONDS)
    marks = shown & result.is_anomaly
    ax.plot(beats.times[marks], np.full(marks.sum(), top * 1.15 + 0.1), "v", color="tab:red",
            ms=7, label="flagged beat (above its R peak)")
    for i in np.flatnonzero(shown):
        if beats.annotations[i]:
            ax.annotate(beats.annotations[i], (beats.times[i], top * 1.3 + 0.2), ha="center",
                        fontsize=7, color="0.4")
    ax.set_ylim(top=top * 1.45 + 0.3)  # room for the flags and letters above the signal
    ax.set(xlabel="time (s)", ylabel="mV")
    ax.set_title(f"{EXCERPT_SECONDS:.0f} s around the highest-scoring flagged beat (grey "
                 "letters: reference annotations)", fontsize=10)
    ax.legend(loc="lower right", fontsize=8)


def record_hours(beats) -> float:
    """The record's length in hours (of the lead as read)."""
    return len(beats.signal) / beats.sampling_rate / 3600.0


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
    quality: dict[str, int] = {}
    for s in per_source:
        for kind, count in s.get("quality", {}).items():
            quality[kind] = quality.get(kind, 0) + count
    hours = sum(s.get("hours", 0.0) for s in per_source)
    alarms = sum(s["flagged"] for s in per_source if "hours" in s)
    return {"model": detector.path, "version": detector.version, "scorer": detector.scorer,
            "threshold": detector.threshold, "samples": total, "flagged": flagged,
            "flagged_fraction": flagged / total if total else 0.0,
            # Records only: flagged beats per hour of signal, what alarm fatigue is judged by.
            "hours": hours, "alarms_per_hour": alarms / hours if hours else None,
            "quality": quality,
            "no_signal_sources": [s["source"] for s in per_source
                                  if s.get("signal") == "no_signal"],
            "sources": per_source}


def write_summary(directory: str, report: dict) -> str:
    path = os.path.join(directory, "summary.json")
    io_utils.write_json(path, report)
    return path
