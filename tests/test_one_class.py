"""One-class learning without labels: domain corruptions, generated negatives in training,
tail oversampling (DOPING) and calibration against generated negatives."""
import numpy as np
import pytest
import tensorflow as tf

import tfgad
from tfgad import models, priors
from tfgad.data import corruptions, rhythm
from tfgad.data.types import Samples
from tfgad.detection import one_class
from tfgad.training import config_checks, doping, negatives
from tfgad.errors import UserError


def sine_beats(n=8, length=64):
    t = np.linspace(0, 2 * np.pi, length)
    return np.stack([np.sin(t + 0.1 * i) for i in range(n)])[:, :, None].astype(np.float32)


def test_corruptions_are_seeded_local_and_change_every_sample():
    x = sine_beats(32)
    a, b = corruptions.corrupt_numpy(x, 3), corruptions.corrupt_numpy(x, 3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, corruptions.corrupt_numpy(x, 4))
    change = np.abs(a - x)[..., 0]
    assert (change.max(axis=1) > 0.05).all()  # each sample is visibly corrupted ...
    # ... over a stretch, not everywhere: at most ~30 % of the steps move by over 0.05
    # (spikes and warps: less; a local defect, not a new beat).
    assert np.median((change > 0.05).mean(axis=1)) < 0.35


def test_image_corruptions_keep_the_range_and_the_blur_is_an_average():
    rng = np.random.default_rng(0)
    x = rng.random((16, 8, 8, 1)).astype(np.float32)
    y = corruptions.corrupt_numpy(x, 0)
    assert y.shape == x.shape and y.min() >= 0.0 and y.max() <= 1.0
    flat = np.ones((1, 8, 8, 1), np.float32)
    blurred = corruptions._image_variants(tf.constant(flat), tf.zeros([8, 2], tf.int64))[2]
    # Averaging a constant image inside gives the constant (SAME pads are left out of avg_pool).
    np.testing.assert_allclose(blurred.numpy(), flat, atol=1e-6)
    with pytest.raises(ValueError, match=r"series \[B, T, C\] or images"):
        corruptions.corrupt(np.zeros((4, 8), np.float32), [0, 0])


def test_min_likelihood_latents_lie_beyond_the_priors_tail_quantile():
    config = tfgad.sections.default_config()
    config.model.latent_dim = 16
    settings = config.train.negatives
    settings.kind, settings.tail_quantile = "min_likelihood", 0.99
    prior = priors.Prior("normal", 16)
    source = negatives.GeneratedNegatives(settings, prior)
    # The chi(16) 0.99 quantile is 5.7 (scipy.stats.chi.ppf(0.99, 16) = 5.71).
    assert source.tail_norm == pytest.approx(5.71, abs=0.1)
    model = models.build(config, (32, 1), prior)
    norms = np.linalg.norm(source.tail_latents(model, 256).numpy(), axis=1)
    assert norms.min() >= source.tail_norm - 1e-4
    assert norms.max() <= negatives.TAIL_SPAN * source.tail_norm + 1e-4


def test_negatives_add_a_fake_term_to_the_discriminator_loss_only_when_set():
    config = tfgad.sections.default_config()
    config.model.update(name="aegan", latent_dim=4, base_filters=4, num_blocks=2)
    model = models.build(config, (32, 1), priors.from_config(config))
    x = tf.constant(sine_beats(4, 32))
    assert model.negatives_loss(x) == 0.0
    config.train.negatives.update(kind="both", weight=2.0)
    model.negatives = negatives.GeneratedNegatives(config.train.negatives, model.prior)
    assert model.negatives.draw(model, x).shape == (8, 32, 1)  # both: corruptions and tail
    logits, _ = model.discriminator(model.negatives.draw(model, x))
    loss = float(model.negatives_loss(x))
    # softplus(logit) >= 0 is the BCE of judging a sample fake; weight 2 doubles it.
    assert loss > 0 and np.isfinite(loss)


def test_tail_latents_have_whitened_radii_between_the_codes_quantiles():
    rng = np.random.default_rng(0)
    scale = np.diag([1.0, 3.0, 0.5])
    codes = rng.standard_normal((4000, 3)) @ scale + [1.0, -2.0, 0.0]
    z = doping.tail_latents(codes, 500, 0.9, 0.99, seed=1)
    whitened = np.linalg.norm((z - [1.0, -2.0, 0.0]) @ np.linalg.inv(scale), axis=1)
    # chi(3) quantiles: 0.9 -> 2.50, 0.99 -> 3.37 (the codes' own radii estimate them).
    assert whitened.min() > 2.35 and whitened.max() < 3.55
    assert z.dtype == np.float32 and z.shape == (500, 3)


def test_validation_negatives_are_a_quarter_of_the_normals_labelled_generated():
    config = tfgad.sections.default_config()
    rng = np.random.default_rng(0)
    beats = sine_beats(40)
    features = np.stack([rng.normal(0, 0.05, 40), rng.normal(0, 0.05, 40),
                         rng.normal(0, 0.1, 40)], axis=1).astype(np.float32)
    val = Samples(rhythm.append(beats, features), np.zeros(40), np.repeat([1, 2], 20),
                  np.full(40, "N"))
    config.data.rhythm_features = True
    augmented = one_class.with_negatives(val, config)
    added = augmented.subset(np.arange(40, len(augmented)))
    assert len(added) == 10 and added.y.all() and (added.classes == "generated").all()
    assert set(added.groups) <= {1, 2}
    np.testing.assert_array_equal(augmented.x[:40], val.x)  # the normals are untouched
    signal, context = rhythm.split(added.x, 3)
    source = np.array([np.flatnonzero((val.x[:, :, :1] == s).all(axis=(1, 2)))[0]
                       if (val.x[:, :, :1] == s).all(axis=(1, 2)).any() else -1 for s in signal])
    early = source >= 0  # kept their shape: moved in time instead
    assert early.any() and (~early).any()
    src_context = rhythm.split(val.x[source[early]], 3)[1]
    assert (context[early, 0] < src_context[:, 0]).all()  # rr_pre shorter
    assert (context[early, 1] > src_context[:, 1]).all()  # rr_post longer


def test_a_fit_without_labels_calibrates_against_generated_negatives():
    from tests.test_detector import beats as beats_fixture
    samples = beats_fixture.__wrapped__()
    normal_val = np.concatenate([samples["x_val"][samples["y_val"] == 0],
                                 samples["x_test"][samples["y_test"] == 0]])[..., 0]
    assert len(normal_val) == one_class.MIN_NORMAL_SAMPLES == 80
    overrides = {"model.name": "aegan", "detection.one_class": "negatives",
                 "detection.combiner": "svm", "train.negatives.kind": "corruptions",
                 "train.doping.fraction": 0.1, "train.doping.epochs": 1}
    detector = tfgad.Detector("test", overrides=overrides, verbose=0)
    detector.fit(samples["x"], x_val=normal_val)  # all normal: no labelled anomaly
    fit_on = detector.calibration_["fit_on"]
    # The 80 normal beats and round(0.25 * 80) = 20 generated negatives.
    assert fit_on["samples"] == 100 and fit_on["anomalies"] == fit_on["generated_negatives"] == 20
    assert detector.calibration_["combiner"]["kind"] == "svm"
    assert detector.decision_scores_.shape == (80,)  # of the validation samples given
    assert model_is_plain(detector.model_)
    scores = detector.decision_function(samples["x_test"])
    assert scores.shape == (len(samples["x_test"]),) and np.isfinite(scores).all()
    # Too few normal validation samples for a fitted combiner: the one-class rules instead.
    small = tfgad.Detector("test", overrides=overrides, verbose=0).fit(samples["x"])
    assert small.calibration_["combiner"]["kind"] == "weighted"
    assert small.calibration_["threshold_method"] == "percentile"
    assert "generated_negatives" not in small.calibration_["fit_on"]


def model_is_plain(model):
    return model.negatives is None and model.sample_weighting is None


def test_a_labelled_rule_without_anomalies_names_the_negatives_option():
    config = tfgad.sections.default_config()
    config.detection.combiner = "svm"
    normal = Samples(np.zeros((8, 4, 1)), np.zeros(8), np.zeros(8), np.full(8, "N"))
    with pytest.raises(UserError, match="detection.one_class=negatives"):
        config_checks.check_splits(config, {"train": normal, "val": normal})
    config.detection.one_class = "negatives"
    config_checks.check_splits(config, {"train": normal, "val": normal})


def test_every_one_class_ablation_recipe_is_a_valid_config():
    import glob
    import os

    from tests.conftest import ROOT
    from tfgad import config_files
    paths = sorted(glob.glob(os.path.join(ROOT, "scripts", "one_class_recipes", "*.py")))
    assert len(paths) >= 6
    for path in paths:
        recipe = config_files.load_module(path)
        config = config_files.override(config_files.load(recipe.FAMILY), recipe.OVERRIDES)
        config_checks.validate(config)
