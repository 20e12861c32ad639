"""tfgad: GAN-based anomaly detection with TensorFlow/Keras."""
import os
from typing import TYPE_CHECKING

# Quiet TensorFlow's C++ logs and pin Keras to TensorFlow before either is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # 3: also the CPU-only cuInit error line
os.environ.setdefault("KERAS_BACKEND", "tensorflow")



def _quiet_tensorflow_import() -> None:
    """Hides the lines TensorFlow's C++ writes to stderr while `import tensorflow` runs
    (oneDNN, "Could not find cuda drivers", CPU features): they come before its log level
    applies. Only on machines without an NVIDIA device, where they say nothing useful;
    TFGAD_TF_LOGS=1 shows them. Python errors of the import still show (raised after)."""
    import importlib.abc
    import importlib.util
    import sys

    if os.environ.get("TFGAD_TF_LOGS", "") not in ("", "0") or "tensorflow" in sys.modules \
            or os.path.exists("/dev/nvidia0"):
        return

    class QuietImport(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name != "tensorflow":
                return None
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(name)
            if spec is None or spec.loader is None:
                return spec
            run = spec.loader.exec_module

            def exec_module(module):
                saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, 2)
                try:
                    run(module)
                finally:
                    os.dup2(saved, 2)
                    os.close(saved)
                    os.close(null)
            spec.loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, QuietImport())


_quiet_tensorflow_import()
__version__ = "0.1.0"
if TYPE_CHECKING:
    from tfgad.interface import FittedDetector
# What marks a folder written by Detector.save (tfgad.load tells it from an export by it);
# tfgad/saved_detector.py owns it (FILE), spelt here too so that `import tfgad` stays light.
SAVED_DETECTOR_FILE = "detector.json"


def load(path: str) -> "FittedDetector":
    """A saved or exported detector, ready to score:

    - a folder written by Detector.save: the tfgad.Detector, which can also refit and export;
    - an export, saved_models/NAME (latest version) or saved_models/NAME/VERSION: a
      tfgad.inference.Detector over the SavedModel, with score(x), score_record(path).

    Both answer score(x), decision_function(x), predict(x) and threshold_.

    Example (tests/test_docstrings.py runs it):

    >>> import os, tempfile, numpy as np, tfgad
    >>> from tfgad import config_files, data
    >>> splits, _ = data.load_splits(config_files.load("test"), normalize=False)
    >>> fitted = tfgad.Detector("test", verbose=0).fit(splits["train"].x)  # one-class
    >>> folder = fitted.save(os.path.join(tempfile.mkdtemp(), "detector"))
    >>> loaded = tfgad.load(folder).set_params(verbose=0)  # no progress bars
    >>> x = splits["test"].x
    >>> bool(np.allclose(loaded.decision_function(x), fitted.decision_function(x), atol=1e-5))
    True
    """
    if os.path.isfile(os.path.join(path, SAVED_DETECTOR_FILE)):
        from tfgad.detector import Detector as FittedDetector
        return FittedDetector.load(path)
    from tfgad.inference import load as load_export
    return load_export(path)


def __getattr__(name):
    # tfgad.Detector without importing TensorFlow at `import tfgad` (the CLI's --help stays fast).
    if name == "Detector":
        from tfgad.detector import Detector
        return Detector
    raise AttributeError(f"module 'tfgad' has no attribute {name!r}")
