"""Classic baselines: each separates an easy shifted-anomaly problem; unknown names are listed."""
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from tfgad import baselines, labelled_baselines
from tfgad.errors import UserError


def toy(seed=0):
    """Normal samples on a low-dimensional subspace, anomalies off it, as [N, 16, 1] series."""
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(2, 16))
    normal = lambda n: (rng.normal(size=(n, 2)) @ basis + 0.05 * rng.normal(size=(n, 16)))
    train = normal(300)
    test = np.concatenate([normal(100), normal(100) + 3.0 * rng.normal(size=(100, 16))])
    labels = np.r_[np.zeros(100), np.ones(100)]
    as_series = lambda a: a[..., None].astype(np.float32)
    return as_series(train), as_series(test), labels


@pytest.mark.parametrize("name", sorted(baselines.BASELINES))
def test_baseline_ranks_off_subspace_samples_as_anomalies(name, test_config):
    train, test, labels = toy()
    test_config.train.epochs, test_config.model.latent_dim = 30, 2
    score = baselines.fit(name, train, test_config)
    scores = score(test)
    assert scores.shape == (200,) and np.isfinite(scores).all()
    assert roc_auc_score(labels, scores) > 0.9


def test_pca_score_is_the_squared_residual_off_the_principal_subspace(test_config):
    train, _, _ = toy()
    score = baselines.fit("pca", train, test_config)
    on = np.zeros((1, 16, 1), np.float32)  # the origin (about the mean) lies in the subspace
    off = np.zeros((1, 16, 1), np.float32)
    off[0, 0, 0] = 10.0
    assert score(on)[0] < 0.01 and score(off)[0] > 1.0


def test_unknown_baseline_lists_the_known_ones(test_config):
    with pytest.raises(UserError, match="known: conv_ae, deep_svdd, isolation_forest, one_class_svm, pca"):
        baselines.fit("lof", np.zeros((4, 8, 1), np.float32), test_config)


@pytest.mark.parametrize("name", sorted(labelled_baselines.LABELLED_BASELINES))
def test_label_fair_classifiers_learn_from_the_labelled_validation_samples(name, test_config):
    train, test, labels = toy()
    val, val_labels = test[::2], labels[::2]  # half of the toy's labelled samples validate
    test_config.train.epochs, test_config.train.batch_size = 20, 32
    score = labelled_baselines.fit(name, train, val, val_labels, test_config)
    scores = score(test[1::2])
    assert scores.shape == (100,) and np.isfinite(scores).all()
    assert roc_auc_score(labels[1::2], scores) > 0.9
    # Out of fold: every validation sample is scored by a fit that did not see it.
    out_of_fold = labelled_baselines.out_of_fold_scores(name, train, val, val_labels, test_config)
    assert out_of_fold.shape == (100,) and roc_auc_score(val_labels, out_of_fold) > 0.8
    with pytest.raises(UserError, match=f"the {name} baseline needs labelled anomalies"):
        labelled_baselines.fit(name, train, val, np.zeros(100), test_config)


def test_label_fair_features_take_each_context_channel_once(test_config):
    x = np.zeros((2, 5, 4), np.float32)
    x[..., 0] = np.arange(5)
    x[..., 1:] = [0.1, 0.2, 0.3]  # the three rhythm ratios, constant over the window
    test_config.data.rhythm_features = True
    np.testing.assert_allclose(labelled_baselines.features(x, test_config)[0],
                               [0, 1, 2, 3, 4, 0.1, 0.2, 0.3])
    test_config.data.rhythm_features = False
    assert labelled_baselines.features(x, test_config).shape == (2, 20)
