"""DCGAN-style GAN on normal beats, scored by AnoGAN latent search.

Run: python -m tfgad.main --config=configs/anogan.py
Expected on the embedded synthetic ECG (measured, seed 0, 2-core CPU): test AUROC 0.981,
F1 0.898, MCC 0.875 (RBF-SVM over the components, max-MCC threshold; the paper's
single score, --config.detection.combiner=weighted: AUROC 0.977, F1 0.877, MCC 0.850)
on 1,765 test beats; 117 s for training, scoring and
export (2-core AVX-512 host; 92-202 s on other hosts).
MIT-BIH: add --config.data.name=mitbih --config.data.dir=../shared/data/mitdb
"""
from tfgad.configs import default


def get_config():
    config = default.get_config()
    config.model.name = "gan"
    config.search.chi_weight = 0.001
    config.search.feature_weight = 0.1
    config.detection.weights.feature = 0.1
    config.detection.combiner = default.FAMILY_COMBINER
    return config
