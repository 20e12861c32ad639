"""Adversarial losses as pure functions of tensors; each returns a scalar."""
import tensorflow as tf


def discriminator_bce(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """Standard GAN discriminator loss: -log D(x) - log(1 - D(G(z))), batch mean."""
    return tf.reduce_mean(tf.nn.softplus(-real_logits)) + tf.reduce_mean(tf.nn.softplus(fake_logits))


def generator_nonsaturating(fake_logits: tf.Tensor) -> tf.Tensor:
    """Non-saturating generator loss -log D(G(z)) (Goodfellow et al. 2014), batch mean."""
    return tf.reduce_mean(tf.nn.softplus(-fake_logits))


def critic_wasserstein(real_scores: tf.Tensor, fake_scores: tf.Tensor) -> tf.Tensor:
    """WGAN critic loss E[C(G(z))] - E[C(x)]."""
    return tf.reduce_mean(fake_scores) - tf.reduce_mean(real_scores)


def generator_wasserstein(fake_scores: tf.Tensor) -> tf.Tensor:
    return -tf.reduce_mean(fake_scores)


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
    return tf.reduce_mean(tf.square(norms - 1.0))


def feature_matching(real_features: tf.Tensor, fake_features: tf.Tensor) -> tf.Tensor:
    """Squared distance between the batch-mean discriminator features (Salimans et al. 2016)."""
    return tf.reduce_mean(tf.square(tf.reduce_mean(real_features, 0) - tf.reduce_mean(fake_features, 0)))
