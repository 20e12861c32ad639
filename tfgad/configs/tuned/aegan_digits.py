"""Tuned by scripts/tune.py: aegan on digits (normal classes 2,5,8).

Best mean validation AUROC 0.9994 (trial 8; 12 finished trials, this run 11.1 min).
The combiner was fit on one half of validation and judged on the other; the test split
was not read. Run: python -m tfgad.main --config=configs/tuned/aegan_digits.py
"""
from tfgad import config_files

BASE = 'aegan'
FAMILY = 'aegan'
OVERRIDES = {
    'data.name': 'digits',
    'detection.combiner': 'weighted',
    'detection.max_samples': 1000,
    'model.aegan.w_adv': 8.168969403760055,
    'model.base_filters': 32,
    'model.latent_dim': 32,
    'model.num_blocks': 2,
    'train.batch_size': 16,
    'train.d_learning_rate': 0.000725890093690133,
    'train.epochs': 60,
    'train.g_learning_rate': 0.0006433497811065511,
}


def get_config():
    return config_files.override(config_files.load(BASE), OVERRIDES)
