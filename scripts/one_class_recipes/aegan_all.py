"""All three: negatives in training, tail oversampling, calibration against negatives.
Ablation row."""
FAMILY = "aegan"
OVERRIDES = {"train.negatives.kind": "corruptions", "train.doping.fraction": 0.2,
             "detection.one_class": "negatives", "detection.combiner": "boosted"}
