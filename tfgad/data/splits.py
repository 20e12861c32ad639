"""Train / validation / test splits: train holds normal samples only, unless contamination is asked for."""
import ml_collections
import numpy as np

from tfgad.errors import UserError
from tfgad.data.types import Samples


def stratified_subset(samples: Samples, max_samples: int, seed: int) -> Samples:
    """At most max_samples samples, keeping the anomaly rate (for quick runs)."""
    if not max_samples or len(samples) <= max_samples:
        return samples
    rng = np.random.default_rng(seed)
    keep = []
    for label in (0, 1):
        index = np.flatnonzero(samples.y == label)
        take = int(round(max_samples * len(index) / len(samples)))
        keep.append(rng.choice(index, size=min(take, len(index)), replace=False))
    return samples.subset(np.sort(np.concatenate(keep)))


def _cut(index, fractions):
    """Splits an already shuffled index array into consecutive parts of the given fractions."""
    bounds = np.cumsum([int(round(f * len(index))) for f in fractions])
    return np.split(index, np.minimum(bounds, len(index)))


def contamination_classes(cfg: ml_collections.ConfigDict) -> list:
    """data.contamination_classes as a list; empty: every anomaly class may be injected."""
    return [c.strip() for c in cfg.contamination_classes.split(",") if c.strip()]


def labelled_classes(cfg: ml_collections.ConfigDict) -> list:
    """data.val_anomaly_classes as a list; empty: validation may label every anomaly class."""
    return [c.strip() for c in cfg.val_anomaly_classes.split(",") if c.strip()]


def _labelled_only(samples: Samples, anomalies: np.ndarray, cfg) -> np.ndarray:
    """The validation anomalies of the classes validation may label (data.val_anomaly_classes);
    the others are left out, so that test judges kinds nobody labelled."""
    classes = labelled_classes(cfg)
    if not classes:
        return anomalies
    keep = np.isin(samples.classes[anomalies], classes)
    present = sorted(set(samples.classes[samples.y == 1]))
    if not np.isin(classes, present).any():
        raise UserError(f"data.val_anomaly_classes={cfg.val_anomaly_classes!r} matches no "
                        f"anomaly here; the anomaly classes are: {', '.join(present)}")
    return anomalies[keep]


def unseen_rows(test: Samples, cfg: ml_collections.ConfigDict) -> np.ndarray | None:
    """Boolean [N] of the test rows that judge unseen anomaly kinds: the normals and the
    anomalies of classes that validation never labelled; None when every class is labelled."""
    classes = labelled_classes(cfg)
    if not classes:
        return None
    return (test.y == 0) | ~np.isin(test.classes, classes)


def _with_contamination(samples, train, pool, cfg, rng):
    """Moves anomalies from pool into train so that they make up data.contamination of the
    train split after injection (N normal train samples get round(c N / (1 - c)) anomalies),
    drawn only from data.contamination_classes if given. The others stay in the pool."""
    contamination = cfg.contamination
    if contamination <= 0:
        return train, pool
    if not 0 < contamination < 1:
        raise UserError(f"data.contamination={contamination}; use a fraction in [0, 1)")
    classes = contamination_classes(cfg)
    pool = rng.permutation(pool)
    eligible = np.isin(samples.classes[pool], classes) if classes else np.ones(len(pool), bool)
    if classes and not eligible.any():
        present = sorted(set(samples.classes[pool]))
        raise UserError(f"data.contamination_classes={cfg.contamination_classes!r} matches no "
                        f"anomaly here; the anomaly classes are: {', '.join(present)}")
    wanted = int(round(contamination * len(train) / (1 - contamination)))
    if wanted > eligible.sum():
        raise UserError(f"data.contamination={contamination} needs {wanted} anomalies in train "
                        f"but only {eligible.sum()} are available"
                        + (f" in classes {', '.join(classes)}" if classes else "") + "; lower it")
    chosen = np.zeros(len(pool), bool)
    chosen[np.flatnonzero(eligible)[:wanted]] = True
    return np.concatenate([train, pool[chosen]]), pool[~chosen]


def intra(samples: Samples, cfg: ml_collections.ConfigDict, seed: int) -> dict:
    """Per-sample split: normals to train/val/test, anomalies to val/test only."""
    rng = np.random.default_rng(seed)
    normal = rng.permutation(np.flatnonzero(samples.y == 0))
    anomalies = rng.permutation(np.flatnonzero(samples.y == 1))
    train_fraction = 1.0 - cfg.val_fraction - cfg.test_fraction
    if train_fraction <= 0:
        raise UserError(f"data.val_fraction + data.test_fraction = "
                        f"{cfg.val_fraction + cfg.test_fraction}; must be below 1")
    train, val, test = _cut(normal, [train_fraction, cfg.val_fraction])
    train, anomalies = _with_contamination(samples, train, anomalies, cfg, rng)
    val_anomalies, test_anomalies = _cut(anomalies, [cfg.anomaly_val_fraction])
    val_anomalies = _labelled_only(samples, val_anomalies, cfg)
    return _assemble(samples, train, np.concatenate([val, val_anomalies]),
                     np.concatenate([test, test_anomalies]))


def inter(samples: Samples, cfg: ml_collections.ConfigDict, seed: int,
          test_groups: list | None = None) -> dict:
    """Group split: whole groups (patients, records) go to test, other whole groups to
    validation, and the normals of the rest train; no group sits in two splits, so that
    the threshold is fit on patients the model never saw, as test's are.

    Validation holds every sample of its groups (their normals and, unless
    data.anomaly_val_fraction is 0, their anomalies of the labelled classes); it takes
    val_fraction / (1 - test_fraction) of the non-test groups, at least one. The anomalies of
    the training groups are used nowhere (or injected by data.contamination).

    Args:
      test_groups: the groups held out for test; None draws `test_fraction` of the groups.
    """
    rng = np.random.default_rng(seed)
    groups = np.unique(samples.groups)
    if test_groups is None:
        count = max(1, int(round(cfg.test_fraction * len(groups))))
        test_groups = list(rng.choice(groups, size=count, replace=False))
    in_test = np.isin(samples.groups, np.asarray(test_groups, dtype=np.int64))
    if in_test.all() or not in_test.any():
        raise UserError("the inter-patient split left train or test empty; check data.records")
    rest = rng.permutation(np.unique(samples.groups[~in_test]))
    if len(rest) < 2:
        raise UserError(f"the inter-patient split needs at least 2 groups besides the test "
                        f"ones (one for validation, one for training); it has {len(rest)}: "
                        "use more records")
    val_share = cfg.val_fraction / (1.0 - cfg.test_fraction)
    val_groups = rest[:min(len(rest) - 1, max(1, int(round(val_share * len(rest)))))]
    in_val = np.isin(samples.groups, val_groups)
    train = rng.permutation(np.flatnonzero(~in_test & ~in_val & (samples.y == 0)))
    pool = np.flatnonzero(~in_test & ~in_val & (samples.y == 1))
    train, _ = _with_contamination(samples, train, pool, cfg, rng)
    val_normals = np.flatnonzero(in_val & (samples.y == 0))
    val_anomalies = np.flatnonzero(in_val & (samples.y == 1))
    if cfg.anomaly_val_fraction == 0:
        val_anomalies = val_anomalies[:0]  # one-class: no labelled anomaly in validation
    val_anomalies = _labelled_only(samples, val_anomalies, cfg)
    return _assemble(samples, train, np.concatenate([val_normals, val_anomalies]),
                     np.flatnonzero(in_test))


def _assemble(samples, train, val, test):
    splits = {name: samples.subset(np.sort(index))
              for name, index in (("train", train), ("val", val), ("test", test))}
    for name, split in splits.items():
        if len(split) == 0:
            raise UserError(f"the {name} split is empty; use more data or other fractions")
    return splits


def contamination_summary(cfg: ml_collections.ConfigDict, train: Samples) -> dict:
    """What injection put into the train split: asked and actual fraction, count, classes."""
    injected = train.y == 1
    classes, counts = np.unique(train.classes[injected], return_counts=True)
    return {"asked": float(cfg.contamination), "classes": contamination_classes(cfg) or "any",
            "injected": int(injected.sum()), "fraction": float(injected.mean()),
            "injected_by_class": {str(c): int(n) for c, n in zip(classes, counts)}}
