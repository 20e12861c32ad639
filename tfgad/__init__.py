"""tfgad: GAN-based anomaly detection with TensorFlow/Keras."""
import os

# Quiet TensorFlow's C++ logs and pin Keras to TensorFlow before either is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"
