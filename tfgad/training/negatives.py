"""Generated negatives for one-class training (train.negatives).

No labelled anomaly enters one-class training, so a discriminator learns only "real vs the
generator's samples", and a good generator makes that boundary hug the normal data loosely.
Negatives give it samples that are certainly not normal to reject as well (the review's
"abnormal data included as synthetic data"; minimum likelihood GANs, Wang et al. 2018):

- corruptions: domain corruptions of the real batch (tfgad/data/corruptions.py), near-normal
  samples with a local defect: the discriminator's score learns to separate normal from
  near-normal, which is where one-class detection fails;
- min_likelihood: the generator's samples from the low-density tail of the prior (latent norms
  beyond the prior's tail_quantile), which the generator never trains on.
"""
import functools

import keras
import ml_collections
import numpy as np
import tensorflow as tf

from tfgad.data import corruptions

# Latent norms of the min_likelihood negatives: between the tail quantile's norm and this
# multiple of it.
TAIL_SPAN = 1.5
_NORM_SAMPLES = 20000  # prior draws that estimate the tail quantile of the latent norm


class GeneratedNegatives:
    """What a model's negatives_loss draws from, per train step (model.negatives)."""

    def __init__(self, settings: ml_collections.ConfigDict, prior):
        self.kind, self.weight = settings.kind, float(settings.weight)
        self.tail_norm = None
        if self.kind in ("min_likelihood", "both"):
            norms = np.linalg.norm(prior.sample(_NORM_SAMPLES, seed=[7, 11]).numpy(), axis=1)
            self.tail_norm = float(np.quantile(norms, settings.tail_quantile))

    def draw(self, model, x: tf.Tensor) -> tf.Tensor:
        """Negatives for the real batch x [B, ...] (2B of them for kind=both)."""
        parts = []
        if self.kind in ("corruptions", "both"):
            parts.append(corruptions.corrupt(x, model.next_seed()))
        if self.tail_norm is not None:
            parts.append(model.generator(self.tail_latents(model, tf.shape(x)[0]), training=True))
        return parts[0] if len(parts) == 1 else tf.concat(parts, axis=0)

    def tail_latents(self, model, batch) -> tf.Tensor:
        """batch latents of the prior's directions with norms in the tail span."""
        z = model.sample_latent(batch)
        norm = tf.norm(z, axis=1, keepdims=True) + 1e-6
        span = model.draw_rows(functools.partial(keras.random.uniform, minval=1.0,
                                                 maxval=TAIL_SPAN), batch, 1)
        return z / norm * (self.tail_norm * span)
