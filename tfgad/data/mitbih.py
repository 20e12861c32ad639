"""MIT-BIH Arrhythmia Database beats via wfdb: lead by name, AAMI classes, R-peak windows."""
import glob
import os

import numpy as np

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
# de Chazal et al. (2004) inter-patient split.
DS1 = ("101", "106", "108", "109", "112", "114", "115", "116", "118", "119", "122", "124",
       "201", "203", "205", "207", "208", "209", "215", "220", "223", "230")
DS2 = ("100", "103", "105", "111", "113", "117", "121", "123", "200", "202", "210", "212",
       "213", "214", "219", "221", "222", "228", "231", "232", "233", "234")

_HOW_TO_GET = ("download it with `python scripts/download_mitbih.py --dir DIR` (needs internet) "
               "or wfdb.dl_database('mitdb', DIR), then pass --config.data.dir=DIR")


def list_records(directory):
    """Record names (the stems of *.hea files) in a WFDB directory, sorted."""
    if not directory or not os.path.isdir(directory):
        raise UserError(f"MIT-BIH directory {directory!r} does not exist; {_HOW_TO_GET}")
    records = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(directory, "*.hea")))
    if not records:
        raise UserError(f"no WFDB records (*.hea) in {directory!r}; {_HOW_TO_GET}")
    return records


def remove_baseline(signal, fs):
    """Removes baseline wander with two median filters (200 ms, then 600 ms), as de Chazal did."""
    from scipy.signal import medfilt
    first = medfilt(signal, _odd(0.2 * fs))
    baseline = medfilt(first, _odd(0.6 * fs))
    return signal - baseline


def _odd(n):
    n = int(round(n))
    return n + 1 - n % 2


def read_record(path, lead="MLII", baseline=True):
    """Reads one record's lead and its beat annotations.

    Returns:
      signal (T,) float32 in mV, R-peak sample indices (K,), AAMI classes (K,).
    """
    import wfdb
    record = wfdb.rdrecord(path)
    if lead not in record.sig_name:
        raise UserError(f"record {os.path.basename(path)} has leads {record.sig_name}, "
                        f"not {lead!r}; set data.lead or data.records")
    signal = record.p_signal[:, record.sig_name.index(lead)].astype(np.float64)
    if baseline:
        signal = remove_baseline(signal, record.fs)
    ann = wfdb.rdann(path, "atr")
    keep = [i for i, s in enumerate(ann.symbol) if s in AAMI_CLASSES]
    samples = np.asarray(ann.sample)[keep]
    classes = np.array([AAMI_CLASSES[ann.symbol[i]] for i in keep])
    return signal.astype(np.float32), samples, classes


def cut_beats(signal, r_peaks, before, after):
    """Windows [r - before, r + after) around each R peak; peaks too near an edge are dropped.

    Returns:
      beats (K', before + after) and the indices of the kept peaks.
    """
    keep = np.flatnonzero((r_peaks - before >= 0) & (r_peaks + after <= len(signal)))
    offsets = np.arange(-before, after)
    return signal[r_peaks[keep][:, None] + offsets], keep


def aami_counts(directory, record):
    """Beat counts per AAMI class of one record, from its annotations only."""
    import wfdb
    ann = wfdb.rdann(os.path.join(directory, record), "atr")
    classes = [AAMI_CLASSES[s] for s in ann.symbol if s in AAMI_CLASSES]
    return {c: classes.count(c) for c in "NSVFQ"}


def load(config):
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
        except UserError:
            if cfg.records:
                raise
            continue  # records without the lead (102, 104) are skipped when not asked for
        beats, keep = cut_beats(signal, peaks, cfg.window_before, cfg.window_after)
        classes = classes[keep]
        parts.append(Samples(beats[..., None], classes != "N",
                             np.full(len(beats), int(record)), classes))
    if not parts:
        raise UserError(f"no record in {cfg.dir!r} has lead {cfg.lead!r}")
    return Samples.concatenate(parts)
