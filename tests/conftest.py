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


@pytest.fixture(scope="session")
def trained_test_run(tmp_path_factory):
    """configs/test.py trained, scored, calibrated and exported once for the whole session:
    (config, workdir). Tests that change it take a copy_of_trained_run."""
    from tfgad import run
    from tfgad.configs import test
    config = test.get_config()
    root = tmp_path_factory.mktemp("trained_test_run")
    config.export.dir = str(root / "saved_models")
    workdir = str(root / "run")
    run.train_and_evaluate(config, workdir, "all")
    return config, workdir


@pytest.fixture(scope="module")
def copy_of_trained_run(trained_test_run, tmp_path_factory):
    """A module's own copy of trained_test_run: (config, workdir), the export under
    config.export.dir as in the original."""
    import shutil
    config, workdir = trained_test_run
    root = tmp_path_factory.mktemp("trained_copy")
    shutil.copytree(workdir, root / "run")
    shutil.copytree(config.export.dir, root / "saved_models")
    config = config.copy_and_resolve_references()
    config.export.dir = str(root / "saved_models")
    return config, str(root / "run")
