"""The data section: which samples are read, how they are split and normalized."""
from tfgad.sections.declare import FRACTION, NON_NEGATIVE, Field, Range, Section

SOURCES = ("synthetic_ecg", "mitbih", "digits", "mnist_png", "arrays")
PROTOCOLS = ("intra", "inter")
NORMALIZATIONS = ("zscore", "per_sample_minmax", "none")

DATA = Section("data", "tfgad.data", "the samples: source, splits, normalization", (
    Field("name", "synthetic_ecg", "the samples' source", SOURCES),
    Field("dir", "", "mitbih: WFDB directory; mnist_png: folder of OpenCV's digits.png"),
    Field("path", "", "arrays: .npz with x, y and optional groups"),
    Field("protocol", "intra", "intra: per-sample split; inter: held-out groups (records, "
          "patients) for test, and validation from other held-out groups, so that neither "
          "shares a patient with training", PROTOCOLS),
    Field("val_fraction", 0.15, "of the normal samples (inter: of the groups)", range=FRACTION),
    Field("test_fraction", 0.25, "of the normal samples", range=FRACTION),
    Field("anomaly_val_fraction", 0.3, "of the anomalies (the rest go to test); 0 leaves every "
          "anomaly to test: the one-class case", range=Range(0, 1, high_open=True)),
    Field("val_anomaly_classes", "", "comma separated anomaly classes validation may label, "
          "e.g. V (MIT-BIH) or 1 (a digit); metrics.json then gains test_unseen. Empty: every "
          "class"),
    Field("contamination", 0.0, "fraction of the train split that is anomalous after "
          "injection (anomalies moved from the val/test pool); 0: train is all normal",
          range=Range(0, 1, high_open=True)),
    Field("contamination_classes", "", "comma separated, e.g. V (MIT-BIH); empty: any"),
    Field("normalization", "zscore", "zscore (fit on train) | per_sample_minmax | none",
          NORMALIZATIONS),
    Field("max_samples", 0, "0: all; else a stratified random subset (quick runs)",
          range=NON_NEGATIVE),
    Field("num_subjects", 30, "synthetic_ecg: subjects", range=Range(1)),
    Field("beats_per_subject", 200, "synthetic_ecg: beats per subject", range=Range(1)),
    Field("anomaly_rate", 0.1, "synthetic_ecg: share of anomalous beats", range=Range(0, 1)),
    Field("length", 256, "synthetic_ecg: samples per beat", range=Range(8)),
    Field("lead", "MLII", "mitbih: the lead read"),
    Field("window_before", 140, "mitbih: samples before the R peak (360 Hz)", range=Range(1)),
    Field("window_after", 180, "mitbih: samples after; 140 + 180 = BeatGAN's 320",
          range=Range(1)),
    Field("remove_baseline", True, "mitbih: remove baseline wander"),
    Field("exclude_paced", True, "mitbih: leave out the paced records"),
    Field("records", "", "mitbih: comma separated; empty: all records in dir"),
    Field("rhythm_features", False, "three RR-interval channels after the lead "
          "(tfgad/data/rhythm.py): the networks model the lead; the rhythm enters the score "
          "as the components rr_pre, rr_post, rr_local"),
    Field("skip_bad_records", False, "skip unreadable records with a warning, not stop"),
    Field("normal_class", 0, "digits, mnist_png: the class that is normal", range=Range(0, 9)),
    Field("kind_settings", "auto", "auto: a family config used on images takes the settings "
          "of its tuned image config (configs/tuned/) for every field still at the family's ECG "
          "value and not set by the user; off: the config as written", ("auto", "off")),
))
