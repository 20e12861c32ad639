"""The boosted-trees combiner: gradient-boosted decision trees over the score components.

An RBF-SVM draws one smooth boundary; some components matter only in a region of the others
(a rhythm ratio says little once the shape is clearly abnormal, much when the shape is
normal), which trees split on directly. scikit-learn's HistGradientBoostingClassifier is fit
on validation with its default settings (100 trees of at most 31 leaves, learning rate 0.1);
its trees are saved as flat node arrays, so that the same decision function evaluates in
numpy (offline) and in core TensorFlow ops (exported graphs): a test holds both equal to
scikit-learn's decision_function.
"""
import collections

import numpy as np
import tensorflow as tf

# The node fields kept per tree, padded to the largest tree (a padded node is a leaf of 0).
_FIELDS = ("feature", "threshold", "left", "right", "leaf", "value")


def fit(matrix: np.ndarray, labels: np.ndarray, seed: int = 0) -> dict:
    """Fits the trees on validation components [N, k] and labels [N] (both classes present).

    Returns:
      dict baseline (the initial log-odds), depth (the deepest leaf) and per node field a
      [trees, nodes] list: feature index, threshold (go left when x <= threshold), left and
      right child, leaf flag and leaf value (shrinkage included).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    model = HistGradientBoostingClassifier(random_state=seed)
    model.fit(np.asarray(matrix, np.float64), np.asarray(labels).astype(int))
    # scikit-learn keeps the fitted trees in _predictors (one per iteration for two classes);
    # tests compare this evaluation with decision_function, so a change there is caught.
    trees = [predictors[0].nodes for predictors in model._predictors]
    width = max(len(t) for t in trees)
    arrays = {f: np.zeros((len(trees), width), np.float64 if f in ("threshold", "value")
                          else np.int64) for f in _FIELDS}
    arrays["leaf"][:] = 1
    for i, nodes in enumerate(trees):
        n = len(nodes)
        arrays["feature"][i, :n] = nodes["feature_idx"]
        arrays["threshold"][i, :n] = nodes["num_threshold"]
        arrays["left"][i, :n] = nodes["left"]
        arrays["right"][i, :n] = nodes["right"]
        arrays["leaf"][i, :n] = nodes["is_leaf"]
        arrays["value"][i, :n] = nodes["value"]
    return {"baseline": float(np.ravel(model._baseline_prediction)[0]),
            "depth": int(max(int(t["depth"].max()) for t in trees)),
            **{f: a.tolist() for f, a in arrays.items()}}


_ARRAYS: collections.OrderedDict = collections.OrderedDict()  # id(combiner) -> (combiner, its node arrays); a few
_CACHED = 8


def _arrays(combiner: dict) -> dict:
    """The combiner's node lists as arrays, converted once per combiner (a server scores each
    request with the same one: converting every time cost 1 ms a call). The cache holds the
    combiner itself, so its id cannot be reused while cached."""
    hit = _ARRAYS.get(id(combiner))
    if hit is not None and hit[0] is combiner:
        return hit[1]
    arrays = {f: np.asarray(combiner[f]) for f in _FIELDS}
    _ARRAYS[id(combiner)] = (combiner, arrays)
    while len(_ARRAYS) > _CACHED:
        _ARRAYS.popitem(last=False)
    return arrays


def scores(matrix: np.ndarray, combiner: dict) -> np.ndarray:
    """The trees' decision function (log-odds) [N] of components [N, k], in numpy."""
    x = np.asarray(matrix, np.float64)
    a = _arrays(combiner)
    trees = np.arange(a["feature"].shape[0])[:, None]
    node = np.zeros((a["feature"].shape[0], len(x)), np.int64)  # [trees, N]
    for _ in range(combiner["depth"]):
        value = x[np.arange(len(x))[None, :], a["feature"][trees, node]]
        child = np.where(value <= a["threshold"][trees, node], a["left"][trees, node],
                         a["right"][trees, node])
        node = np.where(a["leaf"][trees, node] == 1, node, child)
    return combiner["baseline"] + a["value"][trees, node].sum(axis=0)


def scores_tf(matrix: tf.Tensor, combiner: dict) -> tf.Tensor:
    """scores for a float64 tensor [B, k], in core TensorFlow ops (gathers, no Python per row)."""
    a = {f: tf.constant(combiner[f], tf.float64 if f in ("threshold", "value") else tf.int64)
         for f in _FIELDS}
    node = tf.zeros([len(combiner["feature"]), tf.shape(matrix)[0]], tf.int64)  # [trees, B]
    x_by_tree = tf.tile(matrix[None], [len(combiner["feature"]), 1, 1])  # [trees, B, k]
    at = lambda field: tf.gather(a[field], node, batch_dims=1)
    for _ in range(combiner["depth"]):
        value = tf.gather(x_by_tree, at("feature"), batch_dims=2)
        child = tf.where(value <= at("threshold"), at("left"), at("right"))
        node = tf.where(at("leaf") == 1, node, child)
    return combiner["baseline"] + tf.reduce_sum(at("value"), axis=0)
