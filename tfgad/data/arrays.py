"""A user's own data from a .npz file with x, y and optional groups and classes."""
import os

import numpy as np

from tfgad.data.types import Samples
from tfgad.errors import UserError


def load(config):
    path = config.data.path
    if not path or not os.path.isfile(path):
        raise UserError(f"data.path={path!r} is not a file; pass --config.data.path=FILE.npz "
                        "holding x (N, L, C) or (N, H, W, C), y (N,) and optional groups (N,)")
    with np.load(path, allow_pickle=False) as npz:
        missing = [k for k in ("x", "y") if k not in npz]
        if missing:
            raise UserError(f"{path} lacks arrays {missing}; it holds {sorted(npz.files)}")
        x, y = npz["x"], npz["y"]
        groups = npz["groups"] if "groups" in npz else np.arange(len(x))
        classes = npz["classes"] if "classes" in npz else y.astype(str)
    if x.ndim == 2:
        x = x[..., None]  # (N, L) series: one channel
    if x.ndim not in (3, 4):
        raise UserError(f"x in {path} has shape {x.shape}; expected (N, L, C) or (N, H, W, C)")
    if not set(np.unique(y)) <= {0, 1}:
        raise UserError(f"y in {path} holds {np.unique(y)[:10]}; expected 0 (normal) / 1 (anomaly)")
    return Samples(x, y, groups, classes)
