"""One-class calibration with generated negatives (detection.one_class=negatives).

With no labelled anomaly in validation, the fitted combiners (svm, boosted, grid) and the
labelled threshold rules have nothing to fit on, and the one-class rules fall back to fixed
weights and a percentile. Instead, validation gets negatives: domain corruptions
(tfgad/data/corruptions.py) of a share of its normal samples, labelled anomalous, so that the
combiner learns which components separate normal from near-normal and the threshold is fit
between them. The normal samples themselves are untouched: the normalization of the components,
the percentile and the conformal reference still come from them alone.
"""
import ml_collections
import numpy as np

from tfgad.data import corruptions, rhythm
from tfgad.data.types import Samples

# Negatives per normal validation sample: few enough that a record's median and MAD (the
# per-record normalization) stay the normal beats'.
NEGATIVE_SHARE = 0.25
GENERATED_CLASS = "generated"


# Below this many normal validation samples (a fifth of them as negatives: too few for the
# fitted combiners; boosted trees' leaves need 20 samples) the one-class rules serve instead.
# Measured: digits, about 30 normal validation images, 7 negatives: boosted trees gave every
# sample one score (AUROC 0.5).
MIN_NORMAL_SAMPLES = 80


def needs_negatives(config: ml_collections.ConfigDict, val: Samples) -> bool:
    return config.detection.one_class == "negatives" and not val.y.any()


def enough_for_negatives(val: Samples) -> bool:
    return int((val.y == 0).sum()) >= MIN_NORMAL_SAMPLES


def with_negatives(val: Samples, config: ml_collections.ConfigDict) -> Samples:
    """val with corruptions of NEGATIVE_SHARE of its normal samples appended (label 1, class
    "generated", the group of their source); context channels (rhythm) stay as they were."""
    rng = np.random.default_rng(config.seed + 17)
    normal = np.flatnonzero(val.y == 0)
    chosen = np.sort(rng.choice(normal, max(1, int(round(NEGATIVE_SHARE * len(normal)))),
                                replace=False))
    x = val.x[chosen].copy()
    context = rhythm.channels(config)
    corrupted = corruptions.corrupt_numpy(rhythm.signal_part(x, context), config.seed + 17)
    if context:
        # Half the negatives keep a normal shape and come early instead (what marks most
        # supraventricular beats); the others change shape with the rhythm left as it was.
        early = rng.random(len(x)) < 0.5
        x[~early, :, :-context] = corrupted[~early]
        x[early] = premature(x[early], val.x[normal], context, rng)
    else:
        x = corrupted
    negatives = Samples(x, np.ones(len(x), np.int8), val.groups[chosen],
                        np.full(len(x), GENERATED_CLASS))
    return Samples.concatenate([val, negatives])


def premature(x: np.ndarray, normal_x: np.ndarray, context: int,
              rng: np.random.Generator) -> np.ndarray:
    """x's beats with their rhythm channels (rhythm.COMPONENTS: rr_pre, rr_post, rr_local)
    moved as a premature beat's: the RR before shorter, the one after longer, each by 2 to 5
    (1 to 4) of the normal beats' spreads of that channel, whatever its normalization."""
    values = rhythm.split(normal_x, context)[1]
    spread = values.std(axis=0) + 1e-6
    shift = np.zeros((len(x), context), np.float32)
    shift[:, 0] = -rng.uniform(2.0, 5.0, len(x)) * spread[0]
    shift[:, 1] = rng.uniform(1.0, 4.0, len(x)) * spread[1]
    moved = x.copy()
    moved[..., -context:] += shift[:, None, :]
    return moved
