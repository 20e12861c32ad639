"""Recipe for ECG beats of patients the model never saw (MIT-BIH inter-patient, DS2): the
rhythm recipe (configs/ecg_rhythm.py) with every score component normalized within its record.

Run: python -m tfgad.main --config=configs/ecg_new_patients.py --config.data.protocol=inter
Why: a new patient's beats differ from the training patients' as a whole (lead placement,
morphology, heart rate), which shifts every score of that patient; the composition and the
threshold fit on other patients then misjudge the whole record. Robust z-scores within the
record (detection.record_normalization=robust: minus the record's median, over its MAD) take
the patient's own normal level out without any label from that patient: most beats of a
record are normal. Validation comes from held-out DS1 records, so the threshold is fit on
patients the model never saw, as DS2's are.
Expected (scripts/benchmark_quality.py --suites=mitbih_inter --recipes=configs/ecg_new_patients.py,
10,000-beat subset, 3 seeds, 2-core CPU, about 3 minutes per run): DS2 test AUROC 0.874 ±
0.023, F1 0.668, MCC 0.636, against 0.820 for configs/ecg_rhythm.py and 0.861 (F1 0.598) for
the best label-fair baseline, gradient-boosted trees given the same per-record normalization
of their inputs (0.822 without it; BENCHMARKS.md section 2.2). Without any label:
configs/ecg_unlabelled.py.
In use (beats scored as they arrive: served with a record id, or tfgad.score --stream), each
beat is normalized by its record's beats before it (detection.record_window 256, after
detection.record_warmup 16; warm-up beats by the global calibration): every beat of the 22 DS2
records, 3 seeds, AUROC 0.858 against 0.870 with whole-record baselines (BENCHMARKS.md
section 11, scripts/benchmark_streaming.py).
FAMILY and OVERRIDES let scripts/benchmark_quality.py --recipes evaluate it.
"""
from tfgad import config_files
from tfgad.configs import ecg_rhythm

FAMILY = ecg_rhythm.FAMILY
OVERRIDES = {**ecg_rhythm.OVERRIDES, "detection.record_normalization": "robust"}


def get_config():
    return config_files.override(config_files.load("aegan"), OVERRIDES)
