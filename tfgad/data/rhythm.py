"""Rhythm context of ECG beats: RR-interval features carried as extra input channels.

A supraventricular beat (AAMI S) usually has a normal shape; what marks it is that it comes
early. A window around one R peak cannot show that, so with data.rhythm_features each beat
carries three log RR ratios as constant extra channels after the signal's own:

  rr_pre    log(RR before the beat / local RR)      premature beats: < 0
  rr_post   log(RR after the beat / local RR)       compensatory pause: > 0
  rr_local  log(local RR / the record's median RR)  runs of fast or slow rhythm
            (streamed: the median RR of the record so far, so that no later beat is needed)

where local RR is the median of the ten RR intervals up to and including the beat's (causal,
and robust to the one early beat). Ratios, not seconds, so that patients with different heart
rates compare. The networks never see these channels (they model the signal); the rhythm
score components are read from them and enter the score composition (detection.components).
"""
import ml_collections
import numpy as np
import tensorflow as tf

COMPONENTS = ("rr_pre", "rr_post", "rr_local")
LOCAL_BEATS = 10  # RR intervals in the local median


def rr_features(peaks: np.ndarray, causal: bool = False) -> np.ndarray:
    """The rhythm features of every beat of a record, from its R-peak sample indices.

    Args:
      peaks: [K] increasing R-peak sample indices of one record.
      causal: rr_local against the median RR of the beats up to this one (a stream), not of
        the whole record. rr_post still needs the next R peak: a beat is scored one beat late.

    Returns:
      [K, 3] float32: rr_pre, rr_post, rr_local (zeros for a record of fewer than 3 beats).
    """
    peaks = np.asarray(peaks, np.float64)
    if len(peaks) < 3:
        return np.zeros((len(peaks), len(COMPONENTS)), np.float32)
    rr = np.maximum(np.diff(peaks), 1.0)
    pre = np.concatenate([[rr[0]], rr])  # the first beat has no RR before it: its next one's
    post = np.concatenate([rr, [rr[-1]]])
    local = np.array([np.median(pre[max(0, i - LOCAL_BEATS + 1):i + 1]) for i in range(len(pre))])
    reference = (np.array([np.median(pre[:i + 1]) for i in range(len(pre))]) if causal
                 else np.median(pre))
    features = np.stack([np.log(pre / local), np.log(post / local),
                         np.log(local / reference)], axis=1)
    return features.astype(np.float32)


def channels(config: ml_collections.ConfigDict) -> int:
    """How many context channels config's samples carry after the signal's (0 or 3)."""
    return len(COMPONENTS) if config.data.rhythm_features else 0


def append(beats: np.ndarray, features: np.ndarray) -> np.ndarray:
    """[K, L, C] beats with the [K, F] features as F constant channels: [K, L, C + F]."""
    tiled = np.broadcast_to(features[:, None, :], (len(beats), beats.shape[1], features.shape[1]))
    return np.concatenate([beats, tiled], axis=-1).astype(np.float32)


def split(x, context: int) -> tuple:
    """Samples x [N, L, C] (numpy or tensor) as (signal [N, L, C - context], the context
    values [N, context]: each context channel's mean over the window, which is constant).
    The one place samples are taken apart: training, scoring, export and the baselines call it."""
    if not context:
        return x, None
    signal = x[..., :-context]
    if isinstance(x, np.ndarray):
        return signal, x[..., -context:].mean(axis=1, dtype=np.float64).astype(x.dtype)
    return signal, tf.reduce_mean(x[..., -context:], axis=1)


def signal_part(x, context: int):
    """The signal channels of samples x [N, L, C] (numpy or tensor) without the context's."""
    return split(x, context)[0]


def signal_shape(sample_shape: tuple, context: int) -> tuple:
    """The sample shape the networks see: the last context channels removed."""
    shape = tuple(sample_shape)
    return shape[:-1] + (shape[-1] - context,) if context else shape


def components(values) -> dict:
    """The rhythm score components of the context values [B, 3] that split gives:
    {rr_pre, rr_post, rr_local} each [B]."""
    return {name: values[:, i] for i, name in enumerate(COMPONENTS)}
