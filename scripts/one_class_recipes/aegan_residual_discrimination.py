"""Plain AE-GAN scored by residual and discriminator with equal weights: the reference of the
negatives rows (what the weights alone change). Ablation row."""
FAMILY = "aegan"
OVERRIDES = {"detection.weights.discrimination": 1.0}
