"""What an export folder holds besides the SavedModel: shared by the writer (export.py) and the
readers (inference), which must not import the models or training to know it."""
import json
import os

from tfgad.errors import UserError

METADATA_PATH = os.path.join("assets.extra", "tfgad.json")
# serving_default outputs that are not score components: the calibrated decision, and x_hat.
NOT_COMPONENTS = ("score", "is_anomaly", "x_hat")


def read_metadata(version_dir: str) -> dict:
    """assets.extra/tfgad.json of an export's version folder."""
    path = os.path.join(version_dir, METADATA_PATH)
    if not os.path.isfile(path):
        raise UserError(f"{version_dir} is not a tfgad export: {path} is missing")
    with open(path) as f:
        return json.load(f)
