"""The samples detection scores: stratified subsets of validation and test
(detection.max_samples) and f-AnoGAN's reference outputs on normal training samples."""
from typing import Callable

import ml_collections
from absl import logging

from tfgad.data import splits as split_lib
from tfgad.data.types import Samples
from tfgad.detection import scorer as scorer_lib


def logged_progress(name: str) -> Callable[[int, int], None]:
    """A progress callback(done, total) that logs the scoring of one split."""
    return lambda done, total: logging.info("scoring %s: %d/%d samples", name, done, total)


def validation_subset(config: ml_collections.ConfigDict, val: Samples) -> Samples:
    """The validation samples that detection scores: a detection.max_samples stratified subset."""
    return split_lib.stratified_subset(val, config.detection.max_samples, config.seed)


def scored_subsets(config: ml_collections.ConfigDict, splits: dict) -> tuple[Samples, Samples]:
    """The (val, test) samples that detection scores: detection.max_samples stratified subsets."""
    return (validation_subset(config, splits["val"]),
            split_lib.stratified_subset(splits["test"], config.detection.max_samples,
                                        config.seed + 1))


def reference_outputs(config: ml_collections.ConfigDict, scorer,
                      train_split: Samples) -> dict | None:
    """The scorer's outputs on normal train samples for f-AnoGAN's centering
    (detection.center_discrimination), or None when it is off."""
    if not config.detection.center_discrimination:
        return None
    reference = split_lib.stratified_subset(train_split, config.detection.reference_samples,
                                            config.seed)
    return scorer_lib.score_samples(scorer, reference.x, config.detection.batch_size, config.seed,
                                    logged_progress("train reference"))
