"""Every shipped config loads and validates; other models and image data run end to end."""
import glob
import json
import os
import re

import keras
import numpy as np
import pytest

from tests.conftest import ROOT
from tfgad import config_files, data, models
from tfgad.training import config_checks, train_lib
from tfgad import run
from tfgad.detection import latent_search
from tfgad.detection import scorer as scorer_lib
from tfgad.errors import UserError

CONFIGS = sorted(glob.glob(os.path.join(config_files.CONFIGS_DIR, "[!_]*.py")))
TUNED = sorted(glob.glob(os.path.join(config_files.CONFIGS_DIR, "tuned", "[!_]*.py")))


@pytest.mark.parametrize("path", [p for p in CONFIGS if not p.endswith("__init__.py")],
                         ids=os.path.basename)
def test_config_is_valid_and_documents_its_run(path):
    config_checks.validate(config_files.load(path))
    docstring = open(path).read().split('"""')[1]
    assert "python -m tfgad.main --config=configs/" in docstring
    if not path.endswith(("default.py", "test.py")):
        assert "Expected" in docstring and "AUROC" in docstring, "the measured result to expect"


@pytest.mark.parametrize("path", TUNED, ids=os.path.basename)
def test_tuned_config_is_valid_and_says_how_it_was_tuned(path):
    recipe = config_files.load_module(path)
    config = recipe.get_config()
    config_checks.validate(config)
    assert config.model.name == recipe.FAMILY
    docstring = " ".join(open(path).read().split('"""')[1].split())
    assert f"Run: python -m tfgad.main --config=configs/tuned/{os.path.basename(path)}" in docstring
    assert "validation AUROC" in docstring and "test split was not read" in docstring


def test_the_quick_start_figures_are_the_same_in_readme_and_config():
    readme = open(os.path.join(ROOT, "README.md")).read()
    row = next(line for line in readme.splitlines() if "the quick start's run" in line)
    doc = open(os.path.join(ROOT, "configs", "anogan.py")).read().split('"""')[1]
    doc = " ".join(doc.split())
    for pattern in (r"AUROC (\d\.\d+)", r"MCC (\d\.\d+)", r"(\d+) s \("):
        in_readme = re.search(pattern, row).group(1)
        assert re.search(pattern.replace(r" \(", " for"), doc).group(1) == in_readme, pattern


def test_components_are_checked_against_the_model_before_training(test_config):
    test_config.model.name = "gan"
    test_config.detection.components = "residual,kl"
    with pytest.raises(UserError, match="'kl' is not a score component of model.name=gan; "
                                        "it returns: residual, discrimination, feature, latent"):
        config_checks.validate(test_config)
    test_config.model.name = "vaegan"
    config_checks.validate(test_config)
    test_config.detection.combiner, test_config.detection.single_component = "single", "dxx_feature"
    with pytest.raises(UserError, match="detection.single_component 'dxx_feature'"):
        config_checks.validate(test_config)


def test_centering_with_a_normalization_that_cancels_it_warns(test_config, caplog):
    test_config.detection.center_discrimination = True
    config_checks.validate(test_config)
    assert "center_discrimination has no effect with detection.normalization=zscore" in caplog.text
    caplog.clear()
    test_config.detection.normalization = "none"
    config_checks.validate(test_config)
    assert "center_discrimination" not in caplog.text


def test_loading_a_config_by_name_and_overriding_it():
    config = config_files.load("vaegan")
    config_files.override(config, {"model.vaegan.beta": 0.1, "train.epochs": 3})
    assert (config.model.name, config.model.vaegan.beta, config.train.epochs) == ("vaegan", 0.1, 3)
    with pytest.raises(UserError, match="no field 'model.vaegan.gamma'"):
        config_files.override(config, {"model.vaegan.gamma": 1.0})
    with pytest.raises(UserError, match="known configs: .*anogan"):
        config_files.load("stylegan")


def _trained(config, workdir):
    splits, _ = data.load_splits(config)
    return splits, train_lib.load_trained(config, workdir, splits["train"].x.shape[1:])


def check_wgan_gp(config, workdir, result):
    _, model = _trained(config, workdir)
    assert type(model).__name__ == "WGANGP" and model.n_critic == 2


def check_spectral_norm(config, workdir, result):
    _, model = _trained(config, workdir)
    wrapped = [l for l in model.discriminator.layers if isinstance(l, keras.layers.SpectralNormalization)]
    assert len(wrapped) == config.model.num_blocks + 1  # every convolution and the output layer
    assert result["splits"]["test"]["samples"] > 0 and config.data.name == "digits"


def check_truncated_prior_and_restarts(config, workdir, result):
    splits, model = _trained(config, workdir)
    assert model.prior.bounds == (-2.0, 2.0)
    assert result["scoring"]["search"]["restarts"] == 2
    x = splits["test"].x[:8]
    two = scorer_lib.from_config(config, model).find(x, seed=(config.seed, 0))
    assert np.abs(two["z"].numpy()).max() <= 2.0 + 1e-6  # the search stays in the support
    # Two restarts keep, per sample, the better of two one-restart searches from their starts.
    single = config.copy_and_resolve_references()
    single.search.restarts = 1
    features = lambda v: model.discriminator(v, training=False)[1]
    one = latent_search.from_config(single, model.generator, model.prior, features)
    starts = one.starts(2, len(x), np.array([config.seed, 0], np.int32)).numpy()
    each = [one(x, z_init=starts[i * len(x):(i + 1) * len(x)])["loss"].numpy() for i in (0, 1)]
    np.testing.assert_allclose(two["loss"].numpy(), np.minimum(*each), rtol=1e-4, atol=1e-5)
    assert (each[0] != each[1]).any()


@pytest.mark.parametrize("overrides,check", [
    ({"model.name": "wgan_gp", "model.wgan_gp.n_critic": 2}, check_wgan_gp),
    ({"data.name": "digits", "data.normal_class": 1, "model.spectral_norm": True},
     check_spectral_norm),
    ({"prior.name": "truncated_normal", "search.restarts": 2, "search.chi_weight": 0.01,
      "search.feature_weight": 0.1, "detection.threshold": "percentile"},
     check_truncated_prior_and_restarts),
], ids=["wgan_gp", "digits_images", "truncated_prior_restarts"])
def test_variants_run_end_to_end_and_take_effect(test_config, tmp_path, overrides, check):
    test_config.train.epochs = 1
    config_files.override(test_config, overrides)
    result = run.train_and_evaluate(test_config, str(tmp_path), "all")
    saved = json.load(open(tmp_path / "config.json"))
    for dotted, value in overrides.items():
        node = saved
        for part in dotted.split("."):
            node = node[part]
        assert node == value
    assert (tmp_path / "plots" / "reconstructions.png").exists()
    assert np.isfinite(result["test"]["auroc"])
    check(test_config, str(tmp_path), result)


FAMILY_CONFIGS = tuple(family.CONFIG for family in models.MODELS.values())


@pytest.mark.parametrize("name", FAMILY_CONFIGS)
def test_family_defaults_compose_every_component_of_the_family_with_the_svm(name):
    # What BENCHMARKS.md's FAMILY/svm rows measure: the family's default as shipped.
    from tfgad import models
    from tfgad.detection import calibration
    config = config_files.load(name)
    assert config.detection.combiner == "svm"
    assert list(calibration.layout(config).components) == list(
        models.MODELS[config.model.name].score_components())


def test_each_family_descriptor_gives_its_config_section_and_names_its_own_config():
    config = config_files.load("default")
    for name, family in models.MODELS.items():
        assert config_files.load(family.CONFIG).model.name == name
        if "SETTINGS" in vars(family):
            assert dict(config.model[name]) == {f: d for f, d, _ in family.SETTINGS}
        for field in family.TUNING:  # what the tuner searches exists in the config
            config_files.override(config.copy_and_resolve_references(), {field: 1.0})
    sections = {k for k, v in config.model.items() if hasattr(v, "keys")}
    assert sections == {"wgan_gp", "fanogan", "ganomaly", "aegan", "vaegan"}


def test_a_family_config_on_images_takes_its_tuned_image_settings_unless_set():
    config = config_files.load("aegan")
    config.data.name, config.train.epochs = "digits", 7  # epochs set by the user: kept
    changes = config_files.fit_data_kind(config)
    tuned = config_files.load("tuned/aegan_digits")
    assert config.model.num_blocks == tuned.model.num_blocks == 2
    assert config.train.batch_size == tuned.train.batch_size == 16
    assert config.model.aegan.w_adv == tuned.model.aegan.w_adv
    assert config.train.epochs == 7
    assert "model.num_blocks: 3 -> 2" in changes
    assert not any(c.startswith(("train.epochs", "data.", "detection.max_samples"))
                   for c in changes)
    # ECG data, a tuned config itself, or kind_settings=off: nothing changes.
    assert config_files.fit_data_kind(config_files.load("aegan")) == []
    assert config_files.fit_data_kind(config_files.load("tuned/aegan_digits")) == []
    off = config_files.load("aegan")
    off.data.name, off.data.kind_settings = "digits", "off"
    assert config_files.fit_data_kind(off) == []
    # MNIST takes the MNIST-tuned file where the family has one.
    mnist = config_files.load("aegan")
    mnist.data.name = "mnist_png"
    config_files.fit_data_kind(mnist)
    assert mnist.model.latent_dim == config_files.load("tuned/aegan_mnist_png").model.latent_dim


def test_print_config_lists_resolved_values_with_their_meaning():
    from tfgad import config_files
    from tfgad.errors import UserError
    config = config_files.override(config_files.load("anogan"), {"search.n_max": 7})
    text = config_files.describe(config, "search")
    lines = text.splitlines()
    assert "search.n_max = 7" in [line.split("  #")[0] for line in lines]
    assert all(line.startswith("search.") for line in lines)
    assert any("# weight of the chi-norm penalty" in line for line in lines)
    with pytest.raises(UserError, match="no section 'serch'; sections: data, detection"):
        config_files.describe(config, "serch")
