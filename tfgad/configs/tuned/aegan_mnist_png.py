"""Tuned by scripts/tune.py: aegan on mnist_png (normal classes 2,5,8).

Best mean validation AUROC 0.9747 (trial 1; 21 finished trials, this run 22.4 min).
The combiner was fit on one half of validation and judged on the other; the test split
was not read. Run: python -m tfgad.main --config=configs/tuned/aegan_mnist_png.py
"""
from tfgad import config_files

BASE = 'aegan'
FAMILY = 'aegan'
OVERRIDES = {
    'data.dir': '../shared/data/mnist-opencv',
    'data.name': 'mnist_png',
    'detection.combiner': 'svm',
    'detection.components': 'residual,discrimination,feature,latent',
    'detection.max_samples': 1000,
    'model.aegan.w_adv': 0.17240460099242294,
    'model.base_filters': 32,
    'model.latent_dim': 64,
    'model.num_blocks': 2,
    'search.n_max': 100,
    'train.batch_size': 16,
    'train.d_learning_rate': 0.0002743390481215002,
    'train.epochs': 34,
    'train.g_learning_rate': 0.0009533886267453763,
}


def get_config():
    return config_files.override(config_files.load(BASE), OVERRIDES)
