"""tfgad: GAN-based anomaly detection with TensorFlow/Keras."""
import os

# Quiet TensorFlow's C++ logs and pin Keras to TensorFlow before either is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"


def load(path: str):
    """The exported model at saved_models/NAME (latest version) or saved_models/NAME/VERSION,
    as a tfgad.inference.Detector: detector.score(x), detector.score_record(path)."""
    from tfgad.inference import load as load_export
    return load_export(path)
