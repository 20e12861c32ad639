"""Tuned by scripts/tune.py: alad on digits (normal classes 2,5,8).

Best mean validation AUROC 0.9965 (trial 1; 3 finished trials, this run 8.9 min).
The combiner was fit on one half of validation and judged on the other; the test split
was not read. Run: python -m tfgad.main --config=configs/tuned/alad_digits.py
"""
from tfgad import config_files

BASE = 'alad'
FAMILY = 'alad'
OVERRIDES = {
    'data.name': 'digits',
    'detection.combiner': 'weighted',
    'detection.max_samples': 1000,
    'model.base_filters': 32,
    'model.latent_dim': 8,
    'model.num_blocks': 2,
    'train.batch_size': 16,
    'train.d_learning_rate': 0.0009533886267453763,
    'train.epochs': 57,
    'train.g_learning_rate': 0.0018483120598659902,
}


def get_config():
    return config_files.override(config_files.load(BASE), OVERRIDES)
