"""Plain AE-GAN whose combiner (boosted trees over every component) and threshold are fit on
the normal validation samples against their domain corruptions (detection.one_class=negatives).
Ablation row."""
FAMILY = "aegan"
OVERRIDES = {"detection.one_class": "negatives", "detection.combiner": "boosted"}
