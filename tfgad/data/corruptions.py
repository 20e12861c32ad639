"""Domain corruptions of normal samples: synthetic near-normal negatives.

One-class training sees no anomaly; these give it some that look like the anomalies of the
domain without being any real one (the review's "abnormal data included during training as
synthetic data"). Series [B, T, C] get one of local noise, a spike, a baseline shift or a time
warp over a random stretch; images [B, H, W, C] get a noise patch, a flat patch or a blur. Each
sample draws its kind and its stretch; amplitudes are relative to the sample's own spread, so
the corruptions mean the same on any normalization.

Everything is TensorFlow and vectorized, so that a train_step can corrupt its batch in the
graph; `corrupt_numpy` serves calibration and benchmarks.

>>> import numpy as np
>>> x = np.zeros((4, 64, 1), np.float32) + np.sin(np.linspace(0, 6, 64))[None, :, None]
>>> y = corrupt_numpy(x, seed=0)
>>> y.shape, bool(np.isfinite(y).all()), bool((np.abs(y - x).max(axis=(1, 2)) > 0.1).all())
((4, 64, 1), True, True)
"""
import numpy as np
import tensorflow as tf

SERIES_KINDS = ("local_noise", "spike", "baseline_shift", "warp")
IMAGE_KINDS = ("noise_patch", "flat_patch", "blur")
# A corrupted stretch covers this share of the series (of the image side for a patch).
STRETCH = (0.08, 0.3)
PATCH = (0.2, 0.45)


def corrupt(x: tf.Tensor, seed) -> tf.Tensor:
    """One random corruption of each sample of x (series [B, T, C] or images [B, H, W, C]);
    seed: a stateless seed [2] (int32)."""
    x = tf.convert_to_tensor(x, tf.float32)
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 8)
    if x.shape.rank == 3:
        variants = _series_variants(x, seeds)
    elif x.shape.rank == 4:
        variants = _image_variants(x, seeds)
    else:
        raise ValueError(f"corrupt takes series [B, T, C] or images [B, H, W, C]; got shape "
                         f"{x.shape}")
    batch = tf.shape(x)[0]
    choice = tf.random.stateless_uniform([batch], seeds[0], 0, len(variants), tf.int32)
    stacked = tf.stack(variants, axis=0)  # [K, B, ...]
    return tf.gather(tf.transpose(stacked, [1, 0] + list(range(2, x.shape.rank + 1))),
                     choice, batch_dims=1)


def corrupt_numpy(x: np.ndarray, seed: int, batch_size: int = 1024) -> np.ndarray:
    """corrupt on a numpy array, in batches; the same seed gives the same corruptions."""
    parts = [corrupt(x[start:start + batch_size], tf.constant([seed, start], tf.int64)).numpy()
             for start in range(0, len(x), batch_size)]
    return np.concatenate(parts) if parts else np.asarray(x, np.float32).copy()


def _uniform(seed, batch, low, high):
    return tf.random.stateless_uniform([batch], seed, low, high)


def _spread(x):
    """Each sample's standard deviation, broadcastable against x."""
    axes = list(range(1, x.shape.rank))
    return tf.math.reduce_std(x, axis=axes, keepdims=True) + 1e-3


def _signs(seed, batch):
    return tf.where(_uniform(seed, batch, 0.0, 1.0) < 0.5, -1.0, 1.0)


def _series_variants(x, seeds):
    batch, length = tf.shape(x)[0], tf.shape(x)[1]
    t = tf.cast(tf.range(length), tf.float32)[None, :]  # [1, T]
    n = tf.cast(length, tf.float32)
    centre = _uniform(seeds[1], batch, 0.0, 1.0)[:, None] * n
    width = _uniform(seeds[2], batch, *STRETCH)[:, None] * n
    inside = tf.cast(tf.abs(t - centre) < width / 2, tf.float32)[:, :, None]  # [B, T, 1]
    bump = tf.exp(-0.5 * tf.square((t - centre) / (width / 4)))[:, :, None]
    spread = _spread(x)
    amplitude = _uniform(seeds[3], batch, 1.0, 3.0)[:, None, None] * spread
    sign = _signs(seeds[4], batch)[:, None, None]
    noise = tf.random.stateless_normal(tf.shape(x), seeds[5])
    narrow = tf.exp(-0.5 * tf.square((t - centre) / tf.maximum(width / 12, 1.0)))[:, :, None]
    local_noise = x + inside * noise * 0.5 * amplitude
    spike = x + sign * 1.5 * amplitude * narrow
    baseline_shift = x + sign * 0.5 * amplitude * inside
    # Time warp: the stretch is read from positions displaced by a quarter to half its width.
    shift = sign[:, :, 0] * _uniform(seeds[6], batch, 0.25, 0.5)[:, None] * width
    positions = tf.clip_by_value(t + shift * bump[:, :, 0], 0.0, n - 1.0)
    return [local_noise, spike, baseline_shift, _resample(x, positions)]


def _resample(x, positions):
    """x [B, T, C] read at fractional positions [B, T], by linear interpolation."""
    low = tf.floor(positions)
    frac = (positions - low)[:, :, None]
    low = tf.cast(low, tf.int32)
    high = tf.minimum(low + 1, tf.shape(x)[1] - 1)
    return ((1.0 - frac) * tf.gather(x, low, batch_dims=1)
            + frac * tf.gather(x, high, batch_dims=1))


def _image_variants(x, seeds):
    batch, height, width = tf.shape(x)[0], tf.shape(x)[1], tf.shape(x)[2]
    rows = tf.cast(tf.range(height), tf.float32)[None, :, None, None]
    cols = tf.cast(tf.range(width), tf.float32)[None, None, :, None]
    h, w = tf.cast(height, tf.float32), tf.cast(width, tf.float32)
    side = _uniform(seeds[1], batch, *PATCH)[:, None, None, None] * tf.minimum(h, w)
    top = _uniform(seeds[2], batch, 0.0, 1.0)[:, None, None, None] * (h - side)
    left = _uniform(seeds[3], batch, 0.0, 1.0)[:, None, None, None] * (w - side)
    patch = tf.cast((rows >= top) & (rows < top + side) & (cols >= left) & (cols < left + side),
                    tf.float32)
    low = tf.reduce_min(x, axis=[1, 2, 3], keepdims=True)
    high = tf.reduce_max(x, axis=[1, 2, 3], keepdims=True)
    noise = low + (high - low) * tf.random.stateless_uniform(tf.shape(x), seeds[4])
    level = low + (high - low) * _uniform(seeds[5], batch, 0.0, 1.0)[:, None, None, None]
    blurred = tf.nn.avg_pool2d(x, 3, 1, "SAME")
    return [patch * noise + (1 - patch) * x, patch * level + (1 - patch) * x,
            0.5 * (blurred + tf.nn.avg_pool2d(blurred, 3, 1, "SAME"))]
