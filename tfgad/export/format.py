"""What an export folder holds besides the SavedModel: shared by the writer (export.py) and the
readers (inference), which must not import the models or training to know it."""
import json
import os

from tfgad.errors import UserError

METADATA_PATH = os.path.join("assets.extra", "tfgad.json")
# serving_default outputs that are not score components: the calibrated decision, its p-value,
# the reconstruction and the anomaly map.
NOT_COMPONENTS = ("score", "is_anomaly", "p_value", "x_hat", "anomaly_map")


# What a reader needs from the metadata; an export without them is incomplete.
REQUIRED_METADATA = ("sample_shape", "calibration")


def read_metadata(version_dir: str) -> dict:
    """assets.extra/tfgad.json of an export's version folder, checked for what readers need."""
    path = os.path.join(version_dir, METADATA_PATH)
    if not os.path.isfile(path):
        raise UserError(f"{version_dir} is not a tfgad export: {path} is missing")
    try:
        with open(path) as f:
            metadata = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise UserError(f"{path} is not valid JSON ({str(e).splitlines()[0]}): the export is "
                        "damaged or half-copied; copy it again or export the model again") from None
    missing = [k for k in REQUIRED_METADATA if k not in (metadata if isinstance(metadata, dict)
                                                         else {})]
    if not missing and "threshold" not in (metadata["calibration"] or {}):
        missing = ["calibration.threshold"]
    if missing:
        raise UserError(f"{path} lacks {', '.join(missing)}: the export is incomplete or not "
                        "tfgad's; export the model again")
    return metadata
