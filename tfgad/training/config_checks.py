"""Checks a config before any work starts, so a typo costs seconds, not a training run.

Each field is checked by its section's declaration (tfgad/sections: type, choices, range;
sections.owners() names the module that reads each section); this module keeps the rules that
span fields or sections, and the checks of the loaded splits.
"""
import ml_collections
from absl import logging

from tfgad import models, sections
from tfgad.data import rhythm
from tfgad.detection import calibration, combiners, record_context, thresholds, xla_choice
from tfgad.errors import UserError


def _components_of_the_model(config):
    """detection.components (and single_component, weights) against the chosen model's contract."""
    model_class = models.MODELS[config.model.name]
    own = model_class.score_components() + (rhythm.COMPONENTS if rhythm.channels(config) else ())
    names = calibration.layout(config).components
    if not names:
        raise UserError("detection.components names nothing; give e.g. residual,feature")
    for name in names:
        if name not in own:
            field = ("detection.single_component" if config.detection.combiner == "single"
                     else "detection.components entry")
            raise UserError(f"{field} {name!r} is not a score component of model.name="
                            f"{config.model.name}; it returns: {', '.join(own)}")


def _weights_not_all_zero(config):
    """The weighted combiner needs a nonzero weight among the components it combines."""
    if config.detection.combiner != "weighted":
        return
    names = calibration.layout(config).components
    if not any(config.detection.weights[n] for n in names):
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


def _generator_average(config):
    """f-AnoGAN's encoder stage trains against the generator's last weights; swapping in their
    average afterwards would leave the encoder inverting a generator it never saw."""
    if config.train.ema_momentum > 0 and models.MODELS[config.model.name].STAGE_EPOCHS:
        raise UserError(f"train.ema_momentum={config.train.ema_momentum} does not work with "
                        f"model.name={config.model.name} (its encoder stage trains against the "
                        "generator's last weights); use train.ema_momentum=0")


def _real_penalty(config):
    """train.r1_gamma is added by the families whose discriminator judges x alone with BCE."""
    if config.train.r1_gamma > 0 and not models.MODELS[config.model.name].REAL_PENALTY:
        known = ", ".join(n for n, m in models.MODELS.items() if m.REAL_PENALTY)
        raise UserError(f"train.r1_gamma={config.train.r1_gamma} does not apply to model.name="
                        f"{config.model.name} (a Wasserstein critic has its gradient penalty, "
                        f"a joint D(x, z) no x-only gradient); it applies to: {known}; use "
                        "train.r1_gamma=0")


def _robust_training(config):
    r = config.train.robust
    if r.method == "none":
        return
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
    if config.model.ensemble > 1:
        raise UserError(f"train.robust.method={r.method} trains one model, not an ensemble of "
                        f"model.ensemble={config.model.ensemble}; set one of them back")


def _search_start(config):
    if config.search.init == "amortized" and not config.model.inverse:
        raise UserError("search.init=amortized starts at the inverse that model.inverse=True "
                        "fits after training; set it (and retrain), or use search.init=random")
    if config.model.inverse and config.train.strategy != "default":
        raise UserError(f"model.inverse is fit after training on one device; use "
                        f"train.strategy=default, not {config.train.strategy!r}")
    if config.model.inverse and models.MODELS[config.model.name].HAS_ENCODER:
        raise UserError(f"model.inverse is for the latent-search families; {config.model.name} "
                        "has an encoder: start the search at E(x) with "
                        "search.init_from_encoder=True instead")


def _rhythm_features(config):
    if config.data.rhythm_features and config.data.name != "mitbih":
        raise UserError(f"data.rhythm_features needs R peaks, i.e. data.name=mitbih (or beats cut "
                        f"from WFDB records), not {config.data.name!r}; set it to False")


def _record_stream(config):
    """The warm-up must fit in the window: StreamSettings owns that rule."""
    record_context.StreamSettings(config.detection.record_window, config.detection.record_warmup)


def _center_discrimination(config):
    if config.detection.center_discrimination and config.detection.normalization != "none":
        # Min-max and z-score subtract their own shift, which cancels the centering.
        logging.warning("detection.center_discrimination has no effect with "
                        "detection.normalization=%s; set detection.normalization=none to use it",
                        config.detection.normalization)


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
    if needs and not (val.y == 1).any() and d.one_class != "negatives":
        raise UserError(f"the validation split ({config.data.protocol}-patient protocol) holds no "
                        f"anomaly, but {' and '.join(needs)} fit on labelled anomalies; use "
                        "detection.threshold=percentile with detection.combiner=weighted "
                        "(one-class), detection.one_class=negatives (fit against generated "
                        "negatives), or raise data.anomaly_val_fraction")


# The rules that span fields, each run after every field passed its own section's checks.
CROSS_FIELD_RULES = (_rhythm_features, _components_of_the_model, _weights_not_all_zero,
                     _generator_average, _real_penalty,
                     _export_would_work, _robust_training, _search_start, _record_stream,
                     _center_discrimination)


def validate(config: ml_collections.ConfigDict) -> None:
    """Raises UserError naming the first invalid field and the accepted values: each field by
    its section's declaration (tfgad/sections), then the rules that span fields."""
    sections.check(config)
    xla_choice.parse(config.search.jit_compile)
    for rule in CROSS_FIELD_RULES:
        rule(config)
