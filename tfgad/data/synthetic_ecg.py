"""Deterministic synthetic single-lead ECG beats with labelled anomaly types.

Each beat is a sum of Gaussian waves in time (P, Q, R, S, T), the steady-state form of the
dynamical ECG model of McSharry et al. (2003). Subjects differ in wave amplitudes and widths;
beats differ by heart-rate variability (RR intervals, QT following Bazett), noise and baseline
wander. Windows are cut around the R peak like MIT-BIH beats, so neighbouring beats' T and P
waves enter at the edges.
"""
import ml_collections
import numpy as np

from tfgad.data.types import Samples

SAMPLING_RATE = 360.0
ANOMALY_TYPES = ("wide_premature_qrs", "missing_p", "st_shift", "inverted_t", "noise_burst")

# Wave: (time of the peak relative to R in s at RR = 1 s, amplitude in mV, width in s).
_WAVES = {
    "P": (-0.20, 0.15, 0.025),
    "Q": (-0.025, -0.12, 0.010),
    "R": (0.0, 1.10, 0.011),
    "S": (0.028, -0.25, 0.011),
    "T": (0.30, 0.32, 0.045),
}


def _subject_waves(rng):
    """Per-subject wave parameters: the normal morphology varies between people."""
    waves = {}
    for name, (t, a, w) in _WAVES.items():
        waves[name] = (t * rng.uniform(0.9, 1.1), a * rng.uniform(0.75, 1.25),
                       w * rng.uniform(0.85, 1.15))
    return waves


def _beat(t, waves, rr, qrs_scale=1.0, p_scale=1.0, t_scale=1.0):
    """Sum of Gaussian waves for one beat whose R peak is at t = 0."""
    signal = np.zeros_like(t)
    for name, (t0, a, w) in waves.items():
        if name in ("P",):
            a = a * p_scale
        if name == "T":
            a, t0, w = a * t_scale, t0 * np.sqrt(rr), w * np.sqrt(rr)  # Bazett: QT ~ sqrt(RR)
        if name in ("Q", "R", "S"):
            t0, w = t0 * qrs_scale, w * qrs_scale
        signal += a * np.exp(-((t - t0) ** 2) / (2 * w ** 2))
    return signal


# Where a beat's noise-free shape differs from its normal form by more than this (mV), the
# anomaly's region (the points a map should mark).
REGION_MV = 0.03


def _window(rng, waves, length, r_index, mean_rr, kind):
    """One window around an R peak, with the previous and next beats' waves at the edges,
    and the anomaly's region in it: [length] bool, where the anomaly changed the signal."""
    t = (np.arange(length) - r_index) / SAMPLING_RATE
    rr_prev = mean_rr * rng.normal(1.0, 0.05)
    rr_next = mean_rr * rng.normal(1.0, 0.05)
    kwargs = {}
    if kind == "wide_premature_qrs":
        # Ventricular ectopic: early, wide and tall QRS, no P wave, discordant T.
        rr_prev *= rng.uniform(0.55, 0.75)
        rr_next = mean_rr * 2 - rr_prev  # compensatory pause
        kwargs = dict(qrs_scale=rng.uniform(2.2, 3.2), p_scale=0.0, t_scale=-rng.uniform(1.2, 2.0))
    elif kind == "missing_p":
        kwargs = dict(p_scale=0.0)
        rr_prev *= rng.uniform(0.7, 1.3)  # irregular rhythm as in atrial fibrillation
    elif kind == "inverted_t":
        kwargs = dict(t_scale=-rng.uniform(0.6, 1.2))
    signal = _beat(t, waves, rr_prev, **kwargs)
    region = np.abs(signal - _beat(t, waves, rr_prev)) > REGION_MV
    signal += _beat(t + rr_prev, waves, rr_prev)  # previous beat
    signal += _beat(t - rr_next, waves, rr_next)  # next beat
    if kind == "st_shift":
        # Elevation or depression of the ST segment, between S and T.
        s_end, t_peak = 0.06, waves["T"][0] * np.sqrt(rr_prev)
        ramp = np.clip((t - s_end) / 0.02, 0, 1) * np.clip((t_peak + 0.05 - t) / 0.05, 0, 1)
        signal += rng.choice([-1.0, 1.0]) * rng.uniform(0.15, 0.3) * ramp
        region = ramp * 0.15 > REGION_MV
    # Baseline wander (respiration, movement) and measurement noise.
    phase = rng.uniform(0, 2 * np.pi)
    signal += rng.uniform(0.0, 0.08) * np.sin(2 * np.pi * rng.uniform(0.15, 0.4) * t + phase)
    signal += rng.normal(0.0, 0.01, size=length)
    if kind == "noise_burst":
        start = rng.integers(0, length // 2)
        stop = start + rng.integers(length // 6, length // 3)
        signal[start:stop] += rng.normal(0.0, rng.uniform(0.08, 0.2), size=stop - start)
        region = np.zeros(length, bool)
        region[start:stop] = True
    return signal, region


def load(config: ml_collections.ConfigDict) -> Samples:
    """Generates the data set described by config.data; the same config gives the same data."""
    return load_with_regions(config)[0]


def load_with_regions(config: ml_collections.ConfigDict) -> tuple[Samples, np.ndarray]:
    """load's samples and each beat's anomaly region [N, length] bool (all False for normal
    beats): the ground truth of point-level map evaluation."""
    cfg = config.data
    if cfg.length < 32:
        raise ValueError(f"data.length={cfg.length} is too short for a beat; use 32 or more")
    rng = np.random.default_rng(config.seed + 1234)
    r_index = int(round(cfg.length * cfg.window_before / (cfg.window_before + cfg.window_after)))
    # Windows span about 0.9 s like BeatGAN's 320 samples at 360 Hz, at any length.
    time_scale = 320.0 / cfg.length
    xs, ys, groups, classes, regions = [], [], [], [], []
    for subject in range(cfg.num_subjects):
        waves = _subject_waves(rng)
        mean_rr = rng.uniform(0.7, 1.1)
        for _ in range(cfg.beats_per_subject):
            anomalous = rng.random() < cfg.anomaly_rate
            kind = ANOMALY_TYPES[rng.integers(len(ANOMALY_TYPES))] if anomalous else "normal"
            full, region = _window(rng, waves, 320, int(round(r_index * time_scale)), mean_rr,
                                   kind)
            points = np.arange(cfg.length) * time_scale
            xs.append(np.interp(points, np.arange(320), full))
            regions.append(np.interp(points, np.arange(320), region.astype(float)) > 0.5)
            ys.append(int(anomalous))
            groups.append(subject)
            classes.append(kind)
    x = np.stack(xs).astype(np.float32)[..., None]
    return Samples(x, np.array(ys), np.array(groups), np.array(classes)), np.stack(regions)
