"""AE-GAN with tail oversampling (train.doping: 20 % edge samples, 2 more epochs), residual
score. Ablation row."""
FAMILY = "aegan"
OVERRIDES = {"train.doping.fraction": 0.2}
