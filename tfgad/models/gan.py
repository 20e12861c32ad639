"""DCGAN-style GAN with the non-saturating BCE loss."""
import tensorflow as tf

from tfgad.models import losses
from tfgad.models.base import AdversarialModel


class GAN(AdversarialModel):
    """One discriminator step and one generator step per batch."""

    CONFIG = "anogan"
    REAL_PENALTY = True

    def __init__(self, generator, discriminator, prior, seed=0, **kwargs):
        super().__init__(generator, discriminator, prior, seed=seed, **kwargs)
        self.add_trackers("d_loss", "g_loss", "d_real", "d_fake")

    def train_step(self, data):
        real, index = self.unpack(data)
        batch = tf.shape(real)[0]
        with tf.GradientTape() as tape:
            fake = self.generator(self.sample_latent(batch), training=True)
            real_logits, fake_logits = self.judge_pair(real, fake)
            weights = self.real_weights(index, tf.nn.softplus(-real_logits))
            d_loss = (losses.discriminator_bce(real_logits, fake_logits, weights)
                      + self.negatives_loss(real) + self.real_penalty(real))
        self.minimize(self.d_optimizer, tape, d_loss, self.discriminator_variables())

        with tf.GradientTape() as tape:
            fake = self.generator(self.sample_latent(batch), training=True)
            fake_logits, _ = self.discriminate(fake, None, training=True)
            g_loss = losses.generator_nonsaturating(fake_logits)
        self.minimize(self.g_optimizer, tape, g_loss, self.generator_variables())
        return self.update_trackers(
            d_loss=d_loss, g_loss=g_loss,
            d_real=losses.mean(tf.sigmoid(real_logits)),
            d_fake=losses.mean(tf.sigmoid(fake_logits)))
