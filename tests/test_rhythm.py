"""Rhythm context of ECG beats: RR features by hand, the extra channels, the scorer that keeps
them from the networks and adds them as components, and a record scored end to end."""
import csv
import os

import numpy as np
import pytest
import tensorflow as tf

import tfgad
from tests.conftest import MITDB
from tfgad import data, models, priors
from tfgad.training import config_checks
from tfgad import run
from tfgad.data import mitbih, rhythm
from tfgad.detection import scorer as scorer_lib
from tfgad.errors import UserError
from tfgad.detection import subsets

COMPONENTS = "residual,discrimination,feature,latent,rr_pre,rr_post,rr_local"


def test_rr_features_by_hand():
    # RR intervals 100, 100, 60 (an early beat), 140 (its pause), 100: local and record RR 100.
    features = rhythm.rr_features(np.array([0, 100, 200, 260, 400, 500]))
    early, pause = np.log(0.6), np.log(1.4)
    np.testing.assert_allclose(features[:, 0], [0, 0, 0, early, pause, 0], atol=1e-6)
    np.testing.assert_allclose(features[:, 1], [0, 0, early, pause, 0, 0], atol=1e-6)
    np.testing.assert_allclose(features[:, 2], 0, atol=1e-6)
    assert features.dtype == np.float32


def test_local_rr_follows_a_change_of_rate_and_the_record_median_does_not():
    # 12 beats at RR 100, then 12 at RR 50: the last beats' local RR is 50, the record's 75.
    peaks = np.concatenate([np.arange(0, 1200, 100), 1100 + np.arange(1, 13) * 50])
    features = rhythm.rr_features(peaks)
    assert features[-1, 0] == pytest.approx(0.0, abs=1e-6)  # on time for the new rate
    assert features[-1, 2] == pytest.approx(np.log(50 / 75), abs=1e-6)
    assert features[0, 2] == pytest.approx(np.log(100 / 75), abs=1e-6)


def test_records_of_fewer_than_three_beats_get_zero_features():
    assert rhythm.rr_features(np.array([10, 300])).tolist() == [[0, 0, 0], [0, 0, 0]]
    assert rhythm.rr_features(np.array([], np.int64)).shape == (0, 3)


def test_beat_inputs_carry_the_features_of_the_kept_beats_as_constant_channels():
    signal = np.sin(np.arange(2000) / 10.0).astype(np.float32)
    peaks = np.array([5, 400, 800, 1000, 1500, 1990])  # the first and last are too near an edge
    beats, keep = mitbih.beat_inputs(signal, peaks, 20, 30, rhythm_features=True)
    plain, plain_keep = mitbih.beat_inputs(signal, peaks, 20, 30)
    assert keep.tolist() == plain_keep.tolist() == [1, 2, 3, 4]
    assert beats.shape == (4, 50, 4) and plain.shape == (4, 50, 1)
    np.testing.assert_array_equal(beats[..., :1], plain)
    # Computed from every peak, also the dropped ones: beat 1's RR before it is 395.
    expected = rhythm.rr_features(peaks)[keep]
    np.testing.assert_allclose(beats[:, 0, 1:], expected)
    np.testing.assert_allclose(beats[:, -1, 1:], expected)


def _rhythm_config(test_config):
    test_config.model.name = "aegan"
    test_config.data.rhythm_features = True
    test_config.detection.combiner = "svm"
    test_config.detection.components = COMPONENTS
    return test_config


def test_rhythm_features_need_beats_of_records(test_config):
    test_config.data.rhythm_features = True  # on the synthetic ECG, which has no R peaks
    with pytest.raises(UserError, match="data.rhythm_features needs R peaks, i.e. data.name=mitbih"):
        config_checks.validate(test_config)


def test_rhythm_components_need_the_rhythm_features(test_config):
    test_config.model.name = "aegan"
    test_config.detection.components = "residual,rr_pre"
    with pytest.raises(UserError, match="'rr_pre' is not a score component of model.name=aegan"):
        config_checks.validate(test_config)


def test_the_networks_see_the_signal_and_the_scorer_adds_the_rhythm(test_config):
    config = _rhythm_config(test_config)
    model = models.build(config, (64, 4), priors.from_config(config))
    assert model.generator.output_shape == (None, 64, 1)
    x = np.random.default_rng(0).normal(size=(5, 64, 4)).astype(np.float32)
    x[..., 1:] = np.array([-0.5, 1.0, 2.0], np.float32)  # constant context channels
    scorer = scorer_lib.from_config(config, model)
    out = scorer(x)
    inner = scorer_lib.EncoderScorer(model, jit_compile=False)(x[..., :1])
    np.testing.assert_allclose(out["residual"].numpy(), inner["residual"].numpy(), rtol=1e-6)
    assert out["x_hat"].shape == (5, 64, 1)
    np.testing.assert_allclose(out["rr_pre"].numpy(), -0.5)
    np.testing.assert_allclose(out["rr_post"].numpy(), 1.0)
    np.testing.assert_allclose(out["rr_local"].numpy(), 2.0)
    assert scorer.settings() == {"scorer": "encoder", "jit_compile": False, "context_channels": 3}


@pytest.fixture(scope="module")
def rhythm_run(tmp_path_factory):
    """A tiny AE-GAN with rhythm features trained on two MIT-BIH records, exported."""
    if not os.path.isdir(MITDB):
        pytest.skip("MIT-BIH copy not found")
    from tfgad.configs import test
    config = _rhythm_config(test.get_config())
    config.data.name, config.data.dir = "mitbih", MITDB
    config.data.records, config.data.max_samples = "101,103,119", 1500
    config.train.epochs = 1
    # As configs/ecg_rhythm.py: an ensemble, composed by boosted trees.
    config.model.ensemble, config.detection.combiner = 2, "boosted"
    config.export.dir = str(tmp_path_factory.mktemp("saved"))
    config.export.name = "rhythm"
    workdir = str(tmp_path_factory.mktemp("run"))
    return config, workdir, run.train_and_evaluate(config, workdir, "all")


def test_a_rhythm_run_exports_what_it_evaluated(rhythm_run):
    config, workdir, result = rhythm_run
    calib = result["calibration"]
    assert calib["combined_components"] == COMPONENTS.split(",") + ["spread"]
    assert calib["combiner"]["kind"] == "boosted" and "rr_pre_m1" in calib["components"]
    assert result["scoring"]["member"]["context_channels"] == 3
    # Premature beats are what the rhythm is for: on these records it ranks them on its own.
    assert result["components_test"]["rr_pre_m0"]["auroc"] < 0.5  # early: negative rr_pre
    with open(os.path.join(workdir, "scores.csv")) as f:
        rows = list(csv.DictReader(f))
    splits, _ = data.load_splits(config, normalize=False)
    test_x = subsets.scored_subsets(config, splits)[1].x[:16]
    assert test_x.shape[1:] == (64, 4)
    served = tfgad.load(result["export_path"]).score(test_x)
    np.testing.assert_allclose(served.score, [float(r["score"]) for r in rows[:16]],
                               rtol=1e-4, atol=1e-4)
    loaded = tf.saved_model.load(result["export_path"])
    assert loaded.signatures["encode"](x=tf.constant(test_x))["z"].shape == (16, 8)
    assert loaded.signatures["latent_search"](x=tf.constant(test_x))["x_hat"].shape == (16, 64, 1)


def test_a_new_record_gets_its_rhythm_channels_as_in_training(rhythm_run):
    config, _, result = rhythm_run
    detector = tfgad.load(result["export_path"])
    assert detector.input["rhythm_features"] is True
    beats = detector.score_record(os.path.join(MITDB, "100"))[0]
    signal, peaks, _ = mitbih.read_record(os.path.join(MITDB, "100"), "MLII", True)
    expected, keep = mitbih.beat_inputs(signal, peaks, config.data.window_before,
                                        config.data.window_after, rhythm_features=True)
    assert beats.x.shape == expected.shape
    np.testing.assert_allclose(beats.x, expected, atol=1e-6)
    assert beats.peaks.tolist() == peaks[keep].tolist()


def test_samples_are_split_into_signal_and_context_in_one_place():
    import tensorflow as tf
    x = np.concatenate([np.arange(12, dtype=np.float32).reshape(2, 6, 1),
                        np.broadcast_to(np.array([[[0.5, -1.0, 2.0]], [[1.5, 0.0, -2.0]]],
                                                 np.float32), (2, 6, 3))], axis=-1)
    signal, values = rhythm.split(x, 3)
    assert signal.shape == (2, 6, 1)
    np.testing.assert_allclose(values, [[0.5, -1.0, 2.0], [1.5, 0.0, -2.0]])
    tf_signal, tf_values = rhythm.split(tf.constant(x), 3)
    np.testing.assert_allclose(tf_values.numpy(), values)
    np.testing.assert_array_equal(tf_signal.numpy(), signal)
    assert rhythm.split(x[..., :1], 0)[1] is None
    assert list(rhythm.components(values)) == ["rr_pre", "rr_post", "rr_local"]
