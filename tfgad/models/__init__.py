"""Model families by name, and the factory that builds and compiles them from a config."""
import keras

from tfgad.errors import UserError, choose
from tfgad.models import networks
from tfgad.models.gan import GAN
from tfgad.models.wgan_gp import WGANGP

MODELS = {"gan": GAN, "wgan_gp": WGANGP}
OUTPUT_ACTIVATIONS = ("linear", "tanh")


def build(config, input_shape, prior):
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
    generator = networks.build_generator(input_shape, m.latent_dim, m.base_filters, m.num_blocks,
                                         m.kernel_size, m.output_activation)
    discriminator = networks.build_discriminator(input_shape, m.base_filters, m.num_blocks,
                                                 m.kernel_size, m.spectral_norm)
    kwargs = {"seed": config.seed}
    if model_class is WGANGP:
        kwargs.update(n_critic=m.n_critic, gp_weight=m.gp_weight)
    model = model_class(generator, discriminator, prior, **kwargs)
    t = config.train
    model.compile(
        d_optimizer=keras.optimizers.Adam(t.d_learning_rate, beta_1=t.beta_1, beta_2=t.beta_2),
        g_optimizer=keras.optimizers.Adam(t.g_learning_rate, beta_1=t.beta_1, beta_2=t.beta_2))
    model.build_networks()
    return model
