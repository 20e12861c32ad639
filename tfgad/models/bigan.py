"""BiGAN / EGBAD (Donahue et al. 2016, Dumoulin et al. 2016, Zenati et al. 2018).

An encoder E learns the inverse of G because a joint discriminator D(x, z) must not tell
(x, E(x)) from (G(z), z).
"""
import ml_collections
import tensorflow as tf

from tfgad.models import base, losses
from tfgad.models.base import AdversarialModel


class BiGAN(AdversarialModel):

    HAS_ENCODER = True
    JOINT_DISCRIMINATOR = True
    CONFIG = "bigan"

    def __init__(self, generator, discriminator, encoder, prior, seed=0, **kwargs):
        super().__init__(generator, discriminator, prior, encoder=encoder, seed=seed, **kwargs)
        self.add_trackers("d_loss", "g_loss", "d_real", "d_fake")

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, input_shape: tuple, prior):
        generator, discriminator = base.dcgan_pair(config, input_shape,
                                                   extra_input_dim=config.model.latent_dim)
        return cls(generator, discriminator, base.encoder_for(config, input_shape), prior,
                   seed=config.seed)

    def generator_variables(self) -> list:
        return self.generator.trainable_variables + self.encoder.trainable_variables

    def discriminate(self, x: tf.Tensor, z: tf.Tensor, training: bool = False) -> tuple:
        return self.discriminator([x, z], training=training)

    def train_step(self, data):
        x, index = self.unpack(data)
        z = self.sample_latent(tf.shape(x)[0])
        with tf.GradientTape(persistent=True) as tape:
            _, _, real_logits, fake_logits = joint_game(self, x, z)
            weights = self.real_weights(index, tf.nn.softplus(-real_logits))
            d_loss = (losses.discriminator_bce(real_logits, fake_logits, weights)
                      + self.negatives_loss(x))
            # G and E play the inverted game: swap the labels (non-saturating).
            g_loss = losses.discriminator_bce(fake_logits, real_logits, fake_weights=weights)
        self.minimize(self.d_optimizer, tape, d_loss, self.discriminator_variables())
        self.minimize(self.g_optimizer, tape, g_loss, self.generator_variables())
        del tape
        return self.update_trackers(d_loss=d_loss, g_loss=g_loss,
                                    d_real=losses.mean(tf.sigmoid(real_logits)),
                                    d_fake=losses.mean(tf.sigmoid(fake_logits)))



def joint_game(model: AdversarialModel, x: tf.Tensor, z: tf.Tensor) -> tuple:
    """The joint discriminator's game of a training step (BiGAN's, and ALAD's D_xz):
    z_hat = E(x), x_gen = G(z), and the logits of D(x, z_hat) (real) and D(x_gen, z) (fake)."""
    z_hat = model.encoder(x, training=True)
    x_gen = model.generator(z, training=True)
    real_logits, _ = model.discriminate(x, z_hat, training=True)
    fake_logits, _ = model.discriminate(x_gen, z, training=True)
    return z_hat, x_gen, real_logits, fake_logits
