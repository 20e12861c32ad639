"""A loaded export: its metadata and its serving signature, called on numpy batches."""
import dataclasses
import os

from typing import TYPE_CHECKING

import numpy as np

from tfgad import data
from tfgad.data import signal_quality
from tfgad.errors import UserError
from tfgad.detection import maps, record_scoring
from tfgad.export.format import NOT_COMPONENTS, read_metadata

if TYPE_CHECKING:  # records imports wfdb: loaded when a record is scored
    from tfgad.inference import records


def resolve_version(path: str) -> str:
    """The version folder of an export: path itself if it holds saved_model.pb, else its highest
    integer subfolder that does (TF Serving's layout saved_models/NAME/VERSION)."""
    if not os.path.isdir(path):
        raise UserError(f"--model={path} does not exist; give saved_models/NAME or "
                        "saved_models/NAME/VERSION of an export (python -m tfgad.main ... "
                        "--mode=export)")
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return path
    versions = sorted((int(d) for d in os.listdir(path) if d.isdigit()
                       and os.path.isfile(os.path.join(path, d, "saved_model.pb"))), reverse=True)
    if not versions:
        raise UserError(f"{path} holds no exported version (no <integer>/saved_model.pb); "
                        "export one with python -m tfgad.main ... --mode=export")
    return os.path.join(path, str(versions[0]))


def _column(count: int, value) -> np.ndarray:
    return np.full(count, value, object).astype(str)


@dataclasses.dataclass
class ScoreResult:
    """Per-sample outputs of an export, as numpy arrays of length N."""
    score: np.ndarray  # calibrated anomaly score (float32; NaN: not scored, see quality)
    is_anomaly: np.ndarray  # score >= the calibrated threshold (bool)
    components: dict  # {component name: [N] float32}, uncalibrated
    quality: np.ndarray | None = None  # [N] str: signal quality (data/signal_quality.py)
    baseline: np.ndarray | None = None  # [N] str: record | stream | warming_up | too_short | none
    baseline_beats: np.ndarray | None = None  # [N] int: beats that made the row's record baseline
    # [N] float: split-conformal p-value of the score against the normal validation scores
    # (detection/conformal.py): P(p <= alpha) <= alpha on exchangeable normal data
    p_value: np.ndarray | None = None
    # [N, L] (series) or [N, H, W] (images): |x - x_hat| per time step or pixel (maps.py)
    anomaly_map: np.ndarray | None = None

    def __post_init__(self):
        count = len(self.score)
        if self.p_value is None:
            self.p_value = np.full(count, np.nan)
        if self.quality is None:
            self.quality = _column(count, "ok")
        if self.baseline is None:
            self.baseline = _column(count, "none")
        if self.baseline_beats is None:
            self.baseline_beats = np.zeros(count, np.int64)

    def __len__(self):
        return len(self.score)

    @staticmethod
    def concatenate(parts: list) -> "ScoreResult":
        if not parts:
            return ScoreResult(np.zeros(0, np.float32), np.zeros(0, bool), {})
        joined = {f: np.concatenate([getattr(p, f) for p in parts])
                  for f in ("score", "is_anomaly", "quality", "baseline", "baseline_beats",
                            "p_value")}
        if all(p.anomaly_map is not None for p in parts):
            joined["anomaly_map"] = np.concatenate([p.anomaly_map for p in parts])
        return ScoreResult(components={k: np.concatenate([p.components[k] for p in parts])
                                       for k in parts[0].components}, **joined)


class ExportInfo:
    """An export's metadata: what it expects and how it decides, without loading the model.

    Attributes:
      path: the version folder; version: its number; metadata: assets.extra/tfgad.json.
      sample_shape: what one sample must look like; threshold: the calibrated threshold;
      search_settings: the latent search the export runs (n_max, eps, ...); scorer: "encoder"
      or "latent_search"; input: how raw samples were made in training (data.describe_input);
      components: the score components the export returns, sorted.
    """

    def __init__(self, path: str):
        self.path = resolve_version(path)
        folder = os.path.basename(os.path.normpath(self.path))
        self.version = int(folder) if folder.isdigit() else None
        self.metadata = read_metadata(self.path)
        self.sample_shape = tuple(self.metadata["sample_shape"])
        self.threshold = float(self.metadata["calibration"]["threshold"])
        self.search_settings = dict(self.metadata.get("search", {}))
        self.scorer = self.metadata.get("scorer")
        self.input = self.metadata.get("input", {"kind": "arrays"})
        self.components = list(self.metadata.get("components", []))
        self.name = self.metadata.get("name", os.path.basename(os.path.dirname(self.path)))
        # robust: scores are normalized within a record; one score call is one record.
        self.record_normalization = record_scoring.record_normalization(
            self.metadata["calibration"])

    def __repr__(self):
        return (f"{type(self).__name__}({self.name!r}, version={self.version}, "
                f"scorer={self.scorer}, sample_shape={self.sample_shape}, "
                f"threshold={self.threshold:.6g})")

    def check_samples(self, x) -> np.ndarray:
        """x as float32 [N, *sample_shape]; a (N, L) series gets its one channel added."""
        return data.check_samples(x, self.sample_shape, "samples")


class Detector(ExportInfo):
    """An exported tfgad model, ready to score samples and ECG records (see ExportInfo)."""

    def __init__(self, path: str):
        import tensorflow as tf
        super().__init__(path)
        try:
            signatures = tf.saved_model.load(self.path).signatures
            # A record-normalized export's serving_default wants each row's baseline: score
            # the raw components and normalize by record here (record_scoring).
            self._serve = signatures["score_components" if self.record_normalization != "none"
                                     else "serving_default"]
        except (OSError, ValueError, KeyError) as e:
            raise UserError(f"cannot load the SavedModel in {self.path}: {type(e).__name__}: "
                            f"{str(e).splitlines()[0] if str(e) else ''}") from None

    def prepare(self, x) -> tuple[np.ndarray, np.ndarray]:
        """(x as float32 [N, *sample_shape] with unscorable samples zeroed, their quality [N]).

        ECG beats may hold NaN gaps (reported as quality nan_gap, not scored); other inputs
        must be finite."""
        array, gaps = np.asarray(x), None
        if self.input.get("kind") == "ecg_beats" and array.ndim >= 2 and array.size \
                and np.issubdtype(array.dtype, np.floating):
            array, gaps = signal_quality.fill_gaps(array)
        x = self.check_samples(array)
        quality = signal_quality.assess(x, self.input, gaps)
        return x, quality

    def score(self, x, batch_size: int = 256, groups=None, stream: bool = False,
              progress=None) -> ScoreResult:
        """Scores samples x [N, *sample_shape] (raw, as in training; the export normalizes).

        Args:
          x: numpy array of samples, in time order within each record.
          batch_size: samples per call; a sample's score does not depend on it.
          progress: optional callable(done_samples) after each batch.
          groups: [N] record id of each sample (None: x is one record), where the export
            normalizes scores per record (record_normalization "robust").
          stream: causal record baselines (each beat over its record's beats before it, as the
            server answers beats sent one by one); else each record's whole baseline.
        """
        import tensorflow as tf
        batch_size = 256 if batch_size is None else batch_size
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise UserError(f"batch_size={batch_size!r}; give a positive number of samples per "
                            "call")
        x, quality = self.prepare(x)
        parts = []
        for start in range(0, len(x), batch_size):
            out = self._serve(x=tf.constant(x[start:start + batch_size]))
            parts.append({k: v.numpy() for k, v in out.items()})
            if progress:
                progress(min(start + batch_size, len(x)))
        outputs = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else {}
        components = {k: outputs[k] for k in sorted(outputs)
                      if k not in NOT_COMPONENTS and k != "z"}
        return self._answer(outputs, components, quality, groups, stream)

    def _answer(self, outputs, components, quality, groups, stream) -> ScoreResult:
        usable = signal_quality.usable(quality)
        if self.record_normalization != "none":
            scored = record_scoring.score(self.metadata["calibration"], components, groups,
                                          stream, usable)
            return ScoreResult(scored.score.astype(np.float32), scored.is_anomaly, components,
                               quality, scored.baseline, scored.baseline_beats, scored.p_value,
                               outputs.get(maps.OUTPUT))
        if groups is not None and len(groups) != len(quality):
            raise UserError(f"groups has {len(groups)} ids for {len(quality)} samples; give "
                            "one record id per sample")
        score = outputs.get("score", np.zeros(0, np.float32)).astype(np.float32)
        flags = outputs.get("is_anomaly", np.zeros(0, bool)).astype(bool)
        p_value = outputs.get("p_value", np.full(len(score), np.nan))
        return ScoreResult(np.where(usable, score, np.nan).astype(np.float32), flags & usable,
                           components, quality, p_value=np.where(usable, p_value, np.nan),
                           anomaly_map=outputs.get(maps.OUTPUT))

    @property
    def threshold_(self) -> float:
        """The calibrated threshold (as tfgad.Detector names it)."""
        return self.threshold

    def decision_function(self, x, batch_size: int = 256) -> np.ndarray:
        """Anomaly scores of x [N]: higher is more anomalous."""
        return self.score(x, batch_size).score

    def predict(self, x, batch_size: int = 256) -> np.ndarray:
        """0 (normal) / 1 (anomaly) for each sample of x."""
        return self.score(x, batch_size).is_anomaly.astype(np.int8)

    def predict_proba(self, x, batch_size: int = 256) -> np.ndarray:
        """[N, 2]: probability of normal and of anomalous (conformal p-value; as
        tfgad.Detector.predict_proba)."""
        from tfgad.detection import conformal
        return conformal.proba(self.score(x, batch_size).score, self.metadata["calibration"])

    def score_record(self, path: str, batch_size: int = 256, progress=None,
                     stream: bool = False) -> "tuple[records.RecordBeats, ScoreResult]":
        """Cuts the beats of a WFDB record as in training and scores them as one record (see
        records.py): (the beats with their R peaks, their scores); stream: causal baselines,
        beat by beat."""
        from tfgad.inference import records
        beats = records.cut(path, self.input, causal=stream)
        return beats, self.score(beats.x, batch_size, stream=stream, progress=progress)


def load(path: str) -> Detector:
    """The export at saved_models/NAME (latest version) or saved_models/NAME/VERSION."""
    return Detector(path)
