"""Label-fair baselines: classifiers given the same labelled validation anomalies as a GAN
recipe whose combiner is fit on them, to measure what the GAN adds over plain supervision.

Each is fit(train_x, val_x, val_y, config) -> score(x) -> [N], higher = more anomalous, and
learns from the normal training samples (label 0) and the labelled validation samples:

  gbdt  scikit-learn's HistGradientBoostingClassifier on the flattened sample (the signal,
        plus the context features where the samples carry them: data.rhythm_features)
  gbdt_by_record  the same, on inputs normalized within their record (record_normalized;
        the caller normalizes, as it holds the records)
  cnn   the GANs' own discriminator network (config.model's size) trained as a classifier,
        cross-entropy with balanced class weights, for config.train.epochs

Their validation scores come out of folds (out_of_fold_scores): a classifier scores the
labelled samples it was fit on too confidently for a threshold fit on them to carry to test.
"""
import keras
import ml_collections
import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold

from tfgad.data import rhythm
from tfgad.errors import UserError, choose
from tfgad.models import networks


def features(x: np.ndarray, config: ml_collections.ConfigDict) -> np.ndarray:
    """[N, F] float32: the flattened signal, then each context channel once (they are constant
    over the window, so flattening them would repeat each value L times)."""
    signal, values = rhythm.split(np.asarray(x, np.float32), rhythm.channels(config))
    signal = signal.reshape(len(x), -1)
    return signal if values is None else np.concatenate([signal, values], axis=1)


def _training_set(train_x, val_x, val_y):
    x = np.concatenate([train_x, val_x])
    y = np.concatenate([np.zeros(len(train_x), np.int8), np.asarray(val_y, np.int8)])
    return x, y


def gradient_boosting(train_x, val_x, val_y, config: ml_collections.ConfigDict):
    x, y = _training_set(train_x, val_x, val_y)
    model = HistGradientBoostingClassifier(random_state=config.seed, class_weight="balanced")
    model.fit(features(x, config), y)
    return lambda new: model.predict_proba(features(new, config))[:, 1]


def cnn_classifier(train_x, val_x, val_y, config: ml_collections.ConfigDict):
    keras.utils.set_random_seed(config.seed)
    x, y = _training_set(train_x, val_x, val_y)
    m = config.model
    shape = rhythm.signal_shape(x.shape[1:], rhythm.channels(config))
    body = networks.build_discriminator(shape, m.base_filters, m.num_blocks, m.kernel_size,
                                        name="classifier")
    inputs = keras.Input(shape)
    classifier = keras.Model(inputs, body(inputs)[0])
    classifier.compile(optimizer=keras.optimizers.Adam(1e-3),
                       loss=keras.losses.BinaryCrossentropy(from_logits=True))
    balance = {0: 0.5 * len(y) / max(1, (y == 0).sum()), 1: 0.5 * len(y) / max(1, y.sum())}
    signal = lambda a: rhythm.signal_part(np.asarray(a, np.float32), rhythm.channels(config))
    classifier.fit(signal(x), y.astype(np.float32), epochs=config.train.epochs,
                   batch_size=config.train.batch_size, class_weight=balance, verbose=0,
                   shuffle=True)
    return lambda new: classifier.predict(signal(new), batch_size=512, verbose=0)[:, 0]


LABELLED_BASELINES = {"gbdt": gradient_boosting, "cnn": cnn_classifier,
                      "gbdt_by_record": gradient_boosting}
# Classifiers whose every input value is first a robust z-score within its record (minus the
# record's median, over its MAD), as configs/ecg_new_patients.py normalizes its score
# components: given to record_normalized inputs, so that a recipe's lead over them is its own.
BY_RECORD = ("gbdt_by_record",)


def record_normalized(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """x [N, ...] with each entry a robust z-score among the samples of its group (record):
    (x - median) / (1.4826 MAD), the MAD floored so that a constant entry stays finite."""
    x = np.asarray(x, np.float32)
    out = np.empty_like(x)
    for group in np.unique(groups):
        rows = groups == group
        median = np.median(x[rows], axis=0)
        mad = 1.4826 * np.median(np.abs(x[rows] - median), axis=0)
        out[rows] = (x[rows] - median) / np.maximum(mad, 1e-3)
    return out


def fit(name: str, train_x, val_x, val_y, config: ml_collections.ConfigDict):
    """Fits the named classifier on normal train samples and the labelled validation samples;
    returns score(x) -> [N]."""
    if not np.any(val_y):
        raise UserError(f"the {name} baseline needs labelled anomalies in validation; this "
                        "protocol has none (data.anomaly_val_fraction=0)")
    return choose(LABELLED_BASELINES, name, "labelled baseline")(train_x, val_x, val_y, config)


def out_of_fold_scores(name: str, train_x, val_x, val_y, config: ml_collections.ConfigDict,
                       folds: int = 3) -> np.ndarray:
    """Validation scores [N] of classifiers that never saw the scored sample: each fold of
    validation is scored by one fit on the training normals and the other folds."""
    folds = min(folds, int(np.bincount(np.asarray(val_y, int), minlength=2).min()))
    if folds < 2:
        raise UserError(f"the {name} baseline needs at least 2 labelled anomalies in validation")
    scores = np.empty(len(val_x))
    split = StratifiedKFold(folds, shuffle=True, random_state=config.seed)
    for fit_rows, score_rows in split.split(val_x, val_y):
        score = fit(name, train_x, val_x[fit_rows], np.asarray(val_y)[fit_rows], config)
        scores[score_rows] = score(val_x[score_rows])
        keras.backend.clear_session()
    return scores
