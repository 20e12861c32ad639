"""A record (one patient's recording) and its context: the only place that normalizes score
components within a record.

A new patient's beats differ from the training patients' as a whole, which shifts every score
component of that patient; a robust z-score within the record (minus the record's median, over
its MAD) takes the patient's own level out without a label from that patient (most beats of a
record are normal). The baseline (median and scaled MAD per component) is a record's context:

  whole record  offline: every beat of the record makes the baseline (Detector.score with
                groups, tfgad.load(...).score of one record, tfgad.score without --stream);
  streaming     causal: beat i is normalized by the last `window` usable beats before it, once
                `warmup` of them exist; before that it is "warming_up" and the caller scores it
                against the global calibration. Served records and tfgad.score --stream use it,
                so a beat's answer depends on its record's past only, never on other clients.

State lives outside any batched graph (served equals offline): RecordState for one record,
RecordStore for a server's many records in bounded memory.
"""
import collections
import dataclasses
import threading
import time

import numpy as np

from tfgad.errors import UserError

MAD_TO_STD = 1.4826  # the MAD of a normal distribution times this is its standard deviation
# What made a row's baseline: its whole record, its stream, or none yet (scored globally).
WARM, WHOLE_RECORD, WARMING_UP, TOO_SHORT = "stream", "record", "warming_up", "too_short"


@dataclasses.dataclass(frozen=True)
class StreamSettings:
    """How a causal baseline is made: the last `window` usable beats, trusted from `warmup`
    (detection.record_window and record_warmup)."""
    window: int
    warmup: int

    def __post_init__(self):
        for name in ("window", "warmup"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise UserError(f"detection.record_{name}={value!r}; give a positive number of "
                                "beats")
        if self.warmup > self.window:
            raise UserError(f"detection.record_warmup={self.warmup} exceeds "
                            f"detection.record_window={self.window}; the warm-up must fit in "
                            "the window")

    def to_dict(self) -> dict:
        return {"window": int(self.window), "warmup": int(self.warmup)}

    @classmethod
    def from_dict(cls, values: dict) -> "StreamSettings":
        return cls(int(values["window"]), int(values["warmup"]))


@dataclasses.dataclass
class Baseline:
    """A record's per-component level: location [k] (median) and scale [k] (MAD as a std)."""
    location: np.ndarray
    scale: np.ndarray
    beats: int  # how many beats made it


def robust_baseline(raw: np.ndarray) -> Baseline:
    """The median and MAD (scaled to a standard deviation; 1 where it is 0) of raw [n, k]."""
    raw = np.asarray(raw, np.float64)
    location = np.median(raw, axis=0)
    mad = MAD_TO_STD * np.median(np.abs(raw - location), axis=0)
    return Baseline(location, np.where(mad > 0, mad, 1.0), len(raw))


def normalize(raw: np.ndarray, location, scale) -> np.ndarray:
    """(raw [n, k] - location [k] or [n, k]) / scale, in float64."""
    return (np.asarray(raw, np.float64) - np.asarray(location, np.float64)) / np.asarray(
        scale, np.float64)


def check_groups(groups, count: int) -> np.ndarray:
    """groups as an [count] array (None: one record), or a one-line error."""
    groups = np.zeros(count, np.int64) if groups is None else np.asarray(groups)
    if groups.shape != (count,):
        raise UserError(f"groups has shape {groups.shape}; give one record id per sample "
                        f"({count})")
    return groups


@dataclasses.dataclass
class Normalized:
    """Per-record normalized components and how each row's baseline was made."""
    z: np.ndarray  # [N, k] float64; rows without a baseline hold NaN
    baseline: np.ndarray  # [N] str: "record", "stream" or "warming_up"
    baseline_beats: np.ndarray  # [N] int: beats that made the row's baseline

    @classmethod
    def without_baseline(cls, raw: np.ndarray) -> "Normalized":
        """Every row of raw [N, k] still warming up, to be filled in."""
        return cls(np.full(raw.shape, np.nan), np.full(len(raw), WARMING_UP, object),
                   np.zeros(len(raw), np.int64))

    @property
    def warm(self) -> np.ndarray:
        """[N] bool: rows that have a record baseline."""
        return np.isin(self.baseline, (WARM, WHOLE_RECORD))


def _usable(usable, count: int) -> np.ndarray:
    return np.ones(count, bool) if usable is None else np.asarray(usable, bool)


def whole_records(raw: np.ndarray, groups=None, usable=None, min_beats: int = 1) -> Normalized:
    """Offline: each record's rows over the baseline of the record's usable rows.

    A record with fewer than min_beats usable rows gets no baseline (its rows "too_short"; the
    caller scores them against the global calibration)."""
    raw = np.asarray(raw, np.float64)
    groups, usable = check_groups(groups, len(raw)), _usable(usable, len(raw))
    out = Normalized.without_baseline(raw)
    for group in np.unique(groups):
        rows = groups == group
        good = rows & usable
        if good.sum() < max(min_beats, 1):
            out.baseline[rows], out.baseline_beats[rows] = TOO_SHORT, good.sum()
            continue
        base = robust_baseline(raw[good])
        out.z[rows] = normalize(raw[rows], base.location, base.scale)
        out.baseline[rows], out.baseline_beats[rows] = WHOLE_RECORD, base.beats
    return out


class RecordState:
    """One record's causal history: the raw components of its last `window` usable beats."""

    def __init__(self, settings: StreamSettings):
        self.settings = settings
        self.history: collections.deque = collections.deque(maxlen=settings.window)
        self.beats_seen = 0
        self.last_used = time.monotonic()

    def normalize(self, raw: np.ndarray, usable=None) -> Normalized:
        """Rows of raw [n, k] in time order, each over the baseline of the usable beats before
        it (not itself: an anomalous beat does not soften its own score); the usable ones then
        join the history."""
        raw = np.asarray(raw, np.float64)
        usable = _usable(usable, len(raw))
        out = Normalized.without_baseline(raw)
        for i, row in enumerate(raw):
            if len(self.history) >= self.settings.warmup:
                base = robust_baseline(np.asarray(self.history))
                out.z[i] = normalize(row[None], base.location, base.scale)[0]
                out.baseline[i] = WARM
            out.baseline_beats[i] = len(self.history)
            if usable[i]:
                self.history.append(row)
        self.beats_seen += len(raw)
        self.last_used = time.monotonic()
        return out


def stream(raw: np.ndarray, groups, settings: StreamSettings, usable=None) -> Normalized:
    """Offline streaming: each record's rows in the given (time) order through a fresh
    RecordState, exactly as a server answers the record's beats sent one by one."""
    raw = np.asarray(raw, np.float64)
    groups, usable = check_groups(groups, len(raw)), _usable(usable, len(raw))
    out = Normalized.without_baseline(raw)
    for group in np.unique(groups):
        rows = np.flatnonzero(groups == group)
        part = RecordState(settings).normalize(raw[rows], usable[rows])
        out.z[rows], out.baseline[rows], out.baseline_beats[rows] = (
            part.z, part.baseline, part.baseline_beats)
    return out


class RecordStore:
    """A server's record states in bounded memory: at most max_records (the least recently
    used goes first), and none kept idle longer than idle_seconds. Thread-safe."""

    def __init__(self, settings: StreamSettings, max_records: int = 10000,
                 idle_seconds: float = 3600.0):
        if max_records < 1 or idle_seconds <= 0:
            raise UserError(f"max_records={max_records}, idle_seconds={idle_seconds}; both must "
                            "be positive")
        self.settings, self.max_records, self.idle_seconds = settings, max_records, idle_seconds
        self._states: collections.OrderedDict = collections.OrderedDict()
        self._lock = threading.Lock()
        self.evicted = 0

    def __len__(self):
        return len(self._states)

    def normalize(self, record: str, raw: np.ndarray, usable=None) -> Normalized:
        """record's state (created on first use) normalizes raw [n, k]; see RecordState."""
        with self._lock:
            self._expire()
            state = self._states.pop(record, None) or RecordState(self.settings)
            self._states[record] = state  # most recently used last
            while len(self._states) > self.max_records:
                self._states.popitem(last=False)
                self.evicted += 1
            return state.normalize(raw, usable)

    def _expire(self):
        deadline = time.monotonic() - self.idle_seconds
        while self._states:
            record, state = next(iter(self._states.items()))
            if state.last_used >= deadline:
                break
            del self._states[record]
            self.evicted += 1
