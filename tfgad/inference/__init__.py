"""Scoring new data with an exported model: needs only the SavedModel and the data readers.

    detector = tfgad.load("saved_models/ecg")      # the latest version
    result = detector.score(x)                     # numpy: score, is_anomaly, components
    beats = detector.score_record("data/mitdb/100")
"""
from tfgad.inference.detector import Detector, ExportInfo, ScoreResult, load, resolve_version

__all__ = ["Detector", "ExportInfo", "ScoreResult", "load", "resolve_version"]
