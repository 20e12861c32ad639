"""GANomaly (Akcay et al. 2018): an encoder-decoder-encoder generator and a discriminator.

G_E: x -> z, G_D: z -> x_hat (the generator), E: x_hat -> z'. The generator loss weighs the
adversarial (feature matching), contextual (|x - x_hat|) and encoder (||z - z'||^2) terms;
the anomaly score is the latent distance ||z - z'||^2.
"""
import ml_collections
import tensorflow as tf

from tfgad.models import base, losses
from tfgad.models.base import AdversarialModel


class GANomaly(AdversarialModel):

    HAS_ENCODER = True
    OWN_COMPONENTS = ("latent_distance",)
    CONFIG = "ganomaly"
    REAL_PENALTY = True
    TUNING = {"model.ganomaly.w_adv": (0.1, 10.0)}

    def __init__(self, generator, discriminator, encoder, second_encoder, prior, w_adv,
                 w_con, w_enc, seed=0, **kwargs):
        super().__init__(generator, discriminator, prior, encoder=encoder, seed=seed, **kwargs)
        self.second_encoder = second_encoder
        self.w_adv, self.w_con, self.w_enc = float(w_adv), float(w_con), float(w_enc)
        self.add_trackers("d_loss", "g_loss", "adversarial", "contextual", "encoder")

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, input_shape: tuple, prior):
        generator, discriminator = base.dcgan_pair(config, input_shape)
        g = config.model.ganomaly
        return cls(generator, discriminator, base.encoder_for(config, input_shape),
                   base.encoder_for(config, input_shape, name="second_encoder"), prior,
                   g.w_adv, g.w_con, g.w_enc, seed=config.seed)

    def generator_variables(self) -> list:
        return (self.generator.trainable_variables + self.encoder.trainable_variables
                + self.second_encoder.trainable_variables)

    def build_networks(self) -> None:
        super().build_networks()
        self.second_encoder(self(tf.zeros([1, self.prior.latent_dim])))

    def train_step(self, data):
        x, index = self.unpack(data)
        with tf.GradientTape(persistent=True) as tape:
            z = self.encoder(x, training=True)
            x_hat = self.generator(z, training=True)
            z_again = self.second_encoder(x_hat, training=True)
            real_logits, real_features = self.discriminator(x, training=True)
            fake_logits, fake_features = self.discriminator(x_hat, training=True)
            contextual_error, encoder_error = tf.abs(x - x_hat), tf.square(z - z_again)
            w = self.real_weights(index, self.w_con * losses.per_sample(contextual_error)
                                  + self.w_enc * losses.per_sample(encoder_error))
            d_loss = (losses.discriminator_bce(real_logits, fake_logits, w, w)
                      + self.negatives_loss(x) + self.real_penalty(x))
            adversarial = losses.feature_matching(real_features, fake_features, w)
            contextual = losses.mean(contextual_error, w)
            encoder = losses.mean(encoder_error, w)
            g_loss = self.w_adv * adversarial + self.w_con * contextual + self.w_enc * encoder
        self.minimize(self.d_optimizer, tape, d_loss, self.discriminator_variables())
        self.minimize(self.g_optimizer, tape, g_loss, self.generator_variables())
        del tape
        return self.update_trackers(d_loss=d_loss, g_loss=g_loss, adversarial=adversarial,
                                    contextual=contextual, encoder=encoder)

    def extra_scores(self, x: tf.Tensor, z: tf.Tensor, x_hat: tf.Tensor) -> dict:
        z_again = self.second_encoder(x_hat, training=False)
        return {"latent_distance": tf.reduce_mean(tf.square(z - z_again), axis=-1)}

