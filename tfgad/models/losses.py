"""Adversarial losses as pure functions of tensors; each returns a scalar.

Terms on real data take optional per-sample weights [B] (robust training leaves suspected
anomalies out with weight 0). Without weights a term is the plain tf.reduce_mean, so that
training without robust weights runs the very same graph as before they existed.

Every batch mean is a mean over the global batch (models.replicas): under a strategy with
several replicas the sums and counts are all-reduced, so each replica computes the loss of the
global batch and the step matches one device's.
"""
import tensorflow as tf

from tfgad.models import replicas


def per_sample(values: tf.Tensor) -> tf.Tensor:
    """The mean of each sample's entries: [B, ...] -> [B]."""
    return tf.reduce_mean(tf.reshape(values, [tf.shape(values)[0], -1]), axis=1)


def mean(values: tf.Tensor, weights: tf.Tensor | None = None) -> tf.Tensor:
    """Batch mean of values [B, ...]; with weights [B], the weighted mean of per-sample means."""
    if weights is None:
        return replicas.batch_mean(values)
    weighted, total = replicas.global_sum([tf.reduce_sum(weights * per_sample(values)),
                                           tf.reduce_sum(weights)])
    return weighted / tf.maximum(total, 1e-6)


def discriminator_bce(real_logits: tf.Tensor, fake_logits: tf.Tensor,
                      real_weights: tf.Tensor | None = None,
                      fake_weights: tf.Tensor | None = None) -> tf.Tensor:
    """Standard GAN discriminator loss: -log D(x) - log(1 - D(G(z))), batch mean."""
    return (mean(tf.nn.softplus(-real_logits), real_weights)
            + mean(tf.nn.softplus(fake_logits), fake_weights))


def generator_nonsaturating(fake_logits: tf.Tensor) -> tf.Tensor:
    """Non-saturating generator loss -log D(G(z)) (Goodfellow et al. 2014), batch mean."""
    return mean(tf.nn.softplus(-fake_logits))


def critic_wasserstein(real_scores: tf.Tensor, fake_scores: tf.Tensor,
                       real_weights: tf.Tensor | None = None) -> tf.Tensor:
    """WGAN critic loss E[C(G(z))] - E[C(x)]."""
    return mean(fake_scores) - mean(real_scores, real_weights)


def generator_wasserstein(fake_scores: tf.Tensor) -> tf.Tensor:
    return -mean(fake_scores)


def gradient_penalty(critic, real: tf.Tensor, fake: tf.Tensor, alpha: tf.Tensor) -> tf.Tensor:
    """WGAN-GP penalty E[(||grad C(x~)|| - 1)^2] at x~ = alpha x + (1 - alpha) G(z).

    Args:
      critic: callable x -> scores [B, 1].
      real, fake: [B, ...] samples.
      alpha: [B] interpolation weights drawn uniformly in [0, 1], one per example.
    """
    alpha = tf.reshape(alpha, [-1] + [1] * (real.shape.rank - 1))
    mixed = alpha * real + (1.0 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(mixed)
        scores = critic(mixed)
    grads = tape.gradient(scores, mixed)
    # The epsilon keeps the gradient of the norm finite where grads vanish.
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=list(range(1, real.shape.rank))) + 1e-12)
    return mean(tf.square(norms - 1.0))


def r1_penalty(discriminator, real: tf.Tensor) -> tf.Tensor:
    """R1 penalty E[||grad D(x)||^2] at real samples x (Mescheder et al. 2018), without the
    gamma / 2 in front.

    Args:
      discriminator: callable x -> logits [B, 1].
      real: [B, ...] real samples.
    """
    with tf.GradientTape() as tape:
        tape.watch(real)
        logits = discriminator(real)
    grads = tape.gradient(logits, real)
    return mean(tf.reduce_sum(tf.square(grads), axis=list(range(1, real.shape.rank))))


def _batch_mean(features, weights):
    if weights is None:
        return replicas.batch_mean(features, 0)
    weighted, total = replicas.global_sum([tf.reduce_sum(weights[:, None] * features, 0),
                                           tf.reduce_sum(weights)])
    return weighted / tf.maximum(total, 1e-6)


def feature_matching(real_features: tf.Tensor, fake_features: tf.Tensor,
                     weights: tf.Tensor | None = None) -> tf.Tensor:
    """Squared distance between the batch-mean discriminator features (Salimans et al. 2016).

    weights [B] weigh the samples of both means (the fakes are reconstructions of the reals).
    """
    return tf.reduce_mean(tf.square(_batch_mean(real_features, weights)
                                    - _batch_mean(fake_features, weights)))
