"""scikit-learn's 8x8 digits as a one-class image task: one digit normal, the rest anomalous."""
import ml_collections
import numpy as np

from tfgad.data.types import Samples
from tfgad.errors import UserError


def load(config: ml_collections.ConfigDict) -> Samples:
    from sklearn.datasets import load_digits
    normal = config.data.normal_class
    if normal not in range(10):
        raise UserError(f"data.normal_class={normal} is not a digit; use 0..9")
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., None]  # (N, 8, 8, 1) in [0, 1]
    y = digits.target != normal
    # No subjects here: each image is its own group.
    return Samples(x, y, np.arange(len(x)), digits.target.astype(str))
