"""A fitted calibration applied to a components matrix: normalization, the members' means of
an ensemble, the combiner and the threshold, in numpy and in core TensorFlow ops. It imports
no model code, so that scoring with a calibration (a loaded export, a server) needs none."""
import numpy as np

from tfgad import score_columns
from tfgad.detection import combiners, normalize
from tfgad.errors import UserError


def matrix(components: dict, names: list) -> np.ndarray:
    """The components dict as an [N, k] float64 matrix in the order of names."""
    missing = [n for n in names if n not in components]
    if missing:
        raise UserError(f"the scorer returns no {missing}; it returns {sorted(components)}")
    return np.stack([np.asarray(components[n], np.float64) for n in names], axis=1)


def member_means(z, calibration: dict, backend=np):
    """[N, columns] normalized -> [N, combined] (score_columns.Layout.member_means)."""
    return score_columns.Layout.from_calibration(calibration).member_means(z, backend)


def combine(calibration: dict, raw: np.ndarray) -> tuple:
    """(scores [N] float64, decisions [N] int8) of raw [N, columns], as the calibration's record
    normalization left them (z-scores within a record for a robust calibration)."""
    norm = calibration["normalization"]
    z = member_means(normalize.apply(raw, norm["shift"], norm["scale"]), calibration)
    scores = combiners.combined_scores(calibration["combiner"], z)
    return scores, (scores >= calibration["threshold"]).astype(np.int8)
