"""AE-GAN whose discriminator also rejects the generator's samples of the prior's tail
(train.negatives.kind=min_likelihood), scored by residual and discriminator. Ablation row."""
FAMILY = "aegan"
OVERRIDES = {"train.negatives.kind": "min_likelihood",
             "detection.weights.discrimination": 1.0}
