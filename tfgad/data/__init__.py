"""Data sources and splits: numpy arrays in, normalized train/val/test Samples out."""
import ml_collections
import numpy as np

from tfgad.data import arrays, digits, mitbih, mnist_png, normalization, splits, synthetic_ecg
from tfgad.data.types import Samples
from tfgad.errors import UserError, choose

SOURCES = {
    "synthetic_ecg": synthetic_ecg.load,
    "mitbih": mitbih.load,
    "digits": digits.load,
    "mnist_png": mnist_png.load,
    "arrays": arrays.load,
}
PROTOCOLS = ("intra", "inter")


def check_finite(x: np.ndarray, where: str) -> None:
    """Raises UserError naming how many samples of x [N, ...] hold NaN or inf, and the first."""
    bad = ~np.isfinite(x).reshape(len(x), -1).all(axis=1)
    if bad.any():
        raise UserError(f"{where}: {bad.sum()} samples hold NaN or inf (first at index "
                        f"{np.flatnonzero(bad)[0]}); clean or drop them")


def check_samples(x, sample_shape: tuple | None = None, name: str = "samples") -> np.ndarray:
    """x as float32 [N, *sample_shape], checked: numbers, finite, one sample shape. A series
    [N, L] gets its one channel added. With sample_shape None, any [N, L, C] series or
    [N, H, W, C] image batch is taken."""
    x = np.asarray(x)
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool) \
            or np.issubdtype(x.dtype, np.complexfloating):
        raise UserError(f"{name} have dtype {x.dtype}; the model needs real numbers")
    x = x.astype(np.float32)
    expected_rank = 3 if sample_shape is None else len(sample_shape) + 1
    if x.ndim == expected_rank - 1 and (sample_shape is None or sample_shape[-1] == 1):
        x = x[..., None]
    if sample_shape is None and x.ndim not in (3, 4):
        raise UserError(f"{name} have shape {x.shape}; give series as [N, length] or "
                        "[N, length, channels], images as [N, height, width, channels]")
    if sample_shape is not None and x.shape[1:] != tuple(sample_shape):
        raise UserError(f"{name} have shape {tuple(x.shape[1:])}; the model expects "
                        f"{tuple(sample_shape)} per sample (input of shape [N, "
                        f"{', '.join(map(str, sample_shape))}])")
    if len(x) == 0:
        raise UserError(f"{name} hold no samples (shape {x.shape}); give at least one")
    check_finite(x, name)
    return x


def load_source(config: ml_collections.ConfigDict) -> Samples:
    """All samples of config.data's source, checked for NaN and inf."""
    samples = choose(SOURCES, config.data.name, "data.name")(config)
    check_finite(samples.x, f"data source {config.data.name!r}")
    return samples


def load_splits(config: ml_collections.ConfigDict, normalize: bool = True,
                samples: Samples | None = None) -> tuple:
    """Loads config.data's source, splits it and normalizes with train statistics.

    normalize=False returns the raw samples (and still the parameters), e.g. for requests to
    an exported model, which normalizes in its graph. samples: the source's samples if already
    loaded with load_source (benchmarks split one read by several seeds).

    Returns:
      ({"train", "val", "test"}: Samples, normalization params).
    """
    cfg = config.data
    if samples is None:
        samples = load_source(config)
    samples = splits.stratified_subset(samples, cfg.max_samples, config.seed)
    protocol = choose({p: p for p in PROTOCOLS}, cfg.protocol, "data.protocol")
    if protocol == "intra":
        parts = splits.intra(samples, cfg, config.seed)
    else:
        test_groups = [int(r) for r in mitbih.DS2] if cfg.name == "mitbih" else None
        parts = splits.inter(samples, cfg, config.seed, test_groups)
    params = normalization.fit(cfg.normalization, parts["train"].x)
    if normalize:
        for split in parts.values():
            split.x = normalization.apply(params, split.x)
    return parts, params


def describe_input(config: ml_collections.ConfigDict, sample_shape: tuple) -> dict:
    """How raw samples for this model are made, for exports: new data must be made the same way.

    kind "ecg_beats": beats cut around R peaks of a WFDB record's lead (with the window, the
    baseline removal and the sampling rate below); "images": pixel values times pixel_scale,
    grey when the model has one channel; "arrays": samples as the source gave them.
    """
    d = config.data
    description = {"source": d.name, "sample_shape": [int(n) for n in sample_shape]}
    if d.name == "mitbih":
        description.update(kind="ecg_beats", lead=d.lead, sampling_rate=mitbih.SAMPLING_RATE,
                           window_before=int(d.window_before), window_after=int(d.window_after),
                           remove_baseline=bool(d.remove_baseline),
                           rhythm_features=d.rhythm_features)
    elif d.name in ("digits", "mnist_png"):
        description.update(kind="images", pixel_scale=1.0 / 255.0)  # both sources are in [0, 1]
    else:
        description.update(kind="arrays")
    return description


__all__ = ["Samples", "SOURCES", "load_source", "load_splits", "check_finite", "check_samples",
           "describe_input", "UserError"]
