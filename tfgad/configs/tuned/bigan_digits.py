"""Tuned by scripts/tune.py: bigan on digits (normal classes 2,5,8).

Best mean validation AUROC 0.8692 (trial 2; 4 finished trials, this run 8.3 min).
The combiner was fit on one half of validation and judged on the other; the test split
was not read. Run: python -m tfgad.main --config=configs/tuned/bigan_digits.py
"""
from tfgad import config_files

BASE = 'bigan'
FAMILY = 'bigan'
OVERRIDES = {
    'data.name': 'digits',
    'detection.combiner': 'svm',
    'detection.components': 'residual,discrimination,feature,latent',
    'detection.max_samples': 1000,
    'model.base_filters': 16,
    'model.latent_dim': 16,
    'model.num_blocks': 2,
    'train.batch_size': 16,
    'train.d_learning_rate': 5.3588597605453576e-05,
    'train.epochs': 69,
    'train.g_learning_rate': 0.00040703831474345084,
}


def get_config():
    return config_files.override(config_files.load(BASE), OVERRIDES)
