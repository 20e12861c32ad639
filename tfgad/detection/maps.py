"""Anomaly maps: where in a sample the model's reconstruction fails, per time step of a series
and per pixel of an image (the review: reconstruction-based detection can localize anomalies
within the sample). The map is the residual |x - x_hat| of the normalized signal, averaged over
channels, for every family (an ensemble's is member 0's reconstruction, as its x_hat)."""
from typing import Any

import numpy as np

OUTPUT = "anomaly_map"  # the export's serving_default output, and ScoreResult's field


def residual_map(x: Any, x_hat: Any, backend: Any = np) -> Any:
    """[N, L] of series [N, L, C], [N, H, W] of images [N, H, W, C]: mean |x - x_hat| over the
    channels; numpy or TensorFlow (backend=tf)."""
    if backend is np:
        return np.mean(np.abs(np.asarray(x, np.float32) - np.asarray(x_hat, np.float32)),
                       axis=-1)
    return backend.reduce_mean(backend.abs(x - x_hat), axis=-1)
