"""tfgad: GAN-based anomaly detection with TensorFlow/Keras."""
import os

# Quiet TensorFlow's C++ logs and pin Keras to TensorFlow before either is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # 3: also the CPU-only cuInit error line
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"
# What marks a folder written by Detector.save (tfgad.load tells it from an export by it);
# tfgad/saved_detector.py owns it (FILE), spelt here too so that `import tfgad` stays light.
SAVED_DETECTOR_FILE = "detector.json"


def load(path: str):
    """A saved or exported detector, ready to score:

    - a folder written by Detector.save: the tfgad.Detector, which can also refit and export;
    - an export, saved_models/NAME (latest version) or saved_models/NAME/VERSION: a
      tfgad.inference.Detector over the SavedModel, with score(x), score_record(path).

    Both answer score(x), decision_function(x), predict(x) and threshold_.
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
