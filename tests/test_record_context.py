"""Records as one concept: whole-record and causal (streaming) baselines, the server's bounded
record store, record scoring with its global fallback, and signal quality."""
import numpy as np
import pytest

from tfgad.configs import default
from tfgad.data import signal_quality
from tfgad.detection import calibration, record_context, record_scoring
from tfgad.errors import UserError

RNG = np.random.default_rng(3)
ECG = {"kind": "ecg_beats", "sampling_rate": 360.0, "rhythm_features": False}


def test_whole_records_are_robust_z_scores_within_each_record():
    raw = np.array([[1.0], [2.0], [3.0], [10.0], [20.0], [30.0]])
    got = record_context.whole_records(raw, [7, 7, 7, 9, 9, 9])
    # median 2 and 20, MAD 1 and 10, times 1.4826 (the MAD of a normal distribution's sd).
    expected = np.array([-1.0, 0.0, 1.0, -1.0, 0.0, 1.0]) / 1.4826
    np.testing.assert_allclose(got.z[:, 0], expected)
    assert list(got.baseline) == ["record"] * 6 and list(got.baseline_beats) == [3] * 6
    # A constant record keeps its scale: minus the median, over 1.
    np.testing.assert_allclose(record_context.whole_records(np.array([[5.0], [5.0]])).z, 0.0)
    with pytest.raises(UserError, match=r"groups has shape \(2,\); give one record id per sample"):
        record_context.whole_records(raw, [1, 2])
    # Too few usable beats: no baseline, and the rows say why.
    short = record_context.whole_records(raw, [7, 7, 7, 9, 9, 9], min_beats=4)
    assert list(short.baseline) == ["too_short"] * 6 and np.isnan(short.z).all()


def test_a_stream_normalizes_each_beat_by_the_usable_beats_before_it():
    raw = np.array([[1.0], [3.0], [2.0], [100.0], [5.0], [4.0]])
    usable = np.array([True, True, True, True, False, True])
    got = record_context.stream(raw, None, record_context.StreamSettings(window=3, warmup=2),
                                usable)
    assert list(got.baseline) == ["warming_up", "warming_up", "stream", "stream", "stream",
                                  "stream"]
    assert list(got.baseline_beats) == [0, 1, 2, 3, 3, 3]
    # Beat 2 over beats 0-1: median 2, MAD 1. Beat 3 over 0-2: median 2, MAD 1. Beat 5 over
    # the window of 3 usable beats before it (3, 2, 100; beat 4 is unusable): median 3, MAD 1.
    np.testing.assert_allclose(got.z[2:, 0], np.array([0.0, 98.0, 2.0, 1.0]) / 1.4826)
    assert np.isnan(got.z[:2]).all()
    # Two records interleaved keep separate histories: the same as each alone.
    both = record_context.stream(np.r_[raw, raw * 2], np.r_[[0] * 6, [1] * 6],
                                 record_context.StreamSettings(3, 2), np.r_[usable, usable])
    np.testing.assert_allclose(both.z[:6], got.z)


def test_beats_sent_one_by_one_to_a_store_equal_the_offline_stream():
    settings = record_context.StreamSettings(window=20, warmup=5)
    raw = RNG.normal(size=(60, 2))
    offline = record_context.stream(raw, None, settings)
    store = record_context.RecordStore(settings, max_records=4)
    online = [store.normalize("A", raw[i:i + 1]) for i in range(60)]
    for other in range(3):  # other records between the beats change nothing
        store.normalize(f"other{other}", RNG.normal(size=(7, 2)))
    z = np.concatenate([o.z for o in online])
    np.testing.assert_allclose(z, offline.z)
    assert [o.baseline[0] for o in online] == list(offline.baseline)


def test_the_record_store_is_bounded_by_count_and_idle_time():
    settings = record_context.StreamSettings(window=4, warmup=1)
    store = record_context.RecordStore(settings, max_records=2, idle_seconds=3600)
    for name in ("a", "b", "c"):
        store.normalize(name, np.ones((2, 1)))
    assert len(store) == 2 and store.evicted == 1
    # "a" was dropped: it starts warming up again.
    assert store.normalize("a", np.ones((1, 1))).baseline[0] == "warming_up"
    assert len(store) == 2 and store.evicted == 2
    for state in store._states.values():  # idle for two hours
        state.last_used -= 7200
    store.normalize("b", np.ones((1, 1)))
    assert list(store._states) == ["b"] and store.evicted == 4
    with pytest.raises(UserError, match="max_records=0"):
        record_context.RecordStore(settings, max_records=0)
    with pytest.raises(UserError, match="record_warmup=9 exceeds detection.record_window=4"):
        record_context.StreamSettings(window=4, warmup=9)


def _robust_calibration(warmup=5):
    config = default.get_config()
    config.detection.normalization = "none"
    config.detection.components = "residual"
    config.detection.weights = {"residual": 1.0}
    config.detection.record_normalization = "robust"
    config.detection.record_warmup = warmup
    offset = np.r_[np.zeros(60), 5 * np.ones(60)]
    labels = np.r_[np.zeros(55), np.ones(5), np.zeros(55), np.ones(5)].astype(int)
    comps = {"residual": offset + RNG.normal(size=120) + 4 * labels}
    return calibration.fit(comps, labels, config, groups=np.r_[[0] * 60, [1] * 60]), comps


def test_beats_without_a_baseline_are_scored_by_the_global_calibration():
    calib, comps = _robust_calibration()
    scored = record_scoring.score(calib, comps, np.r_[[0] * 60, [1] * 60], stream=True)
    cold = scored.baseline == "warming_up"
    assert cold.sum() == 10  # 5 per record
    g = calib["global"]
    expected = comps["residual"][cold] - g["threshold"] + calib["threshold"]
    np.testing.assert_allclose(scored.score[cold], expected)
    np.testing.assert_array_equal(scored.is_anomaly[cold],
                                  comps["residual"][cold] >= g["threshold"])
    # Unusable rows get no score, no flag, and do not enter the baseline.
    usable = np.ones(120, bool)
    usable[20] = False
    masked = record_scoring.score(calib, comps, None, stream=True, usable=usable)
    assert np.isnan(masked.score[20]) and not masked.is_anomaly[20]
    # A record shorter than the warm-up, scored whole, says so and is scored globally.
    short = record_scoring.score(calib, {"residual": comps["residual"][:3]})
    assert set(short.baseline) == {"too_short"} and np.isfinite(short.score).all()
    stale = {k: v for k, v in calib.items() if k != "global"}
    with pytest.raises(UserError, match="run --mode=detect"):
        record_scoring.score(stale, comps, stream=True)


def _beats(count=6, amplitude=1.5, length=200):
    t = np.linspace(-1, 1, length)
    beat = amplitude * np.exp(-(t / 0.05) ** 2) - 0.2 * np.exp(-((t - 0.4) / 0.1) ** 2)
    return np.repeat(beat[None, :, None], count, axis=0).astype(np.float32)


def test_signal_quality_names_flat_clipped_implausible_and_gapped_beats():
    x = _beats(6)
    x[1] = 0.5  # lead off: constant 0.5 mV
    x[2] = np.clip(x[2], None, 0.3)  # saturated: a plateau at the top
    x[3] *= 8.0  # 12 mV peak to peak
    x[4, 50] = np.nan
    quality = signal_quality.assess(x, ECG)
    assert list(quality) == ["ok", "flat", "clipped", "amplitude", "nan_gap", "ok"]
    assert list(signal_quality.usable(quality)) == [True, False, True, True, False, True]
    assert signal_quality.counts(quality) == {"ok": 2, "flat": 1, "nan_gap": 1, "clipped": 1,
                                              "amplitude": 1}
    assert signal_quality.record_verdict(np.array(["flat"] * 34)) == "no_signal"
    assert signal_quality.record_verdict(quality) == "ok"
    # Rhythm channels are context, not signal: a constant RR ratio is not a flat lead.
    with_rr = np.concatenate([_beats(2), np.zeros((2, 200, 3), np.float32)], axis=-1)
    assert list(signal_quality.assess(with_rr, {**ECG, "rhythm_features": True})) == ["ok", "ok"]
    # Other inputs: only NaN gaps (a blank image is not a lead off).
    assert list(signal_quality.assess(np.zeros((2, 8, 8, 1)), {"kind": "images"})) == ["ok", "ok"]
