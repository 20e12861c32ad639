"""f-AnoGAN: WGAN-GP for train.epochs, then an izif encoder for model.fanogan.encoder_epochs.

Run: python -m tfgad.main --config=configs/fanogan.py
Expected on the embedded synthetic ECG (measured, seed 0, 2-core CPU): test AUROC 0.996,
F1 0.938, MCC 0.919 (RBF-SVM over the components, max-MCC threshold; the paper's
single score, --config.detection.combiner=weighted: AUROC 0.993, F1 0.917, MCC 0.891)
on 1,765 test beats; 127 s for training, scoring and export.
Paper's score (weighted): residual + kappa * discriminator-feature residual, z-scored on validation.
"""
from tfgad.configs import default, wgan_gp


def get_config():
    config = wgan_gp.get_config()
    config.model.name = "fanogan"
    # The encoder starts any search (search.init_from_encoder); no amortized inverse of G.
    plain = default.get_config()
    config.model.inverse = plain.model.inverse
    config.search.init, config.search.n_max = plain.search.init, plain.search.n_max
    config.search.budgets = plain.search.budgets
    config.model.fanogan.kappa = 1.0
    config.model.fanogan.encoder_epochs = 10
    config.detection.weights.residual = 1.0
    config.detection.weights.feature = 1.0
    return config
