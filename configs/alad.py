"""ALAD: BiGAN plus cycle-consistency discriminators D_xx, D_zz, spectral normalization.

Run: python -m tfgad.main --config=configs/alad.py
Score: the L1 distance of D_xx features between (x, x) and (x, G(E(x))).
"""
from configs import default


def get_config():
    config = default.get_config()
    config.model.name = "alad"
    config.model.spectral_norm = True
    config.detection.components = "residual,discrimination,feature,latent,dxx_feature"
    config.detection.weights.residual = 0.0
    config.detection.weights.dxx_feature = 1.0
    return config
