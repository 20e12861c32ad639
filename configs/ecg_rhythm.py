"""Recipe for ECG beats with their rhythm (MIT-BIH): 3 AE-GANs model each beat's shape, and
gradient-boosted trees compose their score components with the beat's RR-interval ratios.

Run: python -m tfgad.main --config=configs/ecg_rhythm.py
Expected (scripts/benchmark_quality.py --recipes=configs/ecg_rhythm.py, MIT-BIH intra-patient,
10,000-beat subset, 2-core CPU, seed 0): test AUROC 0.972, F1 0.788, MCC 0.746; the best
classic baseline on the same inputs (rows BASELINE@ecg_rhythm of BENCHMARKS.md section 2)
0.863 (OneClassSVM).
Why: supraventricular beats (AAMI S) mostly have a normal shape and differ by coming early,
which a window around one R peak cannot show (tfgad/data/rhythm.py). The networks still model
the shape only; the rhythm enters the composition, which trees fit on validation (a rhythm ratio
matters where the shape looks normal: a split, not one smooth SVM boundary).
FAMILY and OVERRIDES let scripts/benchmark_quality.py --recipes evaluate it.
"""
from tfgad import config_files

FAMILY = "aegan"
OVERRIDES = {
    "data.name": "mitbih",
    "data.dir": "../shared/data/mitdb",
    "data.rhythm_features": True,
    "train.epochs": 8,
    "model.ensemble": 3,
    "detection.combiner": "boosted",
    "detection.components": "residual,discrimination,feature,latent,rr_pre,rr_post,rr_local",
}


def get_config():
    return config_files.override(config_files.load("aegan"), OVERRIDES)
