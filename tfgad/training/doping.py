"""Tail oversampling (DOPING, Lim et al. 2018; train.doping).

The usual false positives of one-class detection are the rare normal samples near the edge of
the normal distribution: the model saw few of them and reconstructs them poorly. DOPING fits
a Gaussian to the latent codes of the training split (the encoder's codes; the prior for the
families that have none), draws latents whose whitened radius lies between two quantiles of
the codes' own radii (the edge: rarer than most training samples, not outside the data), and
adds the generator's samples of them to the training split as normal for a few more epochs.
"""
import ml_collections
import numpy as np
import tensorflow as tf

from tfgad.data import pipeline

_BATCH = 512


def _codes(model, x: np.ndarray, seed: int) -> np.ndarray:
    if model.HAS_ENCODER:
        return np.concatenate([model.encode(tf.constant(x[i:i + _BATCH])).numpy()
                               for i in range(0, len(x), _BATCH)])
    return model.prior.sample(len(x), seed=[seed, 3]).numpy()


def tail_latents(codes: np.ndarray, n: int, low_quantile: float, high_quantile: float,
                 seed: int) -> np.ndarray:
    """n latents of the Gaussian fit to codes [N, d], with whitened radii drawn uniformly
    between the low and high quantiles of the codes' own whitened radii."""
    codes = np.asarray(codes, np.float64)
    mean = codes.mean(axis=0)
    covariance = np.cov(codes, rowvar=False).reshape(codes.shape[1], codes.shape[1])
    factor = np.linalg.cholesky(covariance + 1e-6 * np.eye(len(mean)))
    radii = np.linalg.norm(np.linalg.solve(factor, (codes - mean).T), axis=0)
    low, high = np.quantile(radii, [low_quantile, high_quantile])
    rng = np.random.default_rng(seed)
    directions = rng.standard_normal((n, len(mean)))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    whitened = directions * rng.uniform(low, high, (n, 1))
    return (mean + whitened @ factor.T).astype(np.float32)


def tail_samples(model, train_x: np.ndarray, settings: ml_collections.ConfigDict,
                 seed: int) -> np.ndarray:
    """The generated edge samples for one model (settings: train.doping)."""
    n = int(round(settings.fraction * len(train_x)))
    z = tail_latents(_codes(model, train_x, seed), n, settings.low_quantile,
                     settings.high_quantile, seed)
    return np.concatenate([model.generator(tf.constant(z[i:i + _BATCH])).numpy()
                           for i in range(0, n, _BATCH)]) if n else train_x[:0]


def oversample_tail(model, train_x: np.ndarray, config: ml_collections.ConfigDict) -> int:
    """Trains model (an ensemble: each member's tail) train.doping.epochs more epochs on
    train_x with its tail samples added; returns how many were added."""
    settings = config.train.doping
    members = getattr(model, "members", None) or [model]
    tails = [tail_samples(m, train_x, settings, config.seed + i) for i, m in enumerate(members)]
    tail = np.concatenate(tails).astype(train_x.dtype)
    if not len(tail):
        return 0
    dataset = pipeline.training_dataset(np.concatenate([train_x, tail]), config.train.batch_size,
                                        config.seed + 1)
    model.fit(dataset, epochs=settings.epochs, verbose=0, shuffle=False)
    return len(tail)
