"""A user's own data from a .npz file with x, y and optional groups and classes."""
import os
import zipfile

import ml_collections
import numpy as np

from tfgad.data.types import Samples
from tfgad.errors import UserError

_FORMAT = "x (N, L, C) or (N, H, W, C), y (N,) and optional groups (N,)"


def _read(path):
    """The arrays of an .npz file, or a UserError that says what is wrong with the file."""
    how = "write it with numpy.savez(path, x=..., y=...)"
    if os.path.getsize(path) == 0:
        raise UserError(f"{path} is empty; {how}")
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            single = f.read(6) == b"\x93NUMPY"
        what = "holds one .npy array" if single else "is not a zip file"
        raise UserError(f"{path} {what}, not an .npz archive of {_FORMAT}; {how}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as e:
        first = str(e).splitlines()[0] if str(e) else "unreadable"
        raise UserError(f"{path} is not a readable .npz archive ({type(e).__name__}: {first}); "
                        f"{how}") from None
    not_arrays = sorted(k for k, v in arrays.items() if not isinstance(v, np.ndarray))
    if not_arrays:  # numpy hands back the raw bytes of members that are not .npy files
        raise UserError(f"{path} is not a readable .npz archive: its members {not_arrays} are not "
                        f"numpy arrays; {how}")
    return arrays


def _numeric(path, name, array):
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise UserError(f"{name} in {path} has dtype {array.dtype}; it must be numeric")


def load(config: ml_collections.ConfigDict) -> Samples:
    path = config.data.path
    if not path or not os.path.isfile(path):
        raise UserError(f"data.path={path!r} is not a file; pass --config.data.path=FILE.npz "
                        f"holding {_FORMAT}")
    arrays = _read(path)
    missing = [k for k in ("x", "y") if k not in arrays]
    if missing:
        raise UserError(f"{path} lacks arrays {missing}; it holds {sorted(arrays)}")
    x, y = arrays["x"], arrays["y"]
    groups = arrays["groups"] if "groups" in arrays else np.arange(len(x))
    classes = arrays["classes"] if "classes" in arrays else y.astype(str)
    for name, array in (("x", x), ("y", y), ("groups", groups)):
        _numeric(path, name, array)
    if x.ndim == 2:
        x = x[..., None]  # (N, L) series: one channel
    if x.ndim not in (3, 4):
        raise UserError(f"x in {path} has shape {x.shape}; expected (N, L, C) or (N, H, W, C)")
    if len(x) == 0:
        raise UserError(f"x in {path} holds no samples")
    for name, array in (("y", y), ("groups", groups), ("classes", classes)):
        if len(array) != len(x):
            raise UserError(f"{name} in {path} has {len(array)} entries but x has {len(x)} samples")
    if not set(np.unique(y)) <= {0, 1}:
        raise UserError(f"y in {path} holds {np.unique(y)[:10]}; expected 0 (normal) / 1 (anomaly)")
    return Samples(x, y, groups, classes)
