"""ALAD: Adversarially Learned Anomaly Detection (Zenati et al. 2018).

BiGAN's D_xz plus two discriminators that enforce cycle consistency: D_xx(x, x') tells
(x, x) from (x, G(E(x))), D_zz(z, z') tells (z, z) from (z, E(G(z))). The anomaly score is
the L1 distance of D_xx's features between (x, x) and (x, G(E(x))).
"""
import ml_collections
import tensorflow as tf

from tfgad.models import base, bigan, losses, networks
from tfgad.models.base import AdversarialModel


class ALAD(AdversarialModel):

    HAS_ENCODER = True
    JOINT_DISCRIMINATOR = True
    CONFIG = "alad"
    OWN_COMPONENTS = ("dxx_feature",)

    def __init__(self, generator, d_xz, d_xx, d_zz, encoder, prior, seed=0, **kwargs):
        super().__init__(generator, d_xz, prior, encoder=encoder, seed=seed, **kwargs)
        self.d_xx, self.d_zz = d_xx, d_zz
        self.add_trackers("d_loss", "g_loss", "d_xz", "d_xx", "d_zz")

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, input_shape: tuple, prior):
        m = config.model
        generator, d_xz = base.dcgan_pair(config, input_shape, extra_input_dim=m.latent_dim)
        pair_shape = tuple(input_shape[:-1]) + (2 * input_shape[-1],)  # x and x' as channels
        d_xx = networks.build_discriminator(pair_shape, m.base_filters, m.num_blocks,
                                            m.kernel_size, m.spectral_norm, name="d_xx")
        d_zz = networks.build_latent_discriminator(2 * m.latent_dim, 4 * m.base_filters,
                                                   m.spectral_norm, name="d_zz")
        return cls(generator, d_xz, d_xx, d_zz, base.encoder_for(config, input_shape), prior,
                   seed=config.seed)

    def generator_variables(self) -> list:
        return self.generator.trainable_variables + self.encoder.trainable_variables

    def discriminator_variables(self) -> list:
        return (self.discriminator.trainable_variables + self.d_xx.trainable_variables
                + self.d_zz.trainable_variables)

    def discriminate(self, x: tf.Tensor, z: tf.Tensor, training: bool = False) -> tuple:
        return self.discriminator([x, z], training=training)

    def pair_xx(self, x: tf.Tensor, x_other: tf.Tensor, training: bool = False) -> tuple:
        return self.d_xx(tf.concat([x, x_other], axis=-1), training=training)

    def pair_zz(self, z: tf.Tensor, z_other: tf.Tensor, training: bool = False) -> tuple:
        return self.d_zz(tf.concat([z, z_other], axis=-1), training=training)

    def build_networks(self) -> None:
        super().build_networks()
        z = tf.zeros([1, self.prior.latent_dim])
        x = self(z)
        self.pair_xx(x, x)
        self.pair_zz(z, z)

    def train_step(self, data):
        x, index = self.unpack(data)
        z = self.sample_latent(tf.shape(x)[0])
        with tf.GradientTape(persistent=True) as tape:
            z_hat, x_gen, xz_real, xz_fake = bigan.joint_game(self, x, z)
            x_rec = self.generator(z_hat, training=True)
            z_rec = self.encoder(x_gen, training=True)
            xx_real, _ = self.pair_xx(x, x, training=True)
            xx_fake, _ = self.pair_xx(x, x_rec, training=True)
            zz_real, _ = self.pair_zz(z, z, training=True)
            zz_fake, _ = self.pair_zz(z, z_rec, training=True)
            # Every term with a real x: (x, E(x)), (x, x) and (x, G(E(x))); trim ranks by them.
            w = self.real_weights(index, tf.nn.softplus(-xz_real) + tf.nn.softplus(-xx_real)
                                  + tf.nn.softplus(xx_fake))
            d_xz = losses.discriminator_bce(xz_real, xz_fake, w)
            d_xx = losses.discriminator_bce(xx_real, xx_fake, w, w)
            d_zz = losses.discriminator_bce(zz_real, zz_fake)
            d_loss = d_xz + d_xx + d_zz + self.negatives_loss(x)
            # G and E: the same three games with the labels swapped.
            g_loss = (losses.discriminator_bce(xz_fake, xz_real, fake_weights=w)
                      + losses.discriminator_bce(xx_fake, xx_real, w, w)
                      + losses.discriminator_bce(zz_fake, zz_real))
        self.minimize(self.d_optimizer, tape, d_loss, self.discriminator_variables())
        self.minimize(self.g_optimizer, tape, g_loss, self.generator_variables())
        del tape
        return self.update_trackers(d_loss=d_loss, g_loss=g_loss, d_xz=d_xz, d_xx=d_xx, d_zz=d_zz)

    def extra_scores(self, x: tf.Tensor, z: tf.Tensor, x_hat: tf.Tensor) -> dict:
        _, real_features = self.pair_xx(x, x)
        _, rec_features = self.pair_xx(x, x_hat)
        return {"dxx_feature": tf.reduce_mean(tf.abs(real_features - rec_features), axis=-1)}

