"""Anomaly score components: pure functions of tensors, each returning one value per sample [B].

The scorer contract: every scorer returns a dict with the COMMON_COMPONENTS, the model
family's own components (declared by the model class, see models.base), and DIAGNOSTICS,
which are per-sample outputs that are not scores.
"""
import tensorflow as tf

COMMON_COMPONENTS = ("residual", "discrimination", "feature", "latent")
# Per-sample outputs that are not anomaly scores: the latent code, the reconstruction and,
# for latent search, the loss reached and the steps taken.
DIAGNOSTICS = ("z", "x_hat", "search_loss", "iterations")


def residual(x: tf.Tensor, x_hat: tf.Tensor) -> tf.Tensor:
    """Mean absolute reconstruction error |x - x_hat| over each sample's entries [B]."""
    return tf.reduce_mean(tf.abs(x - x_hat), axis=list(range(1, x.shape.rank)))


def discrimination_bce(logits: tf.Tensor) -> tf.Tensor:
    """Sigmoid cross-entropy of D(x_hat) [B, 1] against the target 1 ('real'): softplus(-logit) [B]."""
    return tf.nn.softplus(-tf.reshape(logits, [-1]))


def feature_matching(features: tf.Tensor, features_hat: tf.Tensor) -> tf.Tensor:
    """Mean |f(x) - f(x_hat)| of discriminator features [B, F] -> [B]."""
    return tf.reduce_mean(tf.abs(features - features_hat), axis=-1)


def latent(z: tf.Tensor, prior) -> tf.Tensor:
    """Negative log-density of ||z|| [B, d] under the prior's chi model [B]: atypical norms score high."""
    return -prior.norm_log_prob(z)


def component_names(outputs: dict) -> list:
    """The score components among a scorer's outputs (every key that is not a diagnostic)."""
    return [k for k in outputs if k not in DIAGNOSTICS]
