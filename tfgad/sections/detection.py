"""The detection section: how score components become one score and a threshold, fit on
validation only (tfgad/detection)."""
from tfgad.sections.declare import AT_LEAST_ONE, NON_NEGATIVE, POSITIVE, Field, Range, Section

SCORERS = ("auto", "latent_search", "encoder")
NORMALIZATIONS = ("none", "minmax", "zscore")
RECORD_NORMALIZATIONS = ("none", "robust")
COMBINERS = ("weighted", "single", "grid", "svm", "boosted")
GRID_METRICS = ("f1", "fbeta", "mcc")
ONE_CLASS = ("rules", "negatives")
THRESHOLDS = ("max_mcc", "max_f1", "minority_f1", "percentile", "conformal", "fixed")
# Every component detection.weights may weigh; each exists only for the models that return it
# (dxx_feature ... mean_norm: alad, ganomaly, vaegan; spread: ensembles; rr_*: rhythm).
WEIGHTED = ("residual", "discrimination", "feature", "latent", "dxx_feature",
            "latent_distance", "kl", "mean_norm", "spread", "rr_pre", "rr_post", "rr_local")

DETECTION = Section("detection", "tfgad.detection.calibration", "the anomaly score's "
                    "composition and threshold", (
    Field("scorer", "auto", "auto (encoder if the model has one) | latent_search | encoder",
          SCORERS),
    Field("batch_size", 256, "samples scored per batch", range=AT_LEAST_ONE),
    Field("max_samples", 0, "0: score all of val/test; else a stratified subset",
          range=NON_NEGATIVE),
    Field("components", "residual,discrimination,feature,latent", "comma separated score "
          "components the combiner uses"),
    Field("normalization", "zscore", "none | minmax | zscore (on normal validation)",
          NORMALIZATIONS),
    Field("record_normalization", "none", "robust: each component as robust z-scores within "
          "its record (median, MAD) before the composition; a served request, a tfgad.score "
          "record and a Detector.score call count as one record", RECORD_NORMALIZATIONS),
    Field("record_window", 256, "robust, streamed: a beat's baseline is the last record_window "
          "usable beats before it", range=AT_LEAST_ONE),
    Field("record_warmup", 16, "robust, streamed: beats before the baseline is trusted; "
          "before that a beat is scored by the global calibration", range=AT_LEAST_ONE),
    Field("map_smoothing", 1.0, "the anomaly map's Gaussian blur, in time steps or pixels (0: "
          "the raw residual |x - x_hat|)", range=NON_NEGATIVE),
    Field("center_discrimination", False, "f-AnoGAN: minus its mean on normal train"),
    Field("reference_samples", 256, "train samples scored for that mean", range=AT_LEAST_ONE),
    Field("combiner", "weighted", "weighted | single | grid | svm | boosted", COMBINERS),
    Field("single_component", "residual", "single: the component used"),
    Field("grid_step", 0.1, "grid: weights are multiples of this on the simplex",
          range=Range(0, 1, low_open=True)),
    Field("grid_metric", "mcc", "grid: mcc (sound at any class balance) | f1 | fbeta",
          GRID_METRICS),
    Field("fbeta_beta", 1.0, "grid with grid_metric=fbeta: its beta", range=POSITIVE),
    Field("svm_c", 1.0, "svm: C", range=POSITIVE),
    Field("svm_gamma", 0.0, "svm: gamma; 0: scikit-learn's \"scale\"", range=NON_NEGATIVE),
    Field("svm_cross_validate", False, "svm: a small CV grid over C and gamma instead"),
    Field("svm_max_samples", 5000, "svm: validation samples it is fit on at most",
          range=AT_LEAST_ONE),
    Field("monitor_every", 0, "epochs between calibration refits in training; 0: off",
          range=NON_NEGATIVE),
    Field("monitor_samples", 256, "validation samples the monitor scores", range=AT_LEAST_ONE),
    Field("threshold", "max_mcc", "max_mcc (sound at any class balance) | max_f1 | minority_f1 "
          "| percentile (one-class) | conformal (one-class: flags p-value <= alpha) | fixed",
          THRESHOLDS),
    Field("alpha", 0.01, "conformal: the false-alarm rate held on normal data exchangeable "
          "with validation's (split-conformal p-value <= alpha flags)",
          range=Range(0, 1, low_open=True, high_open=True)),
    Field("threshold_folds", 5, "svm and boosted: the threshold is fit on out-of-fold "
          "validation scores from this many stratified folds; 0 or 1: on the combiner's scores "
          "of all of validation", range=NON_NEGATIVE),
    Field("percentile", 95.0, "percentile: of the normal validation scores",
          range=Range(0, 100)),
    Field("fixed_threshold", 0.0, "fixed: the threshold"),
    Field("one_class", "rules", "when validation holds no labelled anomaly: rules (a fitted "
          "combiner becomes the weighted sum, a labelled threshold rule the percentile) | "
          "negatives (combiner and threshold fit on the normal validation samples against "
          "domain corruptions of them, tfgad/data/corruptions.py)", ONE_CLASS),
))

WEIGHTS = Section("detection.weights", "tfgad.detection.calibration", "weights of the "
                  "components in the weighted combination", tuple(
    Field(name, 1.0 if name == "residual" else 0.0, f"weight of {name}") for name in WEIGHTED))
