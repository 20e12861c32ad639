"""ALAD: BiGAN plus cycle-consistency discriminators D_xx, D_zz, spectral normalization.

Run: python -m tfgad.main --config=configs/alad.py
Expected on the embedded synthetic ECG (measured, seed 0, 2-core CPU): test AUROC 0.958,
F1 0.902, MCC 0.882 (RBF-SVM over the components, max-MCC threshold; the paper's
single score, --config.detection.combiner=weighted: AUROC 0.910, F1 0.799, MCC 0.770)
on 1,765 test beats; 100 s for training, scoring and export.
Paper's score (weighted): the L1 distance of D_xx features between (x, x) and (x, G(E(x))).
"""
from tfgad.configs import default


def get_config():
    config = default.get_config()
    config.model.name = "alad"
    config.model.spectral_norm = True
    config.detection.components = "residual,discrimination,feature,latent,dxx_feature"
    config.detection.weights.residual = 0.0
    config.detection.weights.dxx_feature = 1.0
    config.detection.combiner = default.FAMILY_COMBINER
    return config
