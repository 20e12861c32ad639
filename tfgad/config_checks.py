"""Checks a config before any work starts, so a typo costs seconds, not a training run."""
from absl import logging

from tfgad import data, models, priors
from tfgad.data import normalization
from tfgad.detection import calibration, combiners, latent_search, normalize, scorer, thresholds
from tfgad.errors import UserError

STRATEGIES = ("default", "mirrored")


def _one_of(value, known, field):
    if value not in known:
        raise UserError(f"unknown {field} {value!r}; known: {', '.join(sorted(known))}")


def _positive(config, *fields):
    for field in fields:
        section, name = field.split(".")
        value = getattr(getattr(config, section), name)
        if not value > 0:
            raise UserError(f"{field}={value!r}; must be positive")


def _components_of_the_model(config):
    """detection.components (and single_component, weights) against the chosen model's contract."""
    model_class = models.MODELS[config.model.name]
    own = model_class.score_components()
    for name in config.detection.weights:
        _one_of(name, models.ALL_COMPONENTS, "detection.weights entry")
    for name in calibration.component_names(config):
        if name not in own:
            field = ("detection.single_component" if config.detection.combiner == "single"
                     else "detection.components entry")
            raise UserError(f"{field} {name!r} is not a score component of model.name="
                            f"{config.model.name}; it returns: {', '.join(own)}")


def validate(config) -> None:
    """Raises UserError naming the first invalid field and the accepted values."""
    _one_of(config.data.name, data.SOURCES, "data.name")
    _one_of(config.data.protocol, data.PROTOCOLS, "data.protocol")
    _one_of(config.data.normalization, normalization.KINDS, "data.normalization")
    _one_of(config.model.name, models.MODELS, "model.name")
    _one_of(config.model.output_activation, models.OUTPUT_ACTIVATIONS, "model.output_activation")
    _one_of(config.prior.name, priors.PRIORS, "prior.name")
    _one_of(config.train.strategy, STRATEGIES, "train.strategy")
    _one_of(config.detection.scorer, scorer.SCORERS, "detection.scorer")
    _one_of(config.detection.threshold, thresholds.METHODS, "detection.threshold")
    _one_of(config.search.distance, latent_search.DISTANCES, "search.distance")
    _one_of(config.detection.combiner, combiners.KINDS, "detection.combiner")
    _one_of(config.detection.normalization, normalize.KINDS, "detection.normalization")
    _one_of(config.detection.grid_metric, combiners.GRID_METRICS, "detection.grid_metric")
    _components_of_the_model(config)
    _positive(config, "model.latent_dim", "model.base_filters", "model.num_blocks",
              "model.kernel_size", "train.epochs", "train.batch_size", "train.g_learning_rate",
              "train.d_learning_rate", "detection.batch_size", "search.learning_rate",
              "search.restarts")
    for field in ("val_fraction", "test_fraction"):
        value = getattr(config.data, field)
        if not 0 < value < 1:
            raise UserError(f"data.{field}={value}; must be a fraction between 0 and 1")
    # 0 leaves every anomaly to test: the pure one-class case (percentile threshold).
    if not 0 <= config.data.anomaly_val_fraction < 1:
        raise UserError(f"data.anomaly_val_fraction={config.data.anomaly_val_fraction}; "
                        "must be in [0, 1)")
    if config.search.n_max < 0:
        raise UserError(f"search.n_max={config.search.n_max}; must be >= 0")
    if not 0 <= config.detection.percentile <= 100:
        raise UserError(f"detection.percentile={config.detection.percentile}; must be in [0, 100]")
    if config.detection.center_discrimination and config.detection.normalization != "none":
        # Min-max and z-score subtract their own shift, which cancels the centering.
        logging.warning("detection.center_discrimination has no effect with "
                        "detection.normalization=%s; set detection.normalization=none to use it",
                        config.detection.normalization)
