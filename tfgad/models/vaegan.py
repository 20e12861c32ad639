"""VAEGAN (Larsen et al. 2016) and beta-VAEGAN (Lüer et al. 2023).

A VAE whose decoder is the GAN's generator: the encoder gives q(z|x) = N(mu, sigma^2), the
reconstruction is judged by discriminator features (learned similarity) and pixels, and the
KL term has weight beta (model.vaegan.beta), warmed up linearly over beta_warmup_steps; the
decoder weighs the feature error by feature_weight and the pixel L1 error (encoder and
decoder) by pixel_weight. Scores add the per-sample KL and ||mu||.

The reconstruction errors are means over a sample's entries, so the KL (a sum over latent
dimensions) is divided by the number of entries of x: the ELBO per entry. Without that the
KL outweighs the reconstruction by the sample size and the posterior collapses to the prior.
"""
import math

import keras
import ml_collections
import tensorflow as tf

from tfgad.errors import UserError
from tfgad.models import base, losses
from tfgad.models.base import AdversarialModel


def kl_to_standard_normal(mean: tf.Tensor, log_var: tf.Tensor) -> tf.Tensor:
    """KL(N(mean, exp(log_var)) || N(0, I)) per sample [B]."""
    return 0.5 * tf.reduce_sum(tf.square(mean) + tf.exp(log_var) - log_var - 1.0, axis=-1)


class VAEGAN(AdversarialModel):

    HAS_ENCODER = True
    OWN_COMPONENTS = ("kl", "mean_norm")
    CONFIG = "vaegan"
    REAL_PENALTY = True

    def __init__(self, generator, discriminator, encoder, prior, beta, beta_warmup_steps,
                 feature_weight, pixel_weight, seed=0, **kwargs):
        super().__init__(generator, discriminator, prior, encoder=encoder, seed=seed, **kwargs)
        self.kl_scale = 1.0 / math.prod(generator.output_shape[1:])
        self.beta, self.beta_warmup_steps = float(beta), int(beta_warmup_steps)
        self.feature_weight, self.pixel_weight = float(feature_weight), float(pixel_weight)
        self.add_trackers("d_loss", "g_loss", "e_loss", "kl", "feature_error", "beta")

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, input_shape: tuple, prior):
        if prior.name != "normal":
            raise UserError(f"vaegan's KL term assumes prior.name=normal, not {prior.name!r}")
        generator, discriminator = base.dcgan_pair(config, input_shape)
        v = config.model.vaegan
        return cls(generator, discriminator, base.encoder_for(config, input_shape, outputs=2),
                   prior, v.beta, v.beta_warmup_steps, v.feature_weight, v.pixel_weight,
                   seed=config.seed)

    def generator_variables(self) -> list:
        return self.encoder.trainable_variables + self.generator.trainable_variables

    def posterior(self, x: tf.Tensor, training: bool = False) -> tuple:
        """(mean [B, d], log-variance [B, d]) of q(z|x)."""
        mean, log_var = tf.split(self.encoder(x, training=training), 2, axis=-1)
        return mean, tf.clip_by_value(log_var, -10.0, 10.0)

    def encode(self, x: tf.Tensor, training: bool = False) -> tf.Tensor:
        return self.posterior(x, training)[0]

    def current_beta(self) -> tf.Tensor:
        if not self.beta_warmup_steps:
            return tf.constant(self.beta)
        progress = tf.cast(self.g_optimizer.iterations, tf.float32) / self.beta_warmup_steps
        return self.beta * tf.minimum(1.0, progress)

    def train_step(self, data):
        x, index = self.unpack(data)
        batch = tf.shape(x)[0]
        beta = self.current_beta()
        with tf.GradientTape(persistent=True) as tape:
            mean, log_var = self.posterior(x, training=True)
            noise = self.draw_rows(keras.random.normal, batch, self.prior.latent_dim)
            x_tilde = self.generator(mean + tf.exp(0.5 * log_var) * noise, training=True)
            x_p = self.generator(self.sample_latent(batch), training=True)
            real_logits, real_features = self.discriminator(x, training=True)
            tilde_logits, tilde_features = self.discriminator(x_tilde, training=True)
            p_logits, _ = self.discriminator(x_p, training=True)
            squared_features = tf.square(real_features - tilde_features)
            absolute_error = tf.abs(x - x_tilde)
            w = self.real_weights(index, losses.per_sample(squared_features)
                                  + self.pixel_weight * losses.per_sample(absolute_error))
            d_loss = (losses.mean(tf.nn.softplus(-real_logits), w)
                      + 0.5 * losses.mean(tf.nn.softplus(tilde_logits), w)
                      + 0.5 * losses.mean(tf.nn.softplus(p_logits))
                      + self.negatives_loss(x) + self.real_penalty(x))
            kl = losses.mean(kl_to_standard_normal(mean, log_var), w)
            feature_error = losses.mean(squared_features, w)
            pixel_error = losses.mean(absolute_error, w)
            e_loss = beta * self.kl_scale * kl + feature_error + self.pixel_weight * pixel_error
            g_loss = (self.feature_weight * feature_error + self.pixel_weight * pixel_error
                      + losses.mean(tf.nn.softplus(-tilde_logits), w)
                      + losses.generator_nonsaturating(p_logits))
        self.minimize(self.d_optimizer, tape, d_loss, self.discriminator_variables())
        # One optimizer, two losses: the encoder follows e_loss, the decoder g_loss.
        e_vars, g_vars = self.encoder.trainable_variables, self.generator.trainable_variables
        grads = self.gradients(tape, e_loss, e_vars) + self.gradients(tape, g_loss, g_vars)
        self.g_optimizer.apply_gradients(zip(grads, e_vars + g_vars))
        del tape
        return self.update_trackers(d_loss=d_loss, g_loss=g_loss, e_loss=e_loss, kl=kl,
                                    feature_error=feature_error, beta=beta)

    def extra_scores(self, x: tf.Tensor, z: tf.Tensor, x_hat: tf.Tensor) -> dict:
        mean, log_var = self.posterior(x)
        return {"kl": kl_to_standard_normal(mean, log_var), "mean_norm": tf.norm(mean, axis=-1)}

