"""Checks a config before any work starts, so a typo costs seconds, not a training run."""
import ml_collections
from absl import logging

from tfgad import data, models, priors
from tfgad.training import cluster, robust
from tfgad.data import normalization, rhythm
from tfgad.detection import (calibration, combiners, latent_search, normalize, scorer, thresholds,
                             xla_choice)
from tfgad.errors import UserError



def _one_of(value, known, field):
    if value not in known:
        raise UserError(f"unknown {field} {value!r}; known: {', '.join(sorted(known))}")


def _positive(config, *fields):
    for field in fields:
        value = _field(config, field)
        if not value > 0:
            raise UserError(f"{field}={value!r}; must be positive")


def _components_of_the_model(config):
    """detection.components (and single_component, weights) against the chosen model's contract."""
    model_class = models.MODELS[config.model.name]
    own = model_class.score_components() + (rhythm.COMPONENTS if rhythm.channels(config) else ())
    for name in config.detection.weights:
        _one_of(name, models.WEIGHTED_COMPONENTS, "detection.weights entry")
    for name in calibration.component_names(config):
        if name not in own:
            field = ("detection.single_component" if config.detection.combiner == "single"
                     else "detection.components entry")
            raise UserError(f"{field} {name!r} is not a score component of model.name="
                            f"{config.model.name}; it returns: {', '.join(own)}")


def _field(config, dotted):
    node = config
    for part in dotted.split("."):
        node = node[part]
    return node


def _weights_not_all_zero(config):
    """The weighted combiner needs a nonzero weight among the components it combines."""
    if config.detection.combiner != "weighted":
        return
    names = calibration.component_names(config)
    if not any(float(config.detection.weights.get(n, 0.0)) for n in names):
        raise UserError(f"every detection.weights entry of detection.components ({', '.join(names)}) "
                        "is 0; give one a weight, e.g. --config.detection.weights.residual=1")


def _export_would_work(config):
    """Every export carries a latent_search signature: its settings must suit the model."""
    model_class = models.MODELS[config.model.name]
    if not model_class.HAS_ENCODER:
        if config.detection.scorer == "encoder":
            raise UserError(f"detection.scorer=encoder needs a model with an encoder; "
                            f"{config.model.name} has none; use latent_search or auto")
        if config.search.init_from_encoder:
            raise UserError(f"search.init_from_encoder needs a model with an encoder; "
                            f"{config.model.name} has none; set it to False")
    if config.search.feature_weight and model_class.JOINT_DISCRIMINATOR:
        raise UserError(f"search.feature_weight={config.search.feature_weight} needs an x-only "
                        f"discriminator, but {config.model.name}'s D(x, z) needs z too (the "
                        "export's latent_search signature would fail); set it to 0")


def _robust_training(config):
    r = config.train.robust
    _one_of(r.method, robust.METHODS, "train.robust.method")
    if r.method == "none":
        return
    if not 0 <= r.fraction < robust.MAX_FRACTION:
        raise UserError(f"train.robust.fraction={r.fraction!r}; must be in [0, "
                        f"{robust.MAX_FRACTION}) (0: estimate it by the robust z-score)")
    _positive(config, "train.robust.z_cut", "train.robust.every", "train.robust.search_steps")
    if not r.warmup_epochs >= 0:
        raise UserError(f"train.robust.warmup_epochs={r.warmup_epochs!r}; must be >= 0")
    if r.warmup_epochs >= config.train.epochs:
        raise UserError(f"train.robust.warmup_epochs={r.warmup_epochs} >= train.epochs="
                        f"{config.train.epochs}: robust training would never leave a sample "
                        "out; lower the warm-up or raise the epochs")
    own = models.MODELS[config.model.name].score_components()
    if r.score not in own:
        raise UserError(f"train.robust.score {r.score!r} is not a score component of model.name="
                        f"{config.model.name}; it returns: {', '.join(own)}")
    if config.train.strategy != "default":
        raise UserError(f"train.robust.method={r.method} runs with train.strategy=default only "
                        f"(its per-sample state is not replicated), not {config.train.strategy!r}")
    if calibration.members(config) > 1:
        raise UserError(f"train.robust.method={r.method} trains one model, not an ensemble of "
                        f"model.ensemble={calibration.members(config)}; set one of them back")


def _search_start(config):
    s, m = config.search, config.model
    _one_of(s.get("init", "random"), ("random", "amortized"), "search.init")
    if s.get("init", "random") == "amortized" and not m.get("inverse", False):
        raise UserError("search.init=amortized starts at the inverse that model.inverse=True "
                        "fits after training; set it (and retrain), or use search.init=random")
    if m.get("inverse", False) and config.train.strategy != "default":
        raise UserError(f"model.inverse is fit after training on one device; use "
                        f"train.strategy=default, not {config.train.strategy!r}")
    if not s.get("stop_patience", 0) >= 0 or not s.get("stop_tolerance", 0.0) >= 0:
        raise UserError(f"search.stop_patience={s.get('stop_patience')} and "
                        f"search.stop_tolerance={s.get('stop_tolerance')} must be >= 0")


def _rhythm_features(config):
    if config.data.get("rhythm_features", False) and config.data.name != "mitbih":
        raise UserError(f"data.rhythm_features needs R peaks, i.e. data.name=mitbih (or beats cut "
                        f"from WFDB records), not {config.data.name!r}; set it to False")


def _threshold_folds(config):
    folds = config.detection.get("threshold_folds", 0)
    if not isinstance(folds, int) or folds < 0:
        raise UserError(f"detection.threshold_folds={folds!r}; must be 0 (no cross-fitting) or "
                        "a number of folds, e.g. 5")


def _ensemble(config):
    k = config.model.get("ensemble", 1)
    if not isinstance(k, int) or k < 1:
        raise UserError(f"model.ensemble={k!r}; must be 1 (one model) or a number of members")


def check_splits(config: ml_collections.ConfigDict, splits: dict) -> None:
    """Checks the loaded splits against what training and calibration need, before training."""
    normal_train = int((splits["train"].y == 0).sum())
    if normal_train < 2:
        raise UserError(f"the train split holds {normal_train} normal sample(s); a GAN needs many: "
                        "use more data (data.max_samples, data.records) or smaller val/test fractions")
    val = splits["val"]
    d = config.detection
    if d.normalization != "none" and not (val.y == 0).any():
        raise UserError("the validation split holds no normal sample to normalize the score "
                        "components with; raise data.val_fraction or use detection.normalization=none")
    needs = ([f"detection.threshold={d.threshold}"] if d.threshold in thresholds.LABELLED else []) \
        + ([f"detection.combiner={d.combiner}"] if d.combiner in combiners.FITTED else [])
    if needs and not (val.y == 1).any():
        raise UserError(f"the validation split ({config.data.protocol}-patient protocol) holds no "
                        f"anomaly, but {' and '.join(needs)} fit on labelled anomalies; use "
                        "detection.threshold=percentile with detection.combiner=weighted "
                        "(one-class), or raise data.anomaly_val_fraction")


def validate(config: ml_collections.ConfigDict) -> None:
    """Raises UserError naming the first invalid field and the accepted values."""
    _one_of(config.data.name, data.SOURCES, "data.name")
    _one_of(config.data.protocol, data.PROTOCOLS, "data.protocol")
    _one_of(config.data.normalization, normalization.KINDS, "data.normalization")
    _one_of(config.model.name, models.MODELS, "model.name")
    _one_of(config.model.output_activation, models.OUTPUT_ACTIVATIONS, "model.output_activation")
    _one_of(config.prior.name, priors.PRIORS, "prior.name")
    _one_of(config.train.strategy, cluster.STRATEGIES, "train.strategy")
    _one_of(config.detection.scorer, scorer.SCORERS, "detection.scorer")
    _one_of(config.detection.threshold, thresholds.METHODS, "detection.threshold")
    _one_of(config.search.distance, latent_search.DISTANCES, "search.distance")
    _one_of(config.search.restart_schedule, latent_search.RESTART_SCHEDULES,
            "search.restart_schedule")
    xla_choice.parse(config.search.jit_compile)
    _one_of(config.detection.combiner, combiners.KINDS, "detection.combiner")
    _one_of(config.detection.normalization, normalize.KINDS, "detection.normalization")
    calibration.record_normalization(config)
    calibration.stream_settings(config)
    _one_of(config.detection.grid_metric, combiners.GRID_METRICS, "detection.grid_metric")
    _rhythm_features(config)
    _threshold_folds(config)
    _components_of_the_model(config)
    _ensemble(config)
    _positive(config, "model.latent_dim", "model.base_filters", "model.num_blocks",
              "model.kernel_size", "train.epochs", "train.batch_size", "train.g_learning_rate",
              "train.d_learning_rate", "detection.batch_size", "search.learning_rate",
              "search.restarts", "search.compact_every", "search.halving_steps")
    for field in ("val_fraction", "test_fraction"):
        value = getattr(config.data, field)
        if not 0 < value < 1:
            raise UserError(f"data.{field}={value}; must be a fraction between 0 and 1")
    # 0 leaves every anomaly to test: the pure one-class case (percentile threshold).
    if not 0 <= config.data.anomaly_val_fraction < 1:
        raise UserError(f"data.anomaly_val_fraction={config.data.anomaly_val_fraction}; "
                        "must be in [0, 1)")
    for field in ("seed", "data.max_samples", "detection.max_samples", "search.n_max", "search.eps",
                  "data.contamination"):
        value = _field(config, field)
        if not value >= 0:  # also catches NaN
            raise UserError(f"{field}={value!r}; must be >= 0")
    _weights_not_all_zero(config)
    _export_would_work(config)
    _robust_training(config)
    _search_start(config)
    if not 0 <= config.detection.percentile <= 100:
        raise UserError(f"detection.percentile={config.detection.percentile}; must be in [0, 100]")
    if config.detection.center_discrimination and config.detection.normalization != "none":
        # Min-max and z-score subtract their own shift, which cancels the centering.
        logging.warning("detection.center_discrimination has no effect with "
                        "detection.normalization=%s; set detection.normalization=none to use it",
                        config.detection.normalization)
