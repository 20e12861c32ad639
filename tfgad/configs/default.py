"""Shared defaults for every tfgad experiment; other configs import and override this.

Run: python -m tfgad.main --config=configs/default.py
"""
import ml_collections

# The model families' configs (configs/<family>.py) combine their score components with an
# RBF-SVM fit on validation: on MIT-BIH it puts every family above IsolationForest, where each
# family's single paper score (detection.weights) leaves five of eight below it (BENCHMARKS.md
# section 2). It needs labelled anomalies in validation; for one-class validation use
# --config.detection.combiner=weighted --config.detection.threshold=percentile.
FAMILY_COMBINER = "svm"


def family_sections() -> dict:
    """{family name: its SETTINGS} of the families that have a config section of their own."""
    from tfgad import models  # here, not at the top: loading a config file stays light
    return {name: family.SETTINGS for name, family in models.MODELS.items()
            if "SETTINGS" in vars(family)}


def get_config():
    config = ml_collections.ConfigDict()
    config.seed = 0

    config.data = ml_collections.ConfigDict()
    config.data.name = "synthetic_ecg"  # synthetic_ecg | mitbih | digits | mnist_png | arrays
    config.data.dir = ""  # mitbih: WFDB directory; mnist_png: folder of OpenCV's digits.png
    config.data.path = ""  # arrays: .npz with x, y and optional groups
    # intra: per-sample split; inter: held-out groups (records, patients) for test, and
    # validation from other held-out groups, so that neither shares a patient with training
    config.data.protocol = "intra"
    config.data.val_fraction = 0.15  # of the normal samples (inter: of the groups)
    config.data.test_fraction = 0.25  # of the normal samples
    config.data.anomaly_val_fraction = 0.3  # of the anomalies (the rest go to test)
    # Comma separated anomaly classes that validation may label, e.g. "V" (MIT-BIH) or "1"
    # (a digit); the others are left out of validation, and metrics.json gains test_unseen:
    # the test normals against the anomalies of the classes validation never labelled.
    # Empty: every class.
    config.data.val_anomaly_classes = ""
    # Fraction of the train split that is anomalous after injection (anomalies moved from
    # the val/test pool; the rest of the pool is split as usual); 0: train is all normal.
    config.data.contamination = 0.0
    config.data.contamination_classes = ""  # comma separated, e.g. "V" (MIT-BIH); empty: any
    config.data.normalization = "zscore"  # zscore (fit on train) | per_sample_minmax | none
    config.data.max_samples = 0  # 0: all; else a stratified random subset (quick runs)
    # synthetic_ecg
    config.data.num_subjects = 30
    config.data.beats_per_subject = 200
    config.data.anomaly_rate = 0.1
    config.data.length = 256
    # mitbih
    config.data.lead = "MLII"
    config.data.window_before = 140  # samples before the R peak (360 Hz)
    config.data.window_after = 180  # samples after; 140 + 180 = BeatGAN's 320
    config.data.remove_baseline = True
    config.data.exclude_paced = True
    config.data.records = ""  # comma separated; empty: all records in dir
    # Three RR-interval channels after the lead (tfgad/data/rhythm.py): the networks model the
    # lead; the rhythm enters the score as the components rr_pre, rr_post, rr_local.
    config.data.rhythm_features = False
    config.data.skip_bad_records = False  # skip unreadable records with a warning, not stop
    # digits, mnist_png
    config.data.normal_class = 0
    # auto: a family config used on images (digits, mnist_png, or Detector.fit on [N, H, W, C])
    # takes the settings of its tuned image config (configs/tuned/) for every field still at
    # the family's ECG value (config_files.fit_data_kind); off: the config as written.
    config.data.kind_settings = "auto"

    config.model = ml_collections.ConfigDict()
    config.model.name = "gan"  # gan | wgan_gp | bigan | alad | fanogan | ganomaly | aegan | vaegan
    config.model.latent_dim = 32
    config.model.base_filters = 32
    config.model.num_blocks = 3  # up/down-sampling stages of the DCGAN networks
    config.model.kernel_size = 5
    config.model.spectral_norm = False
    config.model.output_activation = "linear"  # linear | tanh
    # k > 1: k members of the family (seeds seed, seed + 1, ...) trained in one fit; each
    # member's components normalized on validation, averaged, plus their spread (tfgad/models/
    # ensemble.py). Exported and served like one model.
    config.model.ensemble = 1
    # Latent-search families: an inverse network I(x) ~ z fit after training with G frozen,
    # for search.init=amortized (tfgad/models/inverse.py).
    config.model.inverse = False
    # data: fit on the training samples (f-AnoGAN's izi loss) and on (z, G(z)) pairs;
    # samples: on (z, G(z)) pairs alone
    config.model.inverse_fit = "data"
    config.model.inverse_steps = 1500
    config.model.inverse_learning_rate = 1e-3
    # Settings of one family each, model.<family>.*: a field means one thing, and only its
    # family reads it. Each family declares its section, with what every field means, in its
    # model file (SETTINGS in tfgad/models/<family>.py).
    for name, settings in family_sections().items():
        config.model[name] = ml_collections.ConfigDict(
            {field: default for field, default, _ in settings})

    config.prior = ml_collections.ConfigDict()
    config.prior.name = "normal"  # normal | uniform | truncated_normal
    config.prior.truncation = 2.0  # truncated_normal: |z_i| <= truncation

    config.train = ml_collections.ConfigDict()
    config.train.epochs = 20
    config.train.batch_size = 64
    config.train.g_learning_rate = 2e-4
    config.train.d_learning_rate = 2e-4
    config.train.beta_1 = 0.5
    config.train.beta_2 = 0.999
    # default | mirrored (this machine's GPUs) | multi_worker (TF_CONFIG; scripts/launch_workers.py);
    # train.batch_size is the global batch, split over the replicas.
    config.train.strategy = "default"
    # Robust training on contaminated "normal" data (tfgad/training/robust): leave suspected anomalies
    # of the training split out of the real-data losses.
    config.train.robust = ml_collections.ConfigDict()
    config.train.robust.method = "none"  # none | trim (per batch, by loss) | reject (per split)
    # Share cut (of a batch for trim, of the split for reject), in [0, 0.5); 0: estimated,
    # the samples whose robust z-score (median/MAD) of the score is above z_cut.
    config.train.robust.fraction = 0.0
    config.train.robust.z_cut = 3.5
    config.train.robust.warmup_epochs = 3  # epochs on everything before the first cut
    config.train.robust.every = 3  # reject: epochs between re-scorings of the training split
    config.train.robust.score = "residual"  # reject: the score component it ranks by
    config.train.robust.search_steps = 50  # reject, models without encoder: latent search steps
    config.train.sample_plot_every = 5  # epochs between generated-sample plots; 0: never
    config.train.verbose = 2  # Keras fit verbosity: 0 silent, 1 progress bar, 2 one line/epoch

    config.detection = ml_collections.ConfigDict()
    config.detection.scorer = "auto"  # auto (encoder if the model has one) | latent_search | encoder
    config.detection.batch_size = 256
    config.detection.max_samples = 0  # 0: score all of val/test; else a stratified subset
    # How score components become one score (fit on validation only; see tfgad/detection).
    config.detection.components = "residual,discrimination,feature,latent"
    config.detection.normalization = "zscore"  # none | minmax | zscore (on normal validation)
    # robust: each component as robust z-scores within its record (median, MAD) before the
    # composition, so that a new patient's scores start from that patient's normal level; a
    # served request, a tfgad.score record and a Detector.score call count as one record.
    config.detection.record_normalization = "none"  # none | robust
    # robust, streamed (served records, tfgad.score --stream): a beat's baseline is the last
    # record_window usable beats before it, trusted from record_warmup of them; before that
    # it is scored against the global calibration and says "warming_up"
    config.detection.record_window = 256
    config.detection.record_warmup = 16
    config.detection.center_discrimination = False  # f-AnoGAN: minus its mean on normal train
    config.detection.reference_samples = 256  # train samples scored for that mean
    config.detection.combiner = "weighted"  # weighted | single | grid | svm
    config.detection.single_component = "residual"  # single
    config.detection.grid_step = 0.1  # grid: weights are multiples of this on the simplex
    # grid: mcc (sound at any class balance, like the threshold's max_mcc) | f1 | fbeta
    config.detection.grid_metric = "mcc"
    config.detection.fbeta_beta = 1.0  # grid with grid_metric=fbeta: its beta
    config.detection.svm_c = 1.0
    config.detection.svm_gamma = 0.0  # 0: scikit-learn's "scale"
    config.detection.svm_cross_validate = False  # small CV grid over C and gamma instead
    config.detection.svm_max_samples = 5000
    config.detection.monitor_every = 0  # epochs between calibration refits in training; 0: off
    config.detection.monitor_samples = 256  # validation samples the monitor scores
    # max_mcc: sound at any class balance of validation (tfgad/detection/thresholds.py);
    # max_f1 | minority_f1 | percentile (one-class) | fixed
    config.detection.threshold = "max_mcc"
    # svm and boosted: the threshold is fit on out-of-fold validation scores from this many
    # stratified folds (a fitted combiner scores its own training samples too confidently);
    # 0 or 1: on the combiner's scores of all of validation.
    config.detection.threshold_folds = 5
    config.detection.percentile = 95.0  # percentile: of the normal validation scores
    config.detection.fixed_threshold = 0.0  # fixed
    # Weights of the components in the weighted combination; dxx_feature ... mean_norm exist
    # only for the models that return them (alad, ganomaly, vaegan), spread only for
    # ensembles (model.ensemble > 1: the members' disagreement).
    config.detection.weights = ml_collections.ConfigDict(
        {"residual": 1.0, "discrimination": 0.0, "feature": 0.0, "latent": 0.0,
         "dxx_feature": 0.0, "latent_distance": 0.0, "kl": 0.0, "mean_norm": 0.0,
         "spread": 0.0})

    config.search = ml_collections.ConfigDict()
    config.search.n_max = 300
    config.search.eps = 0.0  # stop a sample once its loss is below eps
    config.search.learning_rate = 0.05
    config.search.distance = "l1"  # l1 | l2
    config.search.restarts = 1
    config.search.chi_weight = 0.0  # weight of the chi-norm penalty -log p(||z||)
    config.search.feature_weight = 0.0  # AnoGAN's lambda on discriminator features
    # XLA: "auto" times a few steps both ways per row count and keeps the faster (which one
    # wins depends on the CPU); "true"/"false" force it. Exports always hold plain graphs.
    # The encoder families' one-pass scoring follows it too (timed per batch size).
    config.search.jit_compile = "auto"
    config.search.compaction = True  # eps > 0: stopped samples leave the computation
    config.search.compact_every = 20  # steps between gathering the active samples
    config.search.restart_schedule = "full"  # full | halving (successive halving of restarts)
    config.search.halving_steps = 25  # halving: steps between halvings
    config.search.fold_batch_norm = True  # search a copy of G with BatchNorm folded in
    config.search.init_from_encoder = False  # start at E(x) instead of a random z
    # random: starts drawn from the prior (AnoGAN); amortized: start at I(x), the inverse of
    # G that model.inverse fits after training (tfgad/models/inverse.py)
    config.search.init = "random"
    # Per-sample stop: a sample stops once its best loss has not improved by stop_tolerance
    # (relative) for stop_patience steps; 0: only eps and n_max stop it.
    config.search.stop_patience = 0
    # Step budgets to choose n_max from on validation ("0,25,50": the one whose residual ranks
    # validation's labelled anomalies best; tfgad/detection/search_budget.py); "": n_max.
    config.search.budgets = ""
    config.search.stop_tolerance = 1e-3

    config.export = ml_collections.ConfigDict()
    config.export.dir = "saved_models"  # SavedModels go to <dir>/<name>/<version>/
    config.export.name = ""  # empty: <model.name>-<data.name>

    return config
