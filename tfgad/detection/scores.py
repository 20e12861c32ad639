"""Anomaly score components: pure functions of tensors, each returning one value per sample [B]."""
import tensorflow as tf

COMPONENTS = ("residual", "discrimination", "feature", "latent")
# Components that only some models return (ALAD, GANomaly, VAEGAN).
MODEL_COMPONENTS = ("dxx_feature", "latent_distance", "kl", "mean_norm")
ALL_COMPONENTS = COMPONENTS + MODEL_COMPONENTS


def residual(x, x_hat):
    """Mean absolute reconstruction error |x - x_hat| over each sample's entries [B]."""
    return tf.reduce_mean(tf.abs(x - x_hat), axis=list(range(1, x.shape.rank)))


def discrimination_bce(logits):
    """Sigmoid cross-entropy of D(x_hat) against the target 1 ('real'): softplus(-logit) [B]."""
    return tf.nn.softplus(-tf.reshape(logits, [-1]))


def feature_matching(features, features_hat):
    """Mean |f(x) - f(x_hat)| of discriminator features [B]."""
    return tf.reduce_mean(tf.abs(features - features_hat), axis=-1)


def latent(z, prior):
    """Negative log-density of ||z|| under the prior's chi model [B]: atypical norms score high."""
    return -prior.norm_log_prob(z)
