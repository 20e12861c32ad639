"""What every fitted tfgad detector answers: tfgad.Detector (trained in Python, or loaded from
Detector.save) and the export's tfgad.inference.Detector (a SavedModel). Code that scores may
take either; tests/test_common_checks.py holds both to it for every family."""
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class FittedDetector(Protocol):
    """A detector ready to score samples of its sample shape.

    score(x, batch_size=None or int, groups=None, stream=False) -> ScoreResult (score,
    is_anomaly, components, quality, baseline, baseline_beats, p_value: numpy arrays of len(x);
    anomaly_map: [N, L] or [N, H, W], where the reconstruction failed);
    groups: each sample's record and stream: causal record baselines, where the calibration
    normalizes per record. decision_function(x) -> the score [N]; predict(x) -> 0/1 [N] int8,
    score >= threshold_; predict_proba(x) -> [N, 2] (normal, anomaly) from the conformal
    p-value against the normal validation scores. Bad arguments raise tfgad.errors.UserError in one line.
    """

    @property
    def threshold_(self) -> float: ...

    def score(self, x, batch_size=..., groups=None, stream: bool = False): ...

    def decision_function(self, x) -> np.ndarray: ...

    def predict(self, x) -> np.ndarray: ...

    def predict_proba(self, x) -> np.ndarray: ...
