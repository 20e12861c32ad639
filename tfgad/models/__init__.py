"""Model families by name, and the factory that builds and compiles them from a config."""
from tfgad.errors import UserError, choose
from tfgad.models.aegan import AEGAN
from tfgad.models.alad import ALAD
from tfgad.models.base import AdversarialModel, adam
from tfgad.models.bigan import BiGAN
from tfgad.models.fanogan import FAnoGAN
from tfgad.models.gan import GAN
from tfgad.models.ganomaly import GANomaly
from tfgad.models.vaegan import VAEGAN
from tfgad.models.wgan_gp import WGANGP

MODELS = {"gan": GAN, "wgan_gp": WGANGP, "bigan": BiGAN, "alad": ALAD, "fanogan": FAnoGAN,
          "ganomaly": GANomaly, "aegan": AEGAN, "vaegan": VAEGAN}
OUTPUT_ACTIVATIONS = ("linear", "tanh")
# Every score component some family returns, in a stable order (each family declares its own).
ALL_COMPONENTS = tuple(dict.fromkeys(c for m in MODELS.values() for c in m.score_components()))


def build(config, input_shape: tuple, prior) -> AdversarialModel:
    """Builds the networks and the model named by config.model.name, compiled and with weights.

    Call inside the distribution strategy's scope.
    """
    m = config.model
    model_class = choose(MODELS, m.name, "model.name")
    if m.output_activation not in OUTPUT_ACTIVATIONS:
        raise UserError(f"unknown model.output_activation {m.output_activation!r}; "
                        f"known: {', '.join(OUTPUT_ACTIVATIONS)}")
    for field in ("base_filters", "num_blocks", "kernel_size"):
        if getattr(m, field) < 1:
            raise UserError(f"model.{field}={getattr(m, field)}; must be a positive integer")
    model = model_class.from_config(config, tuple(input_shape), prior)
    model.compile(d_optimizer=adam(config, "d"), g_optimizer=adam(config, "g"))
    model.build_networks()
    return model
