"""Robust training on contaminated data: the cuts, the per-sample state, the losses' weights,
contamination settings, end-to-end rejection quality, resume and bad settings."""
import csv
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.test_main import train_until_crash
from tfgad import data
from tfgad.training import config_checks, train_lib
from tfgad import run
from tfgad.data import pipeline
from tfgad.errors import UserError
from tfgad.models import losses
from tfgad.training.robust import cuts, outputs
from tfgad.training.robust.state import TrainingSetState


def test_a_given_fraction_cuts_the_highest_scores():
    mask = cuts.outlier_mask([0.1, 5.0, 0.3, 9.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8], 0.2, 3.5)
    assert mask.numpy().tolist() == [False, True, False, True] + [False] * 6


def test_the_estimated_cut_is_the_robust_z_score_rule():
    # median 3, |s - 3| = 2, 1, 0, 1, 97 -> MAD 1; z(100) = 97 / 1.4826 = 65.4, z(5) = 1.35.
    scores = [1.0, 2.0, 3.0, 4.0, 100.0]
    np.testing.assert_allclose(cuts.robust_z(scores).numpy(),
                               np.array([-2, -1, 0, 1, 97]) / 1.4826, rtol=1e-5)
    assert cuts.outlier_mask(scores, 0.0, 3.5).numpy().tolist() == [False] * 4 + [True]
    assert not cuts.outlier_mask([1.0, 1.1, 0.9, 1.05, 0.95], 0.0, 3.5).numpy().any()


def test_a_cut_never_takes_half_or_more():
    # 0.6 of ten would be six; the cap allows floor(0.5 * 10) = 5, the five highest.
    mask = cuts.outlier_mask(np.arange(10.0), 0.6, 3.5).numpy()
    assert mask.tolist() == [False] * 5 + [True] * 5


def test_weighted_means_leave_out_zero_weight_samples():
    values = tf.constant([[1.0, 3.0], [10.0, 10.0], [5.0, 7.0]])
    weights = tf.constant([1.0, 0.0, 1.0])
    assert float(losses.mean(values, weights)) == pytest.approx((2.0 + 6.0) / 2)
    assert float(losses.mean(values)) == pytest.approx(36.0 / 6)
    real, fake = tf.constant([[1.0], [100.0], [3.0]]), tf.constant([[0.0], [0.0], [0.0]])
    # Weighted batch means: real (1 + 3) / 2 = 2, fake 0 -> squared distance 4.
    assert float(losses.feature_matching(real, fake, weights)) == pytest.approx(4.0)
    logits = tf.constant([[0.0], [-50.0], [0.0]])
    # softplus(0) = log 2 for the two kept reals; the left-out one's huge loss does not count.
    assert float(losses.discriminator_bce(logits, -logits, weights, weights)) == \
        pytest.approx(2 * np.log(2.0), rel=1e-5)


def test_trim_zeroes_the_top_of_a_batch_after_the_warmup_and_records_it():
    state = TrainingSetState(6, "trim", fraction=0.25, warmup_epochs=1)
    index = tf.constant([4, 0, 2, 5])
    ranking = tf.constant([[0.1, 0.1], [0.2, 0.2], [9.0, 9.0], [0.3, 0.3]])
    assert state.batch_weights(index, ranking).numpy().tolist() == [1, 1, 1, 1]  # warm-up
    assert (state.since.numpy() == -1).all()
    state.epoch.assign(2)
    assert state.batch_weights(index, ranking).numpy().tolist() == [1, 1, 0, 1]
    assert state.since.numpy().tolist() == [-1, -1, 2, -1, -1, -1]
    np.testing.assert_allclose(state.score.numpy(), [0.2, 0, 9.0, 0, 0.1, 0.3])
    state.epoch.assign(3)  # still cut: it stays "left out since epoch 2"
    state.batch_weights(index, ranking)
    assert state.since.numpy()[2] == 2


def test_reject_sets_keep_and_the_state_round_trips(tmp_path):
    state = TrainingSetState(5, "reject", fraction=0.2)
    rejected = state.reject(np.array([0.1, 0.2, 7.0, 0.3, 0.2]), next_epoch=3)
    assert rejected.tolist() == [False, False, True, False, False]
    assert state.keep.numpy().tolist() == [1, 1, 0, 1, 1]
    # reject reads keep, not the batch's ranking.
    weights = state.batch_weights(tf.constant([2, 0]), tf.constant([0.0, 99.0]))
    assert weights.numpy().tolist() == [0, 1]
    # A rejected sample stays out though its score fell, and fills the one place the rule allows.
    rejected = state.reject(np.array([0.1, 5.0, 0.0, 0.3, 0.2]), next_epoch=4)
    assert rejected.tolist() == [False, False, True, False, False]
    assert state.since.numpy().tolist() == [-1, -1, 3, -1, -1]
    state.save(str(tmp_path), 3)
    again = TrainingSetState(5, "reject", fraction=0.2)
    assert again.restore(str(tmp_path), 3) and not again.restore(str(tmp_path), 4)
    assert again.since.numpy().tolist() == [-1, -1, 3, -1, -1]
    with pytest.raises(ValueError, match="for 5 training samples, not 7"):
        TrainingSetState(7, "reject").restore(str(tmp_path), 3)


def test_rejection_quality_against_hand_counts():
    quality = outputs.rejection_quality([1, 1, 0, 0, 1, 0], [1, 0, 1, 0, 1, 0])
    assert quality == {"left_out": 3, "anomalies": 3, "true_rejections": 2,
                       "precision": pytest.approx(2 / 3), "recall": pytest.approx(2 / 3)}
    assert outputs.rejection_quality([0, 0], [0, 0])["precision"] is None


def test_contamination_is_the_anomalous_share_of_train_and_its_classes_are_chosen(test_config):
    test_config.data.contamination = 0.1
    test_config.data.contamination_classes = "st_shift,inverted_t"
    splits, _ = data.load_splits(test_config)
    train = splits["train"]
    normal = int((train.y == 0).sum())
    assert int(train.y.sum()) == round(0.1 * normal / 0.9)
    assert set(train.classes[train.y == 1]) <= {"st_shift", "inverted_t"}
    summary = data.splits.contamination_summary(test_config.data, train)
    assert summary["injected"] == int(train.y.sum())
    assert summary["fraction"] == pytest.approx(train.y.mean())
    # The injected anomalies left val and test: no sample is in two splits.
    test_config.data.contamination_classes = "no_such_class"
    with pytest.raises(UserError, match="matches no anomaly here; the anomaly classes are: "
                                        "inverted_t, missing_p"):
        data.load_splits(test_config)


def test_plain_contamination_splits_stay_as_they_were(test_config):
    """Choosing classes must not move the anomalies of a run that chooses none."""
    test_config.data.contamination = 0.1
    splits, _ = data.load_splits(test_config)
    test_config.data.contamination_classes = "inverted_t,missing_p,noise_burst,st_shift," \
                                             "wide_premature_qrs"
    same, _ = data.load_splits(test_config)
    for name in splits:
        np.testing.assert_array_equal(splits[name].x, same[name].x)


@pytest.mark.parametrize("field, value, message", [
    ("method", "drop", "unknown train.robust.method 'drop'; known: none, reject, trim"),
    ("fraction", 0.5, r"train.robust.fraction=0.5; must be in \[0, 0.5\)"),
    ("fraction", -0.1, r"train.robust.fraction=-0.1; must be in \[0, 0.5\)"),
    ("every", 0, "train.robust.every=0; must be >= 1"),
    ("score", "kl", "train.robust.score 'kl' is not a score component of model.name=gan"),
    ("warmup_epochs", 2, "train.robust.warmup_epochs=2 >= train.epochs=2: robust training would "
                         "never leave a sample out; lower the warm-up or raise the epochs"),
])
def test_bad_robust_settings_get_one_line_errors(test_config, field, value, message):
    test_config.train.robust.method = "trim"
    test_config.train.robust[field] = value
    with pytest.raises(UserError, match=message) as error:
        config_checks.validate(test_config)
    assert "\n" not in str(error.value)


def test_robust_training_refuses_a_distribution_strategy(test_config):
    test_config.train.robust.method = "reject"
    test_config.train.strategy = "mirrored"
    with pytest.raises(UserError, match="runs with train.strategy=default only"):
        config_checks.validate(test_config)


def _contaminated(test_config, model, method):
    test_config.model.name = model
    test_config.data.contamination = 0.1
    test_config.train.epochs = 5
    test_config.train.sample_plot_every = 0
    test_config.train.robust.method = method
    test_config.train.robust.fraction = 0.1
    test_config.train.robust.warmup_epochs = 1
    test_config.train.robust.every = 1
    return test_config


@pytest.mark.parametrize("model, method", [("aegan", "trim"), ("aegan", "reject"),
                                           ("gan", "reject")])
def test_robust_training_leaves_out_mostly_anomalies(test_config, tmp_path, model, method):
    config = _contaminated(test_config, model, method)
    result = run.train_and_evaluate(config, str(tmp_path), mode="all")
    robust = result["robust"]
    # 10 % of train is anomalous: a random cut would be 10 % precise.
    assert robust["method"] == method and robust["left_out"] > 0
    assert robust["precision"] >= 0.3, robust
    assert result["contamination"]["injected"] == robust["anomalies"] > 0
    with open(tmp_path / "rejected.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == robust["left_out"]
    assert sum(int(r["label"]) for r in rows) == robust["true_rejections"]
    assert os.path.exists(tmp_path / "plots" / "training_scores.png")
    report = (tmp_path / "report.md").read_text()
    assert "## Robust training" in report and "## Contamination" in report


def test_method_none_trains_on_x_alone(test_config, tmp_path):
    splits, _ = data.load_splits(test_config)
    test_config.train.epochs = 1
    model = train_lib.train(test_config, str(tmp_path), splits["train"])
    assert model.sample_weighting is None and not os.path.exists(tmp_path / "rejected.csv")
    assert not isinstance(pipeline.training_dataset(splits["train"].x, 8, 0).element_spec, tuple)


def test_an_inactive_trim_trains_like_plain_training(test_config, tmp_path):
    """All weights 1 (the warm-up outlasts training): the weighted losses equal the plain ones."""
    test_config.model.name = "aegan"
    test_config.train.epochs = 1
    test_config.train.sample_plot_every = 0
    splits, _ = data.load_splits(test_config)
    keras.utils.set_random_seed(0)
    plain = train_lib.train(test_config, str(tmp_path / "plain"), splits["train"])
    test_config.train.robust.method = "trim"
    test_config.train.robust.warmup_epochs = 5
    keras.utils.set_random_seed(0)
    trimmed = train_lib.train(test_config, str(tmp_path / "trim"), splits["train"])
    for a, b in zip(plain.weights, trimmed.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)


def test_a_killed_robust_training_resumes_with_its_rejected_set(test_config, tmp_path,
                                                                 monkeypatch):
    config = _contaminated(test_config, "aegan", "reject")
    config.train.epochs = 4
    splits, _ = data.load_splits(config)
    workdir = str(tmp_path)
    # Rejections after epochs 1, 2 and 3; the crash follows the third (and the backup's save).
    train_until_crash(config, workdir, splits["train"], 2, monkeypatch)
    with np.load(os.path.join(workdir, "robust", "state-0003.npz")) as saved:
        since_at_crash = saved["since"]
    assert (since_at_crash >= 0).any()
    train_lib.train(config, workdir, splits["train"])  # the last epoch: no rejection after it
    with open(os.path.join(workdir, "rejected.csv")) as f:
        rows = {int(r["id"]): int(r["epoch_rejected"]) for r in csv.DictReader(f)}
    expected = {int(i): int(since_at_crash[i]) for i in np.flatnonzero(since_at_crash >= 0)}
    assert rows == expected
    with open(os.path.join(workdir, "robust.json")) as f:
        assert json.load(f)["left_out"] == len(expected)
