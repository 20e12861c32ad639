"""Recipe for ECG beats with their rhythm (MIT-BIH): 3 AE-GANs model each beat's shape, and
gradient-boosted trees compose their score components with the beat's RR-interval ratios.

Run: python -m tfgad.main --config=configs/ecg_rhythm.py
Expected (scripts/benchmark_quality.py --recipes=configs/ecg_rhythm.py, 10,000-beat subset,
3 seeds, 2-core CPU, about 3 minutes per run): MIT-BIH intra-patient test AUROC 0.984 ± 0.001,
F1 0.899 ± 0.006, MCC 0.868; inter-patient (DS2 test; validation from held-out DS1 records)
AUROC 0.820 ± 0.024, F1 0.484 (configs/ecg_new_patients.py: 0.874, F1 0.668). The best
classic baselines on the same inputs (rows BASELINE@ecg_rhythm of BENCHMARKS.md section 2):
OneClassSVM 0.867 (intra) and 0.806 (inter). A longer budget (--config.data.max_samples=40000,
the full 11,896-beat test split, one seed): AUROC 0.992, F1 0.934, MCC 0.913.
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
    "data.dir": "data/mitdb",  # tfgad download mitbih puts it there
    "data.rhythm_features": True,
    "train.epochs": 8,
    "model.ensemble": 3,
    "detection.combiner": "boosted",
    "detection.components": "residual,discrimination,feature,latent,rr_pre,rr_post,rr_local",
}


def get_config():
    return config_files.override(config_files.load("aegan"), OVERRIDES)
