"""Recipe for ECG beats without any labelled anomaly (one-class: normal training beats, and a
validation split that holds normal beats only), for known and for new patients.

Run: python -m tfgad.main --config=configs/ecg_unlabelled.py --config.data.protocol=inter
Why: without labels the fitted combiners and thresholds have nothing to fit on, and fixed
weights with a percentile leave the discriminator, the latent and the rhythm unused. Here they
are fit against generated negatives instead (detection.one_class=negatives,
tfgad/detection/one_class.py): domain corruptions of a quarter of the normal validation beats
(local noise, spikes, baseline shifts, warps) and, for half of them, a normal shape that comes
early (a premature beat's RR ratios). The AE-GAN's discriminator learns to reject the same
corruptions in training (train.negatives), and each component is a robust z-score within its
record (as configs/ecg_new_patients.py), so a new patient's own level is taken out.
Expected (scripts/benchmark_quality.py --suites=mitbih_inter_nolabel --recipes=configs/ecg_unlabelled.py,
10,000-beat subset, 3 seeds, 2-core CPU, under a minute per run): new patients (DS1 -> DS2)
test AUROC 0.850 ± 0.015, F1 0.564, MCC 0.527, with no labelled anomaly anywhere, against
0.818 for the best one-class baseline (OneClassSVM on the same beats and RR ratios) and 0.790
for the conv autoencoder on the beats (BENCHMARKS.md section 14). For the patients it trained
on (MIT-BIH intra-patient) add --config.detection.record_normalization=none (there a record's
median is not its normal level): AUROC 0.953 ± 0.004, F1 0.729, MCC 0.672, against 0.877
(OneClassSVM on the same inputs) and BeatGAN's reported 0.945; on every beat
(--config.data.max_samples=0 --config.train.epochs=20, one seed, 13 minutes of training):
AUROC 0.954, F1 0.783, MCC 0.724 on 33,126 test beats.
FAMILY and OVERRIDES let scripts/benchmark_quality.py --recipes evaluate it.
"""
from tfgad import config_files
from tfgad.configs import ecg_new_patients

FAMILY = ecg_new_patients.FAMILY
# The new-patients recipe (rhythm features, boosted trees over every component and the RR
# ratios, per-record normalization), one AE-GAN, fit with no labelled anomaly.
OVERRIDES = {
    **ecg_new_patients.OVERRIDES,
    "model.ensemble": 1,
    "data.anomaly_val_fraction": 0.0,
    "train.negatives.kind": "corruptions",
    "detection.one_class": "negatives",
}


def get_config():
    return config_files.override(config_files.load("aegan"), OVERRIDES)
