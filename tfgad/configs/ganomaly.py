"""GANomaly: encoder-decoder-encoder generator; scored by the latent distance ||z - z'||^2.

Run: python -m tfgad.main --config=configs/ganomaly.py
Expected on the embedded synthetic ECG (measured, seed 0, 2-core CPU): test AUROC 0.978,
F1 0.896, MCC 0.875 (RBF-SVM over the components, max-MCC threshold; the paper's
single score, --config.detection.combiner=weighted: AUROC 0.894, F1 0.747, MCC 0.723)
on 1,765 test beats; 62 s for training, scoring and export.
"""
from tfgad.configs import default


def get_config():
    config = default.get_config()
    config.model.name = "ganomaly"
    g = config.model.ganomaly
    g.w_adv, g.w_con, g.w_enc = 1.0, 50.0, 1.0
    config.detection.components = "residual,discrimination,feature,latent,latent_distance"
    config.detection.weights.residual = 0.0
    config.detection.weights.latent_distance = 1.0
    config.detection.combiner = default.FAMILY_COMBINER
    return config
