"""configs/ecg_unlabelled.py without the per-record normalization: for the patients the model
trained on (MIT-BIH intra-patient), where a record's median is not its normal level (some
records hold more abnormal beats than normal ones). An ablation row."""
from tfgad.configs import ecg_unlabelled

FAMILY = ecg_unlabelled.FAMILY
OVERRIDES = {**ecg_unlabelled.OVERRIDES, "detection.record_normalization": "none"}
