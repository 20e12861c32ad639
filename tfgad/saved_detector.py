"""The folder Detector.save writes, and its checked reading: what tfgad.load refuses in one line
(a half copy, a damaged file, another model's weights, a non-finite calibration)."""
import json
import os

from tfgad import io_utils
from tfgad.errors import UserError
from tfgad.training import workdir as workdir_lib

FILE = "detector.json"  # marks a saved detector's folder (tfgad.load tells it from an export)
WEIGHTS_FILE = workdir_lib.WEIGHTS_FILE
REQUIRED = ("config", "normalization", "calibration", "sample_shape")
AGAIN = "copy the whole folder again or save the detector again"


def read(folder: str) -> tuple:
    """(the saved metadata dict, the weights file's path) of a saved detector, checked."""
    path = os.path.join(folder, FILE)
    if not os.path.isfile(path):
        raise UserError(f"{folder} holds no saved detector ({FILE} is missing); write one with "
                        "tfgad.Detector(...).fit(x).save(folder)")
    try:
        with open(path) as f:
            saved = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise UserError(f"{path} is not valid JSON ({str(e).splitlines()[0]}): the saved "
                        f"detector is damaged or half-copied; {AGAIN}") from None
    missing = [k for k in REQUIRED if k not in saved] if isinstance(saved, dict) else REQUIRED
    if missing:
        raise UserError(f"{path} lacks {', '.join(missing)}: it is incomplete or not a saved "
                        f"tfgad detector; {AGAIN}")
    _check_numbers(path, saved)
    weights = os.path.join(folder, WEIGHTS_FILE)
    if not os.path.isfile(weights):
        raise UserError(f"{weights} is missing: the saved detector is incomplete (a half "
                        f"copy?); {AGAIN}")
    expected = saved.get("weights_sha256")  # saves before it was recorded have none
    if expected and workdir_lib.file_sha256(weights) != expected:
        raise UserError(f"{weights} is not the file saved with {FILE} (its SHA-256 differs: "
                        f"another model's weights, or a damaged copy); {AGAIN}")
    return saved, weights


def _check_numbers(path: str, saved: dict) -> None:
    shape = saved["sample_shape"]
    if not (isinstance(shape, list) and shape and all(
            isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape)):
        raise UserError(f"{path}: sample_shape {shape!r} is not a list of positive integers; "
                        f"{AGAIN}")
    threshold = (saved["calibration"] or {}).get("threshold") \
        if isinstance(saved["calibration"], dict) else None
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool):
        raise UserError(f"{path}: the calibration has no numeric threshold; {AGAIN}")
    if not io_utils.all_finite(saved["calibration"]):
        raise UserError(f"{path}: the calibration holds NaN or inf (threshold {threshold!r}); "
                        "it would flag nothing: fit the detector again and save it")

