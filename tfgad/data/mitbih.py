"""MIT-BIH Arrhythmia Database beats via wfdb: lead by name, AAMI classes, R-peak windows."""
import glob
import os

from absl import logging

import ml_collections
import numpy as np

from tfgad.data import rhythm
from tfgad.data.types import Samples
from tfgad.errors import UserError

# AAMI EC57 grouping of MIT-BIH beat symbols; other annotations are not beats.
AAMI_CLASSES = {
    **dict.fromkeys("NLRej", "N"),
    **dict.fromkeys("AaJS", "S"),
    **dict.fromkeys("VE", "V"),
    "F": "F",
    **dict.fromkeys("/fQ", "Q"),
}
PACED_RECORDS = ("102", "104", "107", "217")
SAMPLING_RATE = 360.0  # Hz, every MIT-BIH record
# de Chazal et al. (2004) inter-patient split.
DS1 = ("101", "106", "108", "109", "112", "114", "115", "116", "118", "119", "122", "124",
       "201", "203", "205", "207", "208", "209", "215", "220", "223", "230")
DS2 = ("100", "103", "105", "111", "113", "117", "121", "123", "200", "202", "210", "212",
       "213", "214", "219", "221", "222", "228", "231", "232", "233", "234")

DEFAULT_DIR = os.path.join("data", "mitdb")  # where `tfgad download mitbih` puts the records
_HOW_TO_GET = (f"get it with `tfgad download mitbih` (into {DEFAULT_DIR}; needs internet, "
               "about 100 MB), or give the folder of your copy as --config.data.dir=DIR")


def list_records(directory: str) -> list:
    """Record names (the stems of *.hea files) in a WFDB directory, sorted."""
    if not directory or not os.path.isdir(directory):
        raise UserError(f"MIT-BIH directory {directory!r} does not exist; {_HOW_TO_GET}")
    records = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(directory, "*.hea")))
    if not records:
        raise UserError(f"no WFDB records (*.hea) in {directory!r}; {_HOW_TO_GET}")
    return records


def remove_baseline(signal: np.ndarray, fs: float) -> np.ndarray:
    """Removes baseline wander with two median filters (200 ms, then 600 ms), as de Chazal did."""
    from scipy.signal import medfilt
    first = medfilt(signal, _odd(0.2 * fs))
    baseline = medfilt(first, _odd(0.6 * fs))
    return signal - baseline


def _odd(n):
    n = int(round(n))
    return n + 1 - n % 2


def read_signal(path: str, lead: str = "MLII", baseline: bool = True,
                lead_fix: str = "set data.lead or data.records") -> tuple:
    """One record's lead, baseline-removed as in training if asked; lead_fix: what the error
    for a record without the lead tells the user to do.

    Returns:
      (signal (T,) float32 in mV, sampling rate in Hz).
    """
    import wfdb
    name = os.path.basename(path)
    record = _read_or_explain(name, f"{path}.hea and its signal file",
                              lambda: wfdb.rdrecord(path))
    if lead not in record.sig_name:
        raise UserError(f"record {name} has leads {record.sig_name}, not {lead!r}; {lead_fix}")
    signal = record.p_signal[:, record.sig_name.index(lead)].astype(np.float64)
    if baseline:
        signal = remove_baseline(signal, record.fs)
    return signal.astype(np.float32), float(record.fs)


def read_beat_annotations(path: str) -> tuple:
    """The record's annotated beats: (R-peak sample indices (K,), AAMI classes (K,))."""
    import wfdb
    ann = _read_or_explain(os.path.basename(path), f"the beat annotations {path}.atr",
                           lambda: wfdb.rdann(path, "atr"))
    keep = [i for i, s in enumerate(ann.symbol) if s in AAMI_CLASSES]
    return np.asarray(ann.sample)[keep], np.array([AAMI_CLASSES[ann.symbol[i]] for i in keep])


def read_record(path: str, lead: str = "MLII", baseline: bool = True) -> tuple:
    """Reads one record's lead and its beat annotations.

    Returns:
      signal (T,) float32 in mV, R-peak sample indices (K,), AAMI classes (K,).
    """
    signal, _ = read_signal(path, lead, baseline)
    peaks, classes = read_beat_annotations(path)
    return signal, peaks, classes


class BadRecord(UserError):
    """A record whose files are missing, empty, truncated or unreadable."""


# What wfdb raises on broken files: missing (FileNotFoundError), truncated or empty signal files
# (ValueError from numpy), corrupt headers (wfdb's HeaderSyntaxError is a ValueError; an empty
# header gives IndexError).
DATA_PROBLEMS = (OSError, ValueError, IndexError, EOFError)


def _read_or_explain(name, what, read):
    try:
        return read()
    except DATA_PROBLEMS as e:
        if isinstance(e, FileNotFoundError):
            reason = f"{os.path.basename(e.filename or '') or 'a file'} is missing"
        elif "broadcast" in str(e):
            reason = "its signal file is shorter than its header says (truncated or empty)"
        elif isinstance(e, IndexError):
            reason = "its header is empty or malformed"
        else:
            reason = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'unreadable'}"
        raise BadRecord(f"MIT-BIH record {name}: cannot read {what}: {reason}; restore the "
                        "record's files, or set data.skip_bad_records=True to skip it") from None


def cut_beats(signal: np.ndarray, r_peaks: np.ndarray, before: int, after: int) -> tuple:
    """Windows [r - before, r + after) around each R peak; peaks too near an edge are dropped.

    Returns:
      beats (K', before + after) and the indices of the kept peaks.
    """
    keep = np.flatnonzero((r_peaks - before >= 0) & (r_peaks + after <= len(signal)))
    offsets = np.arange(-before, after)
    return signal[r_peaks[keep][:, None] + offsets], keep


def beat_inputs(signal: np.ndarray, r_peaks: np.ndarray, before: int, after: int,
                rhythm_features: bool = False, causal: bool = False) -> tuple:
    """The model inputs of a record's beats, as training and tfgad.score cut them: windows
    [K', before + after, 1], with the rhythm channels (tfgad/data/rhythm.py) if asked, which
    are computed from every peak of the record, also those too near an edge to cut (causal:
    as a stream computes them, see rhythm.rr_features).

    Returns:
      beats [K', before + after, 1 or 4] float32 and the indices of the kept peaks.
    """
    beats, keep = cut_beats(signal, r_peaks, before, after)
    beats = beats[..., None].astype(np.float32)
    if rhythm_features:
        beats = rhythm.append(beats, rhythm.rr_features(r_peaks, causal)[keep])
    return beats, keep


def aami_counts(directory: str, record: str) -> dict:
    """Beat counts per AAMI class of one record, from its annotations only."""
    import wfdb
    ann = wfdb.rdann(os.path.join(directory, record), "atr")
    classes = [AAMI_CLASSES[s] for s in ann.symbol if s in AAMI_CLASSES]
    return {c: classes.count(c) for c in "NSVFQ"}


def load(config: ml_collections.ConfigDict) -> Samples:
    """All beats of the chosen records: N normal, S/V/F/Q anomalous; groups are record numbers."""
    cfg = config.data
    available = list_records(cfg.dir)
    if cfg.records:
        records = [r.strip() for r in cfg.records.split(",") if r.strip()]
        missing = sorted(set(records) - set(available))
        if missing:
            raise UserError(f"records {missing} are not in {cfg.dir!r}; available: {available}")
    else:
        records = available
    if cfg.exclude_paced:
        records = [r for r in records if r not in PACED_RECORDS]
    parts = []
    for record in records:
        path = os.path.join(cfg.dir, record)
        try:
            signal, peaks, classes = read_record(path, cfg.lead, cfg.remove_baseline)
        except BadRecord as e:
            if not cfg.skip_bad_records:
                raise
            logging.warning("skipping: %s", e)
            continue
        except UserError:
            if cfg.records:
                raise
            continue  # records without the lead (102, 104) are skipped when not asked for
        beats, keep = beat_inputs(signal, peaks, cfg.window_before, cfg.window_after,
                                  cfg.rhythm_features)
        classes = classes[keep]
        parts.append(Samples(beats, classes != "N",
                             np.full(len(beats), int(record)), classes))
    if not parts:
        raise UserError(f"no record in {cfg.dir!r} has lead {cfg.lead!r}")
    return Samples.concatenate(parts)
