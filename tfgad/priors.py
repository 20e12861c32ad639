"""Latent priors (TensorFlow Probability) and the chi distribution of the latent norm."""
import math

import ml_collections
import tensorflow as tf
import tensorflow_probability as tfp

from tfgad.errors import UserError

tfd = tfp.distributions


class Prior:
    """A factorized prior over z in R^d with sampling, support projection and a norm model.

    The norm model is a scaled chi distribution: ||z|| / s ~ Chi(d) with s the per-dimension
    standard deviation. It is exact for the normal prior and moment-matched for the others,
    whose norms also concentrate near s * sqrt(d) for large d.
    """

    def __init__(self, name, latent_dim, truncation=2.0):
        self.name, self.latent_dim = name, int(latent_dim)
        if self.latent_dim < 1:
            raise UserError(f"model.latent_dim={latent_dim}; must be a positive integer")
        if name == "normal":
            base, self.bounds = tfd.Normal(0.0, 1.0), None
        elif name == "uniform":
            base, self.bounds = tfd.Uniform(-1.0, 1.0), (-1.0, 1.0)
        elif name == "truncated_normal":
            if truncation <= 0:
                raise UserError(f"prior.truncation={truncation}; must be positive")
            base = tfd.TruncatedNormal(0.0, 1.0, -truncation, truncation)
            self.bounds = (-float(truncation), float(truncation))
        else:
            raise UserError(f"unknown prior.name {name!r}; known: {', '.join(PRIORS)}")
        # Sample makes d i.i.d. draws one event of shape [d], so log_prob sums over z's entries.
        self.distribution = tfd.Sample(base, sample_shape=[self.latent_dim])
        self.scale = float(base.stddev())
        self.norm_distribution = tfd.Chi(df=float(self.latent_dim))

    def sample(self, n: int, seed: int) -> tf.Tensor:
        """n latent vectors [n, d]; seed is a stateless int32 seed of shape [2]."""
        return self.distribution.sample(n, seed=seed)

    def log_prob(self, z: tf.Tensor) -> tf.Tensor:
        """log p(z) [B]."""
        return self.distribution.log_prob(z)

    def project(self, z: tf.Tensor) -> tf.Tensor:
        """Clips z into the prior's support (identity for the normal prior)."""
        if self.bounds is None:
            return z
        return tf.clip_by_value(z, self.bounds[0], self.bounds[1])

    def norm_log_prob(self, z: tf.Tensor) -> tf.Tensor:
        """log density of ||z|| under the scaled chi model [B]."""
        norm = tf.norm(z, axis=-1) / self.scale
        return self.norm_distribution.log_prob(tf.maximum(norm, 1e-12)) - math.log(self.scale)


PRIORS = ("normal", "uniform", "truncated_normal")


def from_config(config: ml_collections.ConfigDict) -> Prior:
    return Prior(config.prior.name, config.model.latent_dim, config.prior.truncation)
