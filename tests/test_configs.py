"""Every shipped config loads and validates; other models and image data run end to end."""
import glob
import importlib.util
import json
import os

import pytest

from tests.conftest import ROOT
from tfgad import config_checks, train_lib

CONFIGS = sorted(glob.glob(os.path.join(ROOT, "configs", "*.py")))


def load(path):
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config()


@pytest.mark.parametrize("path", [p for p in CONFIGS if not p.endswith("__init__.py")],
                         ids=os.path.basename)
def test_config_is_valid(path):
    config_checks.validate(load(path))


@pytest.mark.parametrize("overrides", [
    {"model.name": "wgan_gp", "model.n_critic": 2},
    {"data.name": "digits", "data.normal_class": 1, "model.spectral_norm": True},
    {"prior.name": "truncated_normal", "search.restarts": 2, "search.chi_weight": 0.01,
     "search.feature_weight": 0.1, "detection.threshold": "percentile"},
], ids=["wgan_gp", "digits_images", "truncated_prior_restarts"])
def test_variants_run_end_to_end(test_config, tmp_path, overrides):
    test_config.train.epochs = 1
    for field, value in overrides.items():
        section, name = field.split(".")
        setattr(getattr(test_config, section), name, value)
    result = train_lib.train_and_evaluate(test_config, str(tmp_path), "all")
    assert 0.0 <= result["test"]["auroc"] <= 1.0
    saved = json.load(open(tmp_path / "config.json"))
    for field, value in overrides.items():
        section, name = field.split(".")
        assert saved[section][name] == value
    assert (tmp_path / "plots" / "reconstructions.png").exists()
