"""WGAN-GP: Wasserstein critic with a gradient penalty (Gulrajani et al. 2017)."""
import keras
import ml_collections
import tensorflow as tf

from tfgad.models import base, losses
from tfgad.models.base import AdversarialModel


class WGANGP(AdversarialModel):
    CONFIG = "wgan_gp"
    """n_critic critic steps on the same real batch, then one generator step."""

    def __init__(self, generator, discriminator, prior, n_critic, gp_weight, seed=0,
                 encoder=None, **kwargs):
        super().__init__(generator, discriminator, prior, encoder=encoder, seed=seed, **kwargs)
        self.n_critic, self.gp_weight = int(n_critic), float(gp_weight)
        self.add_trackers("d_loss", "g_loss", "gp", "wasserstein")

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, input_shape: tuple, prior):
        generator, discriminator = base.dcgan_pair(config, input_shape)
        w = config.model.wgan_gp
        return cls(generator, discriminator, prior, w.n_critic, w.gp_weight, seed=config.seed)

    def _critic(self, x):
        return self.discriminate(x, None, training=True)[0]

    def train_step(self, data):
        return self.update_trackers(**self._gan_step(*self.unpack(data)))

    def _gan_step(self, real, index=None):
        """n_critic critic updates and one generator update; returns the losses.

        Under robust training the real samples' weights are set once per batch, in the first
        critic step, from the critic's value (-C(x): high = looks fake).
        """
        batch = tf.shape(real)[0]
        weights = None
        for step in range(self.n_critic):  # unrolled at trace time: n_critic is a small constant
            with tf.GradientTape() as tape:
                fake = self.generator(self.sample_latent(batch), training=True)
                real_scores, fake_scores = self.judge_pair(real, fake)
                if step == 0:
                    weights = self.real_weights(index, -real_scores)
                wasserstein = losses.critic_wasserstein(real_scores, fake_scores, weights)
                alpha = self.draw_rows(keras.random.uniform, batch)
                gp = losses.gradient_penalty(self._critic, real, fake, alpha)
                d_loss = wasserstein + self.gp_weight * gp + self.negatives_loss(real)
            self.minimize(self.d_optimizer, tape, d_loss, self.discriminator_variables())

        with tf.GradientTape() as tape:
            fake = self.generator(self.sample_latent(batch), training=True)
            g_loss = losses.generator_wasserstein(self._critic(fake))
        self.minimize(self.g_optimizer, tape, g_loss, self.generator_variables())
        return {"d_loss": d_loss, "g_loss": g_loss, "gp": gp, "wasserstein": -wasserstein}

    def fake_term(self, x: tf.Tensor) -> tf.Tensor:
        """The critic's fake term E[C(x)]: generated negatives are pushed down as fakes are."""
        return losses.mean(self._critic(x))

    def discrimination_score(self, logits: tf.Tensor) -> tf.Tensor:
        """Negative critic value: the less real the critic finds x, the higher the score."""
        return -tf.reshape(logits, [-1])
