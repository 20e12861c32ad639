"""Scorers: map samples to the common dict of per-sample score components."""
import numpy as np
import tensorflow as tf

from tfgad.detection import latent_search, scores
from tfgad.errors import choose


def components(model, x, z, x_hat):
    """The common score components of a batch given its latent codes and reconstructions.

    Returns:
      dict residual, discrimination, feature, latent, each [B].
    """
    logits_hat, features_hat = model.discriminator(x_hat, training=False)
    _, features = model.discriminator(x, training=False)
    return {
        "residual": scores.residual(x, x_hat),
        "discrimination": model.discrimination_score(logits_hat),
        "feature": scores.feature_matching(features, features_hat),
        "latent": scores.latent(z, model.prior),
    }


class AnoGANScorer:
    """Scores by latent search: z* = argmin d(x, G(z)), then the components at x_hat = G(z*)."""

    def __init__(self, model, search):
        self.model, self.search = model, search
        self._components = tf.function(lambda x, z, x_hat: components(model, x, z, x_hat),
                                       reduce_retracing=True)

    def __call__(self, x, seed=(0, 0)):
        found = self.search(x, seed=seed)
        out = self._components(tf.convert_to_tensor(x, tf.float32), found["z"], found["x_hat"])
        out.update(z=found["z"], x_hat=found["x_hat"], search_loss=found["loss"],
                   iterations=found["iterations"])
        return out


def _anogan(config, model):
    feature_fn = lambda x: model.discriminator(x, training=False)[1]
    return AnoGANScorer(model, latent_search.from_config(config, model.generator, model.prior,
                                                         feature_fn))


SCORERS = {"latent_search": _anogan}


def from_config(config, model):
    return choose(SCORERS, config.detection.scorer, "detection.scorer")(config, model)


def score_samples(scorer, x, batch_size, seed=0, progress=None):
    """Scores x in batches; each batch gets its own seed so results do not depend on batching order.

    Returns:
      dict of numpy arrays with a leading axis of len(x).
    """
    parts = []
    for start in range(0, len(x), batch_size):
        out = scorer(x[start:start + batch_size], seed=(seed, start))
        parts.append({k: v.numpy() for k, v in out.items()})
        if progress:
            progress(min(start + batch_size, len(x)), len(x))
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
