"""The train section and its robust-training subsection."""
from tfgad.sections.declare import AT_LEAST_ONE, NON_NEGATIVE, POSITIVE, Field, Range, Section

STRATEGIES = ("default", "mirrored", "multi_worker")
ROBUST_METHODS = ("none", "trim", "reject")
# A robust method may leave out at most this share (of a batch or of the split).
MAX_ROBUST_FRACTION = 0.5

TRAIN = Section("train", "tfgad.training.train_lib", "how the model is fit", (
    Field("epochs", 20, "passes over the training split", range=AT_LEAST_ONE),
    Field("batch_size", 64, "the global batch, split over the replicas", range=AT_LEAST_ONE),
    Field("g_learning_rate", 2e-4, "Adam of the generator (and encoder)", range=POSITIVE),
    Field("d_learning_rate", 2e-4, "Adam of the discriminator", range=POSITIVE),
    Field("beta_1", 0.5, "Adam's beta_1", range=Range(0, 1, high_open=True)),
    Field("beta_2", 0.999, "Adam's beta_2", range=Range(0, 1, high_open=True)),
    Field("strategy", "default", "default | mirrored (this machine's GPUs) | multi_worker "
          "(TF_CONFIG; scripts/launch_workers.py)", STRATEGIES),
    Field("sample_plot_every", 5, "epochs between generated-sample plots; 0: never",
          range=NON_NEGATIVE),
    Field("verbose", 2, "Keras fit verbosity: 0 silent, 1 progress bar, 2 one line/epoch",
          (0, 1, 2)),
))

ROBUST = Section("train.robust", "tfgad.training.robust", "robust training on contaminated "
                 "'normal' data: leave suspected anomalies of the training split out of the "
                 "real-data losses", (
    Field("method", "none", "none | trim (per batch, by loss) | reject (per split)",
          ROBUST_METHODS),
    Field("fraction", 0.0, "share cut (of a batch for trim, of the split for reject); 0: "
          "estimated, the samples whose robust z-score of the score is above z_cut",
          range=Range(0, MAX_ROBUST_FRACTION, high_open=True)),
    Field("z_cut", 3.5, "robust z-score above which a sample is cut", range=POSITIVE),
    Field("warmup_epochs", 3, "epochs on everything before the first cut", range=NON_NEGATIVE),
    Field("every", 3, "reject: epochs between re-scorings of the training split",
          range=AT_LEAST_ONE),
    Field("score", "residual", "reject: the score component it ranks by"),
    Field("search_steps", 50, "reject, models without encoder: latent search steps",
          range=AT_LEAST_ONE),
))
