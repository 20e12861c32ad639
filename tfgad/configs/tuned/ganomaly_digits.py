"""Tuned by scripts/tune.py: ganomaly on digits (normal classes 2,5,8).

Best mean validation AUROC 0.9988 (trial 3; 5 finished trials, this run 10.1 min).
The combiner was fit on one half of validation and judged on the other; the test split
was not read. Run: python -m tfgad.main --config=configs/tuned/ganomaly_digits.py
"""
from tfgad import config_files

BASE = 'ganomaly'
FAMILY = 'ganomaly'
OVERRIDES = {
    'data.name': 'digits',
    'detection.combiner': 'grid',
    'detection.components': 'residual,discrimination,feature,latent,latent_distance',
    'detection.max_samples': 1000,
    'model.base_filters': 32,
    'model.ganomaly.w_adv': 9.47867594863468,
    'model.latent_dim': 8,
    'model.num_blocks': 2,
    'train.batch_size': 16,
    'train.d_learning_rate': 0.00040969384310414426,
    'train.epochs': 56,
    'train.g_learning_rate': 0.00019127423728871134,
}


def get_config():
    return config_files.override(config_files.load(BASE), OVERRIDES)
