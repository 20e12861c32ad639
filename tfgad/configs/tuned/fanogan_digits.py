"""Tuned by scripts/tune.py: fanogan on digits (normal classes 2,5,8).

Best mean validation AUROC 0.9933 (trial 0; 3 finished trials, this run 10.3 min).
The combiner was fit on one half of validation and judged on the other; the test split
was not read. Run: python -m tfgad.main --config=configs/tuned/fanogan_digits.py
"""
from tfgad import config_files

BASE = 'fanogan'
FAMILY = 'fanogan'
OVERRIDES = {
    'data.name': 'digits',
    'detection.combiner': 'weighted',
    'detection.max_samples': 1000,
    'model.base_filters': 16,
    'model.fanogan.encoder_epochs': 25,
    'model.latent_dim': 16,
    'model.num_blocks': 2,
    'train.batch_size': 16,
    'train.d_learning_rate': 0.001749103698339596,
    'train.epochs': 51,
    'train.g_learning_rate': 0.0013416642577896967,
}


def get_config():
    return config_files.override(config_files.load(BASE), OVERRIDES)
