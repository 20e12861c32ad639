"""A calibration applied record by record: each row over its record's baseline
(record_context), or against the global calibration where its record has no baseline yet.

Every consumer of a record-normalized calibration goes through here: tfgad.Detector.score,
tfgad.load(...).score, tfgad.score (whole records or --stream), Beam, and the server (which
keeps each record's state between requests).
"""
import dataclasses

import numpy as np

from tfgad.detection import composition, conformal, record_context
from tfgad.errors import UserError

NOT_RECORD_NORMALIZED = "none"  # the baseline column of a calibration without record context


@dataclasses.dataclass
class RecordScores:
    """Per-row answers and how each was made."""
    score: np.ndarray  # [N] float64; NaN where the signal was not usable (not scored)
    is_anomaly: np.ndarray  # [N] bool
    baseline: np.ndarray  # [N] str: record | stream | warming_up | too_short | none
    baseline_beats: np.ndarray  # [N] int: beats that made the row's baseline
    # [N] float64: split-conformal p-value against the normal validation scores of the
    # calibration that scored the row (NaN: not scored; none kept by an old calibration)
    p_value: np.ndarray


def record_normalization(calibration: dict) -> str:
    """A calibration's detection.record_normalization; one fit before record normalization
    existed has no such entry, and normalizes within no record."""
    return calibration.get("record_normalization", "none")


def is_record_normalized(calibration: dict) -> bool:
    return record_normalization(calibration) != "none"


def stream_settings(calibration: dict) -> record_context.StreamSettings:
    return record_context.StreamSettings.from_dict(calibration["stream"])


def score(calibration: dict, components: dict, groups=None, stream: bool = False,
          usable=None) -> RecordScores:
    """Scores a components dict {name: [N]}.

    Args:
      calibration: a fitted calibration (calibration.fit).
      components: the scorer's outputs, rows in time order within each record.
      groups: [N] record ids (None: one record).
      stream: causal baselines (each row over the usable rows before it in its record), as a
        server answers a record's beats sent one by one; else each record's whole baseline.
      usable: [N] bool, rows whose signal can be scored (signal_quality); the others get no
        score and stay out of every baseline.
    """
    raw = composition.matrix(components, calibration["components"])
    usable = np.ones(len(raw), bool) if usable is None else np.asarray(usable, bool)
    if not is_record_normalized(calibration):
        record_context.check_groups(groups, len(raw))
        return _finish(calibration, raw, None, usable)
    settings = stream_settings(calibration)
    if stream:
        normalized = record_context.stream(raw, groups, settings, usable)
    else:  # too few beats for a median (a stale calibration without "global": any record)
        least = settings.warmup if "global" in calibration else 1
        normalized = record_context.whole_records(raw, groups, usable, least)
    return _finish(calibration, raw, normalized, usable)


def score_normalized(calibration: dict, raw: np.ndarray,
                     normalized: record_context.Normalized, usable) -> RecordScores:
    """Scores rows raw [n, columns] that a RecordStore or RecordState normalized."""
    return _finish(calibration, np.asarray(raw, np.float64), normalized,
                   np.asarray(usable, bool))


def _finish(calibration, raw, normalized, usable) -> RecordScores:
    count = len(raw)
    scores, flags, p = np.full(count, np.nan), np.zeros(count, bool), np.full(count, np.nan)
    if normalized is None:
        baseline, beats = np.full(count, NOT_RECORD_NORMALIZED, object), np.zeros(count, np.int64)
        warm = usable
    else:
        baseline, beats = normalized.baseline.copy(), normalized.baseline_beats.copy()
        warm = usable & normalized.warm
    if warm.any():
        rows = raw[warm] if normalized is None else normalized.z[warm]
        scores[warm], decisions = composition.combine(calibration, rows)
        flags[warm] = decisions.astype(bool)
        p[warm] = _p_values(scores[warm], calibration)
    cold = usable & ~warm
    if cold.any():
        scores[cold], flags[cold] = global_scores(calibration, raw[cold])
        # Against the global calibration's own normal scores, before the shift.
        fallback = calibration["global"]
        p[cold] = _p_values(scores[cold] - calibration["threshold"] + fallback["threshold"],
                            fallback)
    return RecordScores(scores, flags, baseline.astype(str), beats, p)


def _p_values(scores: np.ndarray, calibration: dict) -> np.ndarray:
    if conformal.KEY not in calibration:  # fit before the normal scores were kept
        return np.full(len(scores), np.nan)
    return conformal.p_values(scores, calibration)


def global_scores(calibration: dict, raw: np.ndarray) -> tuple:
    """Rows without a record baseline, scored by the global calibration fit beside the
    record-normalized one; shifted so that the record calibration's threshold decides them as
    the global one does (score - global threshold + threshold)."""
    fallback = calibration.get("global")
    if fallback is None:
        raise UserError("this calibration was fit before tfgad scored beats without a record "
                        "baseline (warm-up, short records); run --mode=detect (or fit) again")
    scores, decisions = composition.combine(fallback, raw)
    return scores - fallback["threshold"] + calibration["threshold"], decisions.astype(bool)
