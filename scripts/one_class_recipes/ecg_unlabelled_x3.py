"""configs/ecg_unlabelled.py with an ensemble of 3 AE-GANs (as configs/ecg_new_patients.py).
An ablation row."""
from tfgad.configs import ecg_unlabelled

FAMILY = ecg_unlabelled.FAMILY
OVERRIDES = {**ecg_unlabelled.OVERRIDES, "model.ensemble": 3}
