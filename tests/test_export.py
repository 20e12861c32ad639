"""SavedModel export: for every model family, the reloaded signatures equal the in-memory scorer."""
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgad import data, models, priors
from tfgad.export import writer as export
from tfgad.detection import calibration
from tfgad.detection import scorer as scorer_lib
from tfgad.errors import UserError


@pytest.fixture(scope="module")
def raw_splits():
    from tfgad.configs import test
    config = test.get_config()
    splits, norm = data.load_splits(config, normalize=False)
    return splits, norm


@pytest.mark.parametrize("name", sorted(models.MODELS))
def test_round_trip_equals_the_in_memory_scorer(test_config, raw_splits, tmp_path, name):
    keras.utils.set_random_seed(0)
    splits, norm = raw_splits
    test_config.model.name = name
    test_config.search.n_max = 5
    test_config.detection.components = "residual,discrimination,feature,latent"
    test_config.detection.combiner = "svm" if name in ("gan", "vaegan") else "weighted"
    model = models.build(test_config, splits["train"].x.shape[1:], priors.from_config(test_config))
    scorer = scorer_lib.from_config(test_config, model)
    val, test = splits["val"], splits["test"]
    normalized = lambda x: data.normalization.apply(norm, x)
    val_out = scorer_lib.score_samples(scorer, normalized(val.x), 64, test_config.seed)
    calib = calibration.fit(val_out, val.y, test_config)
    path = export.export(model, test_config, calib, norm, splits["train"].x.shape[1:],
                         base_dir=str(tmp_path), name="m")
    assert path == os.path.join(str(tmp_path), "m", "1")
    assert export.load_metadata(path)["calibration"] == calib

    x = test.x[:20]
    expected = scorer_lib.score_samples(scorer, normalized(x), 64, test_config.seed)
    expected_scores, expected_decisions = calibration.apply(calib, expected)
    loaded = tf.saved_model.load(path)
    out = {k: v.numpy() for k, v in loaded.signatures["serving_default"](x=tf.constant(x)).items()}
    for key in ("residual", "discrimination", "feature", "latent", "x_hat"):
        np.testing.assert_allclose(out[key], expected[key], rtol=1e-4, atol=1e-5, err_msg=key)
    np.testing.assert_allclose(out["score"], expected_scores, rtol=1e-4, atol=1e-4)
    # Encoders and a 5-step search reproduce the offline decisions exactly.
    np.testing.assert_array_equal(out["is_anomaly"], expected_decisions.astype(bool))
    metadata = export.load_metadata(path)
    assert metadata["scorer"] == scorer.settings()["scorer"]
    assert metadata["xla"]["exported_graph"] == "plain"
    expected_signatures = {"serving_default", "score_components", "latent_search", "generate"}
    if model.encoder is not None:
        expected_signatures.add("encode")
    assert set(loaded.signatures) == expected_signatures
    z = loaded.signatures["latent_search"](x=tf.constant(x))["z"]
    assert z.shape == (20, test_config.model.latent_dim)
    generated = loaded.signatures["generate"](z=z)["x"]
    np.testing.assert_allclose(generated.numpy(), model.generator(z, training=False).numpy(),
                               rtol=1e-4, atol=1e-5)


def test_export_keeps_tensorflow_info_lines_out_of_the_log(test_config, raw_splits, tmp_path,
                                                          caplog):
    import logging
    splits, norm = raw_splits
    test_config.model.name = "aegan"
    model = models.build(test_config, splits["train"].x.shape[1:], priors.from_config(test_config))
    calib = {"components": ["residual"], "combiner": {"kind": "weighted", "weights": [1.0]},
             "normalization": {"kind": "none", "shift": [0.0], "scale": [1.0]}, "threshold": 1.0}
    logging.getLogger("tensorflow").setLevel(logging.INFO)
    with caplog.at_level(logging.INFO, logger="absl"):  # as tfgad.main sets absl's verbosity
        export.export(model, test_config, calib, norm, splits["train"].x.shape[1:],
                      base_dir=str(tmp_path), name="m")
        assert logging.getLogger("absl").level == logging.INFO  # restored after the save
    assert not [r for r in caplog.records if "unsupported characters" in r.getMessage()]
    assert logging.getLogger("tensorflow").level == logging.INFO


def test_another_model_under_an_existing_name_is_refused(test_config, raw_splits, tmp_path):
    splits, norm = raw_splits
    shape = splits["train"].x.shape[1:]
    calib = {"components": ["residual"], "combiner": {"kind": "weighted", "weights": [1.0]},
             "normalization": {"kind": "none", "shift": [0.0], "scale": [1.0]}, "threshold": 1.0}
    test_config.model.name = "aegan"
    test_config.detection.components = "residual"
    model = models.build(test_config, shape, priors.from_config(test_config))
    first = export.export(model, test_config, calib, norm, shape, base_dir=str(tmp_path), name="m")
    # The signature's metadata names the concrete input shape, not an unknown rank.
    loaded = tf.saved_model.load(first)
    assert loaded.signatures["serving_default"].structured_input_signature[1]["x"].shape \
        .as_list() == [None, 64, 1]
    assert export.load_metadata(first)["inputs"] == {"x": [-1, 64, 1]}
    # The same model retrained (other training settings) is the next version of that name.
    test_config.train.epochs = 9
    assert export.export(model, test_config, calib, norm, shape, base_dir=str(tmp_path),
                         name="m").endswith(os.path.join("m", "2"))
    test_config.model.base_filters = 16
    other = models.build(test_config, shape, priors.from_config(test_config))
    with pytest.raises(UserError) as error:
        export.export(other, test_config, calib, norm, shape, base_dir=str(tmp_path), name="m")
    assert str(error.value) == (
        f"{tmp_path}/m holds another model (version 2: model.base_filters 8 there, 16 here); "
        "the versions under one name must share the model, its inputs and outputs: export "
        "under a new name with --config.export.name=NAME")
    assert sorted(os.listdir(tmp_path / "m")) == ["1", "2"]


def test_the_test_config_never_exports_into_a_family_name():
    from tfgad.configs import test
    config = test.get_config()
    assert export.target_folder(config) == os.path.join("saved_models", "tfgad-test")


def test_versions_count_up_and_half_written_ones_are_skipped(tmp_path):
    (tmp_path / "1").mkdir()
    (tmp_path / ".tmp-2-123").mkdir()
    (tmp_path / "notes").mkdir()
    assert export.next_version(str(tmp_path)) == 2
    assert export.next_version(str(tmp_path / "missing")) == 1


def test_a_compacted_halving_search_exports_and_reproduces_offline(test_config, raw_splits,
                                                                   tmp_path):
    # eps > 0 and halving: the chunked search is traced into the SavedModel's graph.
    keras.utils.set_random_seed(0)
    splits, norm = raw_splits
    overrides = {"n_max": 30, "compact_every": 5, "restarts": 3, "restart_schedule": "halving",
                 "halving_steps": 5}
    for key, value in overrides.items():
        setattr(test_config.search, key, value)
    model = models.build(test_config, splits["train"].x.shape[1:], priors.from_config(test_config))
    x = data.normalization.apply(norm, splits["test"].x[:16])
    # eps at the median loss of a search without stop: about half the samples stop early.
    probe = scorer_lib.from_config(test_config, model).find(x, seed=(test_config.seed, 0))
    test_config.search.eps = float(np.median(probe["loss"].numpy()))
    scorer = scorer_lib.from_config(test_config, model)
    offline = scorer.find(x, seed=(test_config.seed, 0))
    calib = calibration.fit(scorer_lib.score_samples(scorer, x, 64), splits["test"].y[:16],
                            test_config)
    path = export.export(model, test_config, calib, norm, splits["train"].x.shape[1:],
                         base_dir=str(tmp_path), name="m")
    served = tf.saved_model.load(path).signatures["latent_search"](
        x=tf.constant(splits["test"].x[:16]))
    iterations = offline["iterations"].numpy()
    assert iterations.min() < 30 == iterations.max()  # some stopped early, some did not
    np.testing.assert_array_equal(served["iterations"].numpy(), iterations)
    np.testing.assert_allclose(served["loss"].numpy(), offline["loss"].numpy(), rtol=1e-4,
                               atol=1e-5)
