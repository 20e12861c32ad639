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
    Field("ema_momentum", 0.0, "> 0: the generator (and encoder) end as the exponential moving "
          "average of their weights over the steps, with this momentum (0.999: about the last "
          "1,000 steps); 0: their last weights", range=Range(0, 1, high_open=True)),
    Field("r1_gamma", 0.0, "> 0: the discriminator's loss adds gamma / 2 E||grad_x D(x)||^2 on "
          "real samples (R1, Mescheder et al. 2018); gan, aegan, ganomaly and vaegan (the others "
          "have a gradient penalty or a joint discriminator); 0: none", range=NON_NEGATIVE),
    Field("jit_compile", "auto", "XLA for the train step: auto times a few steps both ways "
          "before the fit and compiles with XLA where it saves more than its compile time "
          "(tfgad/training/xla_training.py); true/false force it"),
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

NEGATIVE_KINDS = ("none", "corruptions", "min_likelihood", "both")

NEGATIVES = Section("train.negatives", "tfgad.training.negatives", "generated negatives: the "
                    "discriminator also learns to reject synthetic abnormal samples", (
    Field("kind", "none", "none | corruptions (domain corruptions of the real batch: local "
          "noise, spikes, baseline shifts, warps; patches, blur) | min_likelihood (G of latents "
          "from the prior's low-density tail) | both", NEGATIVE_KINDS),
    Field("weight", 1.0, "weight of the negatives' term in the discriminator loss",
          range=POSITIVE),
    Field("tail_quantile", 0.999, "min_likelihood: latent norms beyond this quantile of the "
          "prior's", range=Range(0.5, 1, high_open=True)),
))

DOPING = Section("train.doping", "tfgad.training.extensions", "tail oversampling (DOPING, Lim "
                 "et al. 2018): samples generated from the edge of the latent distribution of "
                 "the training split, added to it as normal for a last few epochs", (
    Field("fraction", 0.0, "tail samples added, as a share of the training split; 0: off",
          range=Range(0, 1)),
    Field("low_quantile", 0.9, "the edge: latent Mahalanobis radii between this quantile of "
          "the training codes' radii ...", range=Range(0, 1, high_open=True)),
    Field("high_quantile", 0.99, "... and this one", range=Range(0, 1, low_open=True)),
    Field("epochs", 2, "epochs on the training split with the tail samples added",
          range=AT_LEAST_ONE),
))
