"""Tuned by scripts/tune.py: vaegan on digits (normal classes 2,5,8).

Best mean validation AUROC 0.9911 (trial 3; 4 finished trials, this run 7.1 min).
The combiner was fit on one half of validation and judged on the other; the test split
was not read. Run: python -m tfgad.main --config=configs/tuned/vaegan_digits.py
"""
from tfgad import config_files

BASE = 'vaegan'
FAMILY = 'vaegan'
OVERRIDES = {
    'data.name': 'digits',
    'detection.combiner': 'grid',
    'detection.components': 'residual,discrimination,feature,latent,kl,mean_norm',
    'detection.max_samples': 1000,
    'model.base_filters': 32,
    'model.latent_dim': 64,
    'model.num_blocks': 2,
    'train.batch_size': 16,
    'train.d_learning_rate': 8.044844753140381e-05,
    'train.epochs': 47,
    'train.g_learning_rate': 0.0001086464369658634,
}


def get_config():
    return config_files.override(config_files.load(BASE), OVERRIDES)
