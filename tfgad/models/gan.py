"""DCGAN-style GAN with the non-saturating BCE loss."""
import tensorflow as tf

from tfgad.models import losses
from tfgad.models.base import AdversarialModel


class GAN(AdversarialModel):
    """One discriminator step and one generator step per batch."""

    def __init__(self, generator, discriminator, prior, seed=0, **kwargs):
        super().__init__(generator, discriminator, prior, seed=seed, **kwargs)
        self.add_trackers("d_loss", "g_loss", "d_real", "d_fake")

    def train_step(self, data):
        real = self.real_batch(data)
        batch = tf.shape(real)[0]
        with tf.GradientTape() as tape:
            fake = self.generator(self.sample_latent(batch), training=True)
            real_logits, _ = self.discriminator(real, training=True)
            fake_logits, _ = self.discriminator(fake, training=True)
            d_loss = losses.discriminator_bce(real_logits, fake_logits)
        grads = tape.gradient(d_loss, self.discriminator.trainable_variables)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_variables))

        with tf.GradientTape() as tape:
            fake = self.generator(self.sample_latent(batch), training=True)
            fake_logits, _ = self.discriminator(fake, training=True)
            g_loss = losses.generator_nonsaturating(fake_logits)
        grads = tape.gradient(g_loss, self.generator.trainable_variables)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_variables))
        return self.update_trackers(
            d_loss=d_loss, g_loss=g_loss,
            d_real=tf.reduce_mean(tf.sigmoid(real_logits)),
            d_fake=tf.reduce_mean(tf.sigmoid(fake_logits)))

    def discrimination_score(self, logits):
        """Sigmoid cross-entropy of D(x) against the target 'real': -log D(x)."""
        return tf.nn.softplus(-tf.reshape(logits, [-1]))
