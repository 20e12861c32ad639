"""Signal quality of ECG beats: a beat that cannot be read is reported, never scored as normal.

A lead that falls off gives a flat line, a saturated amplifier clips, a loose electrode gives
amplitudes no heart makes, and a recorder's gaps are NaN. A reconstruction score sees none of
these as anomalous (a flat line is easy to reconstruct), so each beat is checked first:

  ok         scored as usual
  flat       peak to peak below FLAT_MV: no signal; not scored, kept out of record baselines
  nan_gap    NaN or inf samples in the beat; not scored, kept out of record baselines
  clipped    CLIP_SECONDS or more at the beat's extreme (saturation); scored, reported
  amplitude  peak to peak above IMPLAUSIBLE_MV; scored (it may well be an anomaly), reported

Thresholds are in millivolts, the physical unit of WFDB records, so they apply to exports of
ECG beats (input kind "ecg_beats"); other inputs are checked for NaN gaps only.
"""
import numpy as np

OK, FLAT, NAN_GAP, CLIPPED, AMPLITUDE = "ok", "flat", "nan_gap", "clipped", "amplitude"
KINDS = (OK, FLAT, NAN_GAP, CLIPPED, AMPLITUDE)
UNSCORABLE = (FLAT, NAN_GAP)
FLAT_MV = 0.05  # a QRS complex is 0.5-3 mV; below this the lead carries no heart signal
IMPLAUSIBLE_MV = 8.0  # MIT-BIH's amplifiers span 10 mV; beats beyond 8 mV are artefacts or gain errors
CLIP_SECONDS = 0.03  # a plateau at the extreme this long (11 samples at 360 Hz) is saturation
CLIP_TOLERANCE = 0.005  # of the beat's peak to peak: how close to the extreme counts as on it
DTYPE = f"<U{max(len(k) for k in KINDS)}"  # any kind fits, so callers may set any kind
NO_SIGNAL_SHARE = 0.5  # a record with at least this share of unscorable beats has no signal


def context_channels(input_description: dict) -> int:
    """The rhythm channels an ECG beat carries after its signal (see data/rhythm.py)."""
    return 3 if input_description.get("rhythm_features") else 0


def fill_gaps(x: np.ndarray) -> tuple:
    """(x [N, ...] float32 with every sample that holds NaN or inf set to zeros, which samples
    those were [N] bool): a graph can take the rest, and assess(..., gaps) reports them."""
    x = np.asarray(x, np.float32)
    gaps = ~np.isfinite(x).reshape(len(x), -1).all(axis=1)
    if gaps.any():
        x = np.where(gaps.reshape((-1,) + (1,) * (x.ndim - 1)), np.float32(0), x)
    return x, gaps


def assess(x: np.ndarray, input_description: dict, gaps=None) -> np.ndarray:
    """The quality of each sample of x [N, ...] (raw, as the export takes it): [N] str.
    gaps: [N] bool, samples fill_gaps zeroed (nan_gap)."""
    x = np.asarray(x, np.float32)
    quality = np.full(len(x), OK, object)
    if not len(x):
        return quality.astype(DTYPE)
    quality[~np.isfinite(x.reshape(len(x), -1)).all(axis=1)] = NAN_GAP
    if gaps is not None:
        quality[np.asarray(gaps, bool)] = NAN_GAP
    if input_description.get("kind") != "ecg_beats":
        return quality.astype(DTYPE)
    context = context_channels(input_description)
    signal = x[..., :x.shape[-1] - context] if context else x
    signal = np.where(np.isfinite(signal), signal, 0.0).reshape(len(x), signal.shape[1], -1)
    high, low = signal.max(axis=1), signal.min(axis=1)  # [N, channels]
    span = (high - low).max(axis=1)
    near = CLIP_TOLERANCE * np.maximum(high - low, 1e-9)[:, None, :]
    plateau = max(2, int(round(CLIP_SECONDS * input_description.get("sampling_rate", 360.0))))
    at_extreme = (_longest_run(signal >= high[:, None, :] - near) >= plateau) | (
        _longest_run(signal <= low[:, None, :] + near) >= plateau)
    good = quality == OK
    quality[good & at_extreme] = CLIPPED
    quality[good & (span > IMPLAUSIBLE_MV)] = AMPLITUDE
    quality[good & (span < FLAT_MV)] = FLAT
    return quality.astype(DTYPE)


def _longest_run(mask: np.ndarray) -> np.ndarray:
    """[N] the longest run of True along axis 1 of mask [N, L, C], over channels."""
    n, length, channels = mask.shape
    rows = np.moveaxis(mask, 2, 1).reshape(n * channels, length)
    padded = np.pad(rows, ((0, 0), (1, 1))).astype(np.int8)  # False at both ends of each row
    edges = np.diff(padded, axis=1)  # +1 where a run starts, -1 after it ends
    starts, ends = np.nonzero(edges == 1), np.nonzero(edges == -1)
    best = np.zeros(n * channels, np.int64)  # starts and ends pair up, row by row, in order
    np.maximum.at(best, starts[0], ends[1] - starts[1])
    return best.reshape(n, channels).max(axis=1)


def usable(quality: np.ndarray) -> np.ndarray:
    """[N] bool: the samples that are scored."""
    return ~np.isin(np.asarray(quality), UNSCORABLE)


def counts(quality: np.ndarray) -> dict:
    """{kind: how many samples} for every kind, in KINDS order."""
    quality = np.asarray(quality)
    return {kind: int(np.sum(quality == kind)) for kind in KINDS}


def record_verdict(quality: np.ndarray) -> str:
    """"no_signal" where at least NO_SIGNAL_SHARE of a record's beats are unscorable (a lead
    off), else "ok" (single bad beats are reported per beat)."""
    quality = np.asarray(quality)
    if not len(quality) or np.mean(~usable(quality)) >= NO_SIGNAL_SHARE:
        return "no_signal"
    return "ok"
