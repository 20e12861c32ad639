"""BeatGAN-style AE-GAN: convolutional autoencoder with adversarial feature matching.

Run: python -m tfgad.main --config=configs/aegan.py
Score: the residual |x - G(E(x))|.
"""
from configs import default


def get_config():
    config = default.get_config()
    config.model.name = "aegan"
    config.model.aegan.w_adv = 1.0
    config.detection.weights.residual = 1.0
    return config
