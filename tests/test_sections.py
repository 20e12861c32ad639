"""Config sections declare each field once: defaults, checks, meanings and stored-config upgrades
all come from tfgad/sections, and no other place holds a second default."""
import inspect
import json
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

from tfgad import config_files, data, models, priors, score_columns, sections
from tfgad.configs import default
from tfgad.data import normalization
from tfgad.detection import (calibration, combiners, latent_search, normalize, scorer,
                             thresholds)
from tfgad.errors import UserError
from tfgad.sections import detection, model, train
from tfgad.training import cluster, config_checks, robust, workdir as workdir_lib

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "tfgad"


def test_each_registry_holds_exactly_the_choices_its_field_declares():
    pairs = [(data.SOURCES, "data.name"), (data.PROTOCOLS, "data.protocol"),
             (normalization.KINDS, "data.normalization"), (models.MODELS, "model.name"),
             (priors.PRIORS, "prior.name"), (cluster.STRATEGIES, "train.strategy"),
             (robust.METHODS, "train.robust.method"), (scorer.SCORERS, "detection.scorer"),
             (thresholds.METHODS, "detection.threshold"), (combiners.KINDS, "detection.combiner"),
             (normalize.KINDS, "detection.normalization"),
             (combiners.GRID_METRICS, "detection.grid_metric")]
    declared = {(f"{s.name}." if s.name else "") + f.name: f for s in sections.SECTIONS
                for f in s.fields}
    for registry, field in pairs:
        assert sorted(registry) == sorted(declared[field].choices), field
    assert set(model.FAMILY_SECTIONS) <= set(models.MODELS)
    weighable = set(models.ALL_COMPONENTS) | {score_columns.SPREAD, "rr_pre", "rr_post",
                                              "rr_local"}
    assert weighable == set(detection.WEIGHTED)


def test_the_default_config_is_the_declarations_and_every_field_has_a_meaning():
    config = default.get_config()
    flat = config_files.flatten(config)
    meanings = sections.meanings()
    assert set(flat) == set(meanings)
    assert all(len(text) > 5 for text in meanings.values())
    assert flat["search.stop_tolerance"] == 1e-3 and flat["detection.threshold_folds"] == 5
    assert flat["model.aegan.w_adv"] == 1.0 and flat["model.vaegan.beta_warmup_steps"] == 1000
    sections.check(config)
    config_checks.validate(config)
    # A family's docstring ends with its section, from the same declaration.
    assert "model.vaegan" in models.VAEGAN.__doc__ and "beta_warmup_steps (1000)" in \
        models.VAEGAN.__doc__


def _second_defaults() -> list:
    """Every place in tfgad/ that reads a declared field with a fallback of its own."""
    fields = {f.name for s in sections.SECTIONS for f in s.fields}
    found = []
    for path in PACKAGE.rglob("*.py"):
        if "sections" in path.parts:
            continue
        text = path.read_text()
        for match in re.finditer(r'\b(?:config|cfg|[dmsr])(?:\.\w+)*\.get\("(\w+)"', text):
            if match.group(1) in fields:
                found.append(f"{path.name}: {match.group(0)}")
        for match in re.finditer(r'getattr\((?:config|cfg)[\w.]*, "(\w+)", ', text):
            found.append(f"{path.name}: {match.group(0)}")
    for family, section in model.FAMILY_SECTIONS.items():
        params = inspect.signature(models.MODELS[family].__init__).parameters
        found += [f"{family}.__init__ {f.name}" for f in section.fields
                  if f.name in params and params[f.name].default is not inspect.Parameter.empty]
    params = inspect.signature(latent_search.LatentSearch.__init__).parameters
    found += [f"LatentSearch {n}" for n in latent_search.SETTINGS if n in params]
    return found


def test_no_field_default_is_written_a_second_time():
    assert _second_defaults() == []


def test_a_field_is_checked_by_its_declaration_with_one_message():
    config = default.get_config()
    config.train.epochs = 0
    with pytest.raises(UserError, match=r"^train.epochs=0; must be >= 1$"):
        sections.check(config)
    config = default.get_config()
    config.data.val_fraction = 1.5
    with pytest.raises(UserError, match=r"data.val_fraction=1.5; must be in \(0, 1\)"):
        sections.check(config)
    with pytest.raises(UserError, match="detection.threshold_folds=2.5; the field takes an integer"):
        detection.DETECTION.field("threshold_folds").check(2.5, "detection")
    with pytest.raises(UserError, match="train.robust.fraction=0.5; must be in \\[0, 0.5\\)"):
        train.ROBUST.field("fraction").check(0.5, "train.robust")
    config = default.get_config()
    config.train.robust.z_cutt = 3.0  # a misspelt field in a config file
    with pytest.raises(UserError, match="train.robust has no field 'z_cutt'; its fields: every"):
        sections.check(config)
    # The latent search checks its keyword arguments with the same declarations and words.
    with pytest.raises(UserError, match="unknown search.distance 'l3'; known: l1, l2"):
        latent_search.LatentSearch(None, None, distance="l3")
    with pytest.raises(TypeError, match="LatentSearch got \\['n_steps'\\]"):
        latent_search.LatentSearch(None, None, n_steps=3)


def test_a_stored_config_is_upgraded_with_the_declared_defaults():
    old = {"seed": 3, "model": {"name": "aegan", "latent_dim": 8}, "search": {"n_max": 7}}
    upgraded = sections.upgrade(old)
    assert upgraded["seed"] == 3 and upgraded["model"]["latent_dim"] == 8
    assert upgraded["search"]["n_max"] == 7 and upgraded["search"]["stop_tolerance"] == 1e-3
    assert upgraded["model"]["ensemble"] == 1 and upgraded["model"]["aegan"]["w_adv"] == 1.0
    sections.check(config_files.ml_collections.ConfigDict(upgraded))
    # A workdir written before model.ensemble existed trained one model: no difference.
    current = default.get_config().to_dict()
    trained = default.get_config().to_dict()
    del trained["model"]["ensemble"]
    assert workdir_lib.differences(trained, current, ("model",)) == []
    current["model"]["ensemble"] = 2
    assert workdir_lib.differences(trained, current, ("model",)) == [
        "model.ensemble: trained 1, now 2"]


def test_image_settings_leave_the_fields_the_user_set_alone():
    config = config_files.load("aegan")
    config.data.name = "digits"
    ecg_value = config.train.epochs
    changes = config_files.fit_data_kind(config)
    assert any(c.startswith("train.epochs:") for c in changes) and config.train.epochs != ecg_value
    config = config_files.load("aegan")
    config.data.name = "digits"
    changes = config_files.fit_data_kind(config, user_set=["train.epochs"])
    assert not any(c.startswith("train.epochs:") for c in changes)
    assert config.train.epochs == ecg_value  # set on purpose to the family's value: kept


def test_the_layout_names_parses_and_reduces_member_columns():
    config = default.get_config()
    config.model.ensemble = 3
    config.detection.components = "residual,feature"
    layout = calibration.layout(config)
    assert layout.columns == ["residual_m0", "residual_m1", "residual_m2", "feature_m0",
                              "feature_m1", "feature_m2", "spread"]
    assert layout.combined == ["residual", "feature", "spread"]
    assert score_columns.parse("residual_m2") == ("residual", 2)
    assert score_columns.parse("rr_local") == ("rr_local", None)
    stored = {"components": layout.columns, "members": 3, "combined_components": layout.combined}
    assert score_columns.Layout.from_calibration(stored) == layout
    z = np.arange(14.0).reshape(2, 7)
    np.testing.assert_allclose(layout.member_means(z), [[1, 4, 6], [8, 11, 13]])
    import tensorflow as tf
    np.testing.assert_allclose(layout.member_means(tf.constant(z), tf).numpy(),
                               layout.member_means(z))


def test_combiner_fits_are_a_table_that_says_which_are_cross_fitted():
    assert [k for k, f in combiners.FITS.items() if f.cross_fitted] == ["svm", "boosted"]
    assert combiners.FITTED == ("grid", "svm", "boosted")


def test_loading_a_config_or_an_export_imports_no_model_family(trained_test_run):
    config, _ = trained_test_run
    export = str(next(pathlib.Path(config.export.dir).iterdir()))
    code = ("import sys, json, numpy as np, tfgad; from tfgad import config_files; "
            "config_files.load('anogan'); loaded = 'tfgad.models' in sys.modules; "
            f"d = tfgad.load({export!r}); d.score(np.zeros((2,) + tuple(d.sample_shape), "
            "np.float32)); print(json.dumps([loaded, sorted(m for m in sys.modules "
            "if m.startswith('tfgad.models'))]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, check=True).stdout.strip().splitlines()[-1]
    assert json.loads(out) == [False, []]


def test_the_readme_config_reference_is_the_declarations():
    readme = (PACKAGE.parent / "README.md").read_text()
    block = readme.split("<!-- config-reference:start -->\n")[1].split(
        "<!-- config-reference:end -->")[0]
    assert block == sections.markdown(), "regenerate README's block from sections.markdown()"
