"""Atomic file writes: a crash leaves either the old file or the new one, never half of one."""
import io
import json
import math
import os
import tempfile

import numpy as np


def _read_umask() -> int:
    mask = os.umask(0)  # the only way to read it; read once, at import, before any threads
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def write_text(path: str, text: str) -> None:
    write_bytes(path, text.encode())


def strict_json(obj):
    """obj with NaN and inf (floats or numpy scalars) as None: JSON has no such numbers, and
    strict readers refuse Python's bare NaN."""
    if isinstance(obj, dict):
        return {k: strict_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict_json(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    return obj


def write_json(path: str, obj) -> None:
    """obj as indented, strict JSON (NaN and inf as null); numpy scalars as numbers."""
    write_text(path, json.dumps(strict_json(obj), indent=2, default=float, allow_nan=False))


def write_npz(path: str, arrays: dict) -> None:
    """{name: array} as an uncompressed .npz."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    write_bytes(path, buffer.getvalue())


def write_bytes(path: str, data: bytes) -> None:
    """Writes data to path through a temporary file in the same folder and a rename.

    The file gets the permissions a plain open() would give (0666 less the umask), not
    mkstemp's 0600: a TF Serving process under another user must read exported metadata.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def fresh_folder_beside(path: str) -> str:
    """A new hidden folder in path's parent (made if missing), with the permissions a plain
    os.makedirs would give (0777 less the umask): to write a folder, then rename it to path."""
    import tempfile
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    folder = tempfile.mkdtemp(prefix=f".tmp-{os.path.basename(os.path.normpath(path))}-",
                              dir=parent)
    os.chmod(folder, 0o777 & ~_UMASK)
    return folder


def all_finite(tree) -> bool:
    """Whether every float in a JSON-like tree (dicts, lists, numbers) is finite."""
    if isinstance(tree, dict):
        return all(all_finite(v) for v in tree.values())
    if isinstance(tree, (list, tuple)):
        return all(all_finite(v) for v in tree)
    return not isinstance(tree, float) or math.isfinite(tree)
