"""BeatGAN-style AE-GAN (Zhou et al. 2019): a convolutional autoencoder regularized adversarially.

The generator is the autoencoder x -> E(x) -> G(E(x)); its loss is the squared reconstruction
error plus w_adv times the feature-matching distance of the discriminator between x and
x_hat. The anomaly score is the residual.
"""
import ml_collections
import tensorflow as tf

from tfgad.models import base, losses
from tfgad.models.base import AdversarialModel


class AEGAN(AdversarialModel):

    HAS_ENCODER = True
    CONFIG = "aegan"
    REAL_PENALTY = True
    TUNING = {"model.aegan.w_adv": (0.1, 10.0)}

    def __init__(self, generator, discriminator, encoder, prior, w_adv, seed=0, **kwargs):
        super().__init__(generator, discriminator, prior, encoder=encoder, seed=seed, **kwargs)
        self.w_adv = float(w_adv)
        self.add_trackers("d_loss", "g_loss", "reconstruction", "adversarial")

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, input_shape: tuple, prior):
        generator, discriminator = base.dcgan_pair(config, input_shape)
        return cls(generator, discriminator, base.encoder_for(config, input_shape), prior,
                   config.model.aegan.w_adv, seed=config.seed)

    def generator_variables(self) -> list:
        return self.generator.trainable_variables + self.encoder.trainable_variables

    def train_step(self, data):
        x, index = self.unpack(data)
        with tf.GradientTape(persistent=True) as tape:
            x_hat = self.generator(self.encoder(x, training=True), training=True)
            real_logits, real_features = self.discriminator(x, training=True)
            fake_logits, fake_features = self.discriminator(x_hat, training=True)
            squared_error = tf.square(x - x_hat)
            w = self.real_weights(index, squared_error)
            d_loss = (losses.discriminator_bce(real_logits, fake_logits, w, w)
                      + self.negatives_loss(x) + self.real_penalty(x))
            reconstruction = losses.mean(squared_error, w)
            adversarial = losses.feature_matching(real_features, fake_features, w)
            g_loss = reconstruction + self.w_adv * adversarial
        self.minimize(self.d_optimizer, tape, d_loss, self.discriminator_variables())
        self.minimize(self.g_optimizer, tape, g_loss, self.generator_variables())
        del tape
        return self.update_trackers(d_loss=d_loss, g_loss=g_loss, reconstruction=reconstruction,
                                    adversarial=adversarial)

