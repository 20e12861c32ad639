"""Data sources, splits and normalization, including the MIT-BIH reader on ../shared/data/mitdb."""
import os
import re

import numpy as np
import pytest

from tfgad import data
from tfgad.data import mitbih, normalization, splits, synthetic_ecg
from tfgad.data.types import Samples
from tfgad.errors import UserError


def test_synthetic_ecg_is_deterministic_and_labelled(test_config):
    a, b = synthetic_ecg.load(test_config), synthetic_ecg.load(test_config)
    np.testing.assert_array_equal(a.x, b.x)
    n = test_config.data.num_subjects * test_config.data.beats_per_subject
    assert a.x.shape == (n, test_config.data.length, 1) and a.x.dtype == np.float32
    assert set(np.unique(a.classes)) <= {"normal", *synthetic_ecg.ANOMALY_TYPES}
    np.testing.assert_array_equal(a.y == 1, a.classes != "normal")
    assert 0.1 < a.y.mean() < 0.3  # anomaly_rate 0.2
    # The R peak is the tallest point of a normal beat, where the window puts it.
    normal = a.x[a.y == 0, :, 0]
    r_index = round(test_config.data.length * 24 / 64)
    assert abs(np.median(normal.argmax(axis=1)) - r_index) <= 1


def test_intra_split_keeps_anomalies_out_of_train(test_config):
    parts, norm = data.load_splits(test_config)
    assert parts["train"].y.sum() == 0
    assert parts["val"].y.sum() > 0 and parts["test"].y.sum() > 0
    total = sum(len(p) for p in parts.values())
    assert total == test_config.data.num_subjects * test_config.data.beats_per_subject
    # zscore statistics come from train: train is standardized, test only roughly.
    assert abs(parts["train"].x.mean()) < 1e-4 and abs(parts["train"].x.std() - 1) < 1e-3
    assert norm["kind"] == "zscore"


def test_contamination_puts_the_asked_fraction_of_anomalies_in_train(test_config):
    test_config.data.contamination = 0.1
    parts, _ = data.load_splits(test_config)
    assert parts["train"].y.mean() == pytest.approx(0.1, abs=0.01)


def test_inter_split_holds_out_whole_groups_for_test_and_for_validation(test_config):
    test_config.data.protocol = "inter"
    parts, _ = data.load_splits(test_config)
    train, val, test = (set(parts[k].groups) for k in ("train", "val", "test"))
    assert not (test & (train | val)) and not (val & train)
    assert parts["train"].y.sum() == 0 and parts["val"].y.sum() > 0
    # Validation holds every beat of its groups: their normals and their anomalies.
    samples = data.load_source(test_config)
    assert len(parts["val"]) == np.isin(samples.groups, list(val)).sum()


def test_validation_labels_only_the_named_anomaly_classes(test_config):
    everything, _ = data.load_splits(test_config)
    test_config.data.val_anomaly_classes = "inverted_t"
    parts, _ = data.load_splits(test_config)
    anomalies = parts["val"].classes[parts["val"].y == 1]
    assert set(anomalies) == {"inverted_t"}
    assert len(anomalies) == (everything["val"].classes == "inverted_t").sum()
    np.testing.assert_array_equal(parts["test"].classes, everything["test"].classes)
    unseen = splits.unseen_rows(parts["test"], test_config.data)
    assert set(parts["test"].classes[unseen]) == set(everything["test"].classes) - {"inverted_t"}
    assert splits.unseen_rows(everything["test"], everything_config(test_config)) is None
    test_config.data.val_anomaly_classes = "Z"
    with pytest.raises(UserError, match="data.val_anomaly_classes='Z' matches no anomaly here; "
                                        "the anomaly classes are: "):
        data.load_splits(test_config)


def everything_config(config):
    config = config.data.copy_and_resolve_references()
    config.val_anomaly_classes = ""
    return config


def test_stratified_subset_keeps_the_anomaly_rate():
    y = np.r_[np.zeros(900), np.ones(100)]
    s = Samples(np.zeros((1000, 4, 1)), y, np.arange(1000), y.astype(str))
    sub = splits.stratified_subset(s, 200, seed=0)
    assert len(sub) == 200 and sub.y.sum() == 20


def test_per_sample_minmax_maps_each_sample_to_unit_range():
    x = np.array([[[1.0], [3.0], [2.0]], [[-5.0], [5.0], [0.0]]])
    out = normalization.apply(normalization.fit("per_sample_minmax", x), x)
    np.testing.assert_allclose(out[:, :, 0], [[-1, 1, 0], [-1, 1, 0]])


@pytest.mark.parametrize("kind", normalization.KINDS)
@pytest.mark.parametrize("shape", [(5, 16, 2), (4, 6, 6, 1)], ids=["series", "images"])
def test_numpy_and_tensorflow_normalizations_agree(kind, shape):
    import tensorflow as tf
    rng = np.random.default_rng(1)
    x_train = rng.normal(3.0, 2.0, shape).astype(np.float32)
    x = rng.normal(2.0, 4.0, shape).astype(np.float32)
    params = normalization.fit(kind, x_train)
    expected = normalization.apply(params, x)
    if kind != "none":
        assert not np.allclose(expected, x)
    np.testing.assert_allclose(normalization.apply_tf(params, tf.constant(x)).numpy(), expected,
                               rtol=1e-5, atol=1e-5)


def test_nan_in_data_is_reported(tmp_path, test_config):
    x = np.zeros((10, 16, 1), np.float32)
    x[3, 2, 0] = np.nan
    np.savez(tmp_path / "d.npz", x=x, y=np.zeros(10))
    test_config.data.name, test_config.data.path = "arrays", str(tmp_path / "d.npz")
    with pytest.raises(UserError, match="1 samples hold NaN or inf .* index 3"):
        data.load_splits(test_config)


def test_arrays_source_reads_npz(tmp_path, test_config):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=rng.normal(size=(200, 16)), y=(rng.random(200) < 0.2),
             groups=np.arange(200) % 10)
    test_config.data.name, test_config.data.path = "arrays", str(tmp_path / "d.npz")
    parts, _ = data.load_splits(test_config)
    assert parts["train"].x.shape[1:] == (16, 1)


def test_arrays_source_names_missing_arrays(tmp_path, test_config):
    np.savez(tmp_path / "d.npz", x=np.zeros((4, 8)))
    test_config.data.name, test_config.data.path = "arrays", str(tmp_path / "d.npz")
    with pytest.raises(UserError, match=r"lacks arrays \['y'\]"):
        data.load_splits(test_config)


def test_digits_is_a_one_class_image_task(test_config):
    test_config.data.name, test_config.data.normal_class = "digits", 3
    parts, _ = data.load_splits(test_config)
    assert parts["train"].x.shape[1:] == (8, 8, 1)
    assert set(parts["train"].classes) == {"3"}


def test_mnist_png_reads_500_tiles_per_digit_in_grid_order(test_config, mnist_png_dir):
    from tfgad.data import mnist_png
    tiles, labels = mnist_png.read_tiles(os.path.join(mnist_png_dir, "digits.png"))
    assert tiles.shape == (5000, 20, 20) and np.bincount(labels).tolist() == [500] * 10
    # Ones are the thinnest digits and zeros the boldest: a wrong tile order mixes the classes.
    ink = [tiles[labels == d].mean() for d in range(10)]
    assert np.argmin(ink) == 1 and np.argmax(ink) == 0
    test_config.data.name, test_config.data.dir = "mnist_png", mnist_png_dir
    test_config.data.normal_class = 7
    parts, _ = data.load_splits(test_config)
    assert parts["train"].x.shape[1:] == (20, 20, 1) and set(parts["train"].classes) == {"7"}
    assert parts["test"].y.mean() > 0.5  # the nine other digits are the anomalies


def test_mnist_png_missing_or_wrong_file_says_what_to_do(test_config, tmp_path):
    import tensorflow as tf
    test_config.data.name, test_config.data.dir = "mnist_png", str(tmp_path)
    with pytest.raises(UserError, match="opencv-doc"):
        data.load_splits(test_config)
    tf.io.write_file(str(tmp_path / "digits.png"), tf.io.encode_png(tf.zeros([10, 30, 1], tf.uint8)))
    with pytest.raises(UserError, match="is 30x10 pixels; OpenCV's digits.png is 2000x1000"):
        data.load_splits(test_config)


def test_unknown_source_lists_the_known_ones(test_config):
    test_config.data.name = "ptbxl"
    with pytest.raises(UserError, match="known: arrays, digits, mitbih, mnist_png, synthetic_ecg"):
        data.load_splits(test_config)


def test_missing_mitbih_directory_says_how_to_get_it(test_config, tmp_path):
    test_config.data.name, test_config.data.dir = "mitbih", str(tmp_path / "nowhere")
    with pytest.raises(UserError, match="get it with `tfgad download mitbih` \(into data/mitdb"):
        data.load_splits(test_config)


def readme_counts(directory):
    """The per-record AAMI table of the data's README: {record: (N, S, V, F, Q)}."""
    with open(os.path.join(directory, "README.md")) as f:
        rows = re.findall(r"^\| (\d{3}) \| \S+ \| \S+ \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|",
                          f.read(), flags=re.M)
    return {r[0]: tuple(map(int, r[1:])) for r in rows}


def test_mitbih_aami_counts_match_the_readme(mitdb):
    expected = readme_counts(mitdb)
    assert len(expected) == 48
    for record in mitbih.list_records(mitdb):
        counts = mitbih.aami_counts(mitdb, record)
        assert tuple(counts[c] for c in "NSVFQ") == expected[record], record


def test_mitbih_lead_is_chosen_by_name(mitdb):
    import wfdb
    signal, peaks, classes = mitbih.read_record(os.path.join(mitdb, "114"), "MLII", baseline=False)
    raw = wfdb.rdrecord(os.path.join(mitdb, "114"))
    assert raw.sig_name[1] == "MLII"  # 114 has its leads swapped
    np.testing.assert_allclose(signal, raw.p_signal[:, 1], rtol=1e-6)
    assert len(peaks) == len(classes) == sum(mitbih.aami_counts(mitdb, "114").values())


def test_mitbih_beats_and_splits(mitdb, test_config):
    test_config.data.name, test_config.data.dir = "mitbih", mitdb
    test_config.data.records = "100,119"
    test_config.data.window_before, test_config.data.window_after = 140, 180
    samples = mitbih.load(test_config)
    assert samples.x.shape[1:] == (320, 1)
    # Record 119: 1543 N and 444 V beats; beats within a window of the edges are dropped.
    v = (samples.groups == 119) & (samples.classes == "V")
    assert 440 <= v.sum() <= 444
    assert ((samples.classes == "N") == (samples.y == 0)).all()
    # The R peak sits at window_before after baseline removal.
    assert np.median(np.abs(samples.x[samples.y == 0, :, 0]).argmax(axis=1)) == 140


def test_mitbih_inter_patient_uses_ds1_and_ds2(mitdb, test_config):
    test_config.data.name, test_config.data.dir = "mitbih", mitdb
    test_config.data.records, test_config.data.protocol = "100,101,103,106", "inter"
    parts, _ = data.load_splits(test_config)
    assert set(parts["test"].groups) == {100, 103}  # DS2
    # DS1: one record validates, the other trains (grouped: no patient on both sides).
    assert {tuple(set(parts["train"].groups)), tuple(set(parts["val"].groups))} == {(101,), (106,)}


def test_mitbih_paced_records_are_excluded(mitdb, test_config):
    test_config.data.name, test_config.data.dir = "mitbih", mitdb
    test_config.data.records = "100,107"
    assert set(mitbih.load(test_config).groups) == {100}


def test_bad_records_are_skipped_with_a_warning_when_asked(mitdb, tmp_path, test_config, caplog):
    import shutil
    for record in ("100", "101"):
        for ext in ("hea", "dat", "atr"):
            shutil.copy(os.path.join(mitdb, f"{record}.{ext}"), tmp_path / f"{record}.{ext}")
    os.remove(tmp_path / "101.atr")
    test_config.data.name, test_config.data.dir = "mitbih", str(tmp_path)
    with pytest.raises(UserError, match="record 101: cannot read the beat annotations"):
        mitbih.load(test_config)
    test_config.data.skip_bad_records = True
    samples = mitbih.load(test_config)
    assert set(np.unique(samples.groups)) == {100}
    assert "skipping: MIT-BIH record 101" in caplog.text
