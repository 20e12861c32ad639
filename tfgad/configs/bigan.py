"""BiGAN / EGBAD: encoder and joint discriminator D(x, z); scored by one pass z = E(x).

Run: python -m tfgad.main --config=configs/bigan.py
Expected on the embedded synthetic ECG (measured, seed 0, 2-core CPU): test AUROC 0.863,
F1 0.698, MCC 0.646 (RBF-SVM over the components, max-MCC threshold; the paper's
single score, --config.detection.combiner=weighted: AUROC 0.838, F1 0.670, MCC 0.605)
on 1,765 test beats; 55 s for training, scoring and export.
Paper's score (EGBAD, weighted): 0.9 * residual + 0.1 * discriminator-feature distance,
z-scored on validation.
"""
from tfgad.configs import default


def get_config():
    config = default.get_config()
    config.model.name = "bigan"
    config.detection.components = "residual,discrimination,feature,latent"
    config.detection.weights.residual = 0.9
    config.detection.weights.feature = 0.1
    config.detection.combiner = default.FAMILY_COMBINER
    return config
