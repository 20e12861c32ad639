"""AE-GAN whose discriminator also rejects domain corruptions of the real batch
(train.negatives.kind=corruptions); its score weighs the discriminator beside the residual,
the only place the negatives' training shows. An ablation row of BENCHMARKS.md section 14."""
FAMILY = "aegan"
OVERRIDES = {"train.negatives.kind": "corruptions",
             "detection.weights.discrimination": 1.0}
