"""Model families by name, and the factory that builds and compiles them from a config."""
import keras
import ml_collections
import numpy as np

from tfgad.data import rhythm
from tfgad.errors import UserError
from tfgad.models.aegan import AEGAN
from tfgad.models.alad import ALAD
from tfgad.models.base import AdversarialModel, adam
from tfgad.models.bigan import BiGAN
from tfgad.models.ensemble import Ensemble
from tfgad.models.fanogan import FAnoGAN
from tfgad.models.gan import GAN
from tfgad.models import inverse as inverse_lib
from tfgad.models.ganomaly import GANomaly
from tfgad.models.vaegan import VAEGAN
from tfgad.models.wgan_gp import WGANGP
from tfgad.sections.model import FAMILY_SECTIONS, MODEL

MODELS: dict[str, type[AdversarialModel]] = {"gan": GAN, "wgan_gp": WGANGP, "bigan": BiGAN, "alad": ALAD, "fanogan": FAnoGAN,
          "ganomaly": GANomaly, "aegan": AEGAN, "vaegan": VAEGAN}
# Every score component some family returns, in a stable order (each family declares its own).
ALL_COMPONENTS = tuple(dict.fromkeys(c for m in MODELS.values() for c in m.score_components()))

# A family's docstring ends with its config section, as declared (tfgad/sections/model.py).
for _name, _section in FAMILY_SECTIONS.items():
    MODELS[_name].__doc__ = (f"{MODELS[_name].__doc__ or ''}\n\n    Config section "
                             f"{_section.name} ({_section.meaning}):\n{_section.describe()}\n")


def check_finite_weights(model: AdversarialModel) -> None:
    """Refuses a model with NaN or inf weights (a diverged training): it would flag nothing."""
    bad = [v.path for v in model.weights if not np.all(np.isfinite(v.numpy()))]
    if bad:
        raise UserError(f"the model holds NaN or inf weights ({len(bad)} variables, e.g. {bad[0]}): "
                        "training diverged; retrain with lower train.*_learning_rate")


def build(config: ml_collections.ConfigDict, input_shape: tuple, prior) -> AdversarialModel:
    """Builds the networks and the model named by config.model.name, compiled and with weights.

    Call inside the distribution strategy's scope. input_shape is the samples' shape; the
    networks get the signal's (without data.rhythm_features' context channels).
    """
    m = config.model
    input_shape = rhythm.signal_shape(input_shape, rhythm.channels(config))
    MODEL.check(m)  # the section's own checks, for a config that skipped config_checks
    model_class = MODELS[m.name]
    built = []
    for index in range(m.ensemble):
        member_config = config
        if index:  # each member its own seed (initial weights are drawn in build order)
            member_config = config.copy_and_resolve_references()
            member_config.seed = config.seed + index
        model = model_class.from_config(member_config, tuple(input_shape), prior)
        model.r1_gamma = float(config.train.r1_gamma)
        if m.inverse:
            model.inverse = inverse_lib.build(member_config, tuple(input_shape))
            # Saved with the weights: a search may start at I(x) only once I was fit.
            model.inverse_fitted = keras.Variable(0, dtype="int32", trainable=False,
                                                  name=inverse_lib.FITTED_NAME)
        model.compile(d_optimizer=adam(config, "d"), g_optimizer=adam(config, "g"))
        model.build_networks()
        built.append(model)
    if m.ensemble == 1:
        return built[0]
    ensemble = Ensemble(built)
    ensemble.compile()
    ensemble.build_networks()
    return ensemble
