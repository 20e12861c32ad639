"""Shared test setup: quiet TensorFlow, the repository root, the MIT-BIH copy in ../shared."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import pytest  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MITDB = os.environ.get("TFGAD_MITDB", os.path.join(ROOT, "..", "shared", "data", "mitdb"))
MNIST_PNG = os.environ.get("TFGAD_MNIST_PNG", os.path.join(ROOT, "..", "shared", "data",
                                                           "mnist-opencv"))


@pytest.fixture
def mitdb():
    if not os.path.isdir(MITDB):
        pytest.skip(f"MIT-BIH not found at {MITDB}; set TFGAD_MITDB")
    return MITDB


@pytest.fixture
def mnist_png_dir():
    if not os.path.isfile(os.path.join(MNIST_PNG, "digits.png")):
        pytest.skip(f"OpenCV's digits.png not found in {MNIST_PNG}; set TFGAD_MNIST_PNG")
    return MNIST_PNG


@pytest.fixture
def test_config(tmp_path_factory):
    from tfgad.configs import test
    config = test.get_config()
    # Exports go to a temporary folder, never into the checkout's saved_models/.
    config.export.dir = str(tmp_path_factory.mktemp("saved_models"))
    return config
