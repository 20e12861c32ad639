"""The search section: AnoGAN's latent search z* = argmin_z ||x - G(z)||, compiled and batched."""
from tfgad.sections.declare import AT_LEAST_ONE, NON_NEGATIVE, POSITIVE, Field, Section

DISTANCES = ("l1", "l2")
RESTART_SCHEDULES = ("full", "halving")
STARTS = ("random", "amortized")

SEARCH = Section("search", "tfgad.detection.latent_search", "the latent search of the "
                 "families without encoder", (
    Field("n_max", 300, "most steps per sample", range=NON_NEGATIVE),
    Field("eps", 0.0, "stop a sample once its loss is below eps", range=NON_NEGATIVE),
    Field("learning_rate", 0.05, "Adam of the search", range=POSITIVE),
    Field("distance", "l1", "l1 | l2", DISTANCES),
    Field("restarts", 1, "starts per sample; the best is kept", range=AT_LEAST_ONE),
    Field("chi_weight", 0.0, "weight of the chi-norm penalty -log p(||z||)", range=NON_NEGATIVE),
    Field("feature_weight", 0.0, "AnoGAN's lambda on discriminator features",
          range=NON_NEGATIVE),
    Field("jit_compile", "auto", "XLA: auto times a few steps both ways per row count and keeps "
          "the faster (which wins depends on the CPU); true/false force it. Exports hold plain "
          "graphs. The encoder families' one-pass scoring follows it too"),
    Field("compaction", True, "eps > 0: stopped samples leave the computation"),
    Field("compact_every", 20, "steps between gathering the active samples", range=AT_LEAST_ONE),
    Field("restart_schedule", "full", "full | halving (successive halving of restarts)",
          RESTART_SCHEDULES),
    Field("halving_steps", 25, "halving: steps between halvings", range=AT_LEAST_ONE),
    Field("fold_batch_norm", True, "search a copy of G with BatchNorm folded in"),
    Field("init_from_encoder", False, "start at E(x) instead of a random z"),
    Field("init", "random", "random: starts drawn from the prior (AnoGAN); amortized: start at "
          "I(x), the inverse of G that model.inverse fits after training", STARTS),
    Field("stop_patience", 0, "a sample stops once its best loss has not improved by "
          "stop_tolerance (relative) for stop_patience steps; 0: only eps and n_max stop it",
          range=NON_NEGATIVE),
    Field("stop_tolerance", 1e-3, "the relative gain stop_patience waits for",
          range=NON_NEGATIVE),
    Field("budgets", "", "step budgets to choose n_max from on validation (\"0,25,50\": the one "
          "whose residual ranks validation's labelled anomalies best); empty: n_max"),
))
