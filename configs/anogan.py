"""DCGAN-style GAN on normal beats, scored by AnoGAN latent search.

Run: python -m tfgad.main --config=configs/anogan.py
MIT-BIH: add --config.data.name=mitbih --config.data.dir=../shared/data/mitdb
Expected on the embedded synthetic ECG: test AUROC around 0.9 (see README results).
"""
from configs import default


def get_config():
    config = default.get_config()
    config.model.name = "gan"
    config.search.chi_weight = 0.001
    config.search.feature_weight = 0.1
    config.detection.weights.feature = 0.1
    return config
