"""The package as a user installs it: configs shipped inside, found by name from any folder;
the `tfgad` command; a wheel that holds the configs, the license and the entry point."""
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import ROOT
from tfgad import cli, config_files
from tfgad.errors import UserError


def test_shipped_configs_are_found_by_name_and_by_checkout_path_from_any_folder(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no configs/ here: the package's own copy answers
    shipped = os.path.join(config_files.CONFIGS_DIR, "anogan.py")
    assert config_files.resolve("anogan") == shipped
    assert config_files.resolve("configs/anogan.py") == shipped
    assert config_files.resolve("tuned/aegan_digits") == os.path.join(
        config_files.CONFIGS_DIR, "tuned", "aegan_digits.py")
    assert config_files.load("configs/tuned/aegan_digits.py").model.latent_dim == 32
    assert config_files.load("test").export.name == "tfgad-test"
    with pytest.raises(UserError, match="config file configs/nope.py does not exist; .*known "
                                        "configs: aegan, alad, anogan"):
        config_files.resolve("configs/nope.py")


def test_a_config_file_outside_the_package_imports_the_shipped_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.py").write_text(
        "from tfgad.configs import aegan\n\n\ndef get_config():\n"
        "    config = aegan.get_config()\n    config.train.epochs = 7\n    return config\n")
    config = config_files.load(str(tmp_path / "mine.py"))
    assert (config.model.name, config.train.epochs) == ("aegan", 7)
    argv = config_files.resolve_argv(["prog", "--config=anogan", "--config.train.epochs=3"])
    assert argv == ["prog", f"--config={config_files.CONFIGS_DIR}/anogan.py",
                    "--config.train.epochs=3"]


def test_the_tfgad_command_lists_its_commands_and_the_configs(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for command in ("train", "detect", "export", "score", "serve", "download"):
        assert f"\n  {command} " in text
    assert "anogan" in text and "tuned/aegan_digits" in text
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["fit"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == ("error: unknown command 'fit'; commands: train, detect, "
                                       "export, score, serve, download\n")


def test_a_command_help_lists_its_flags_and_the_configs(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: tfgad train [flags]")
    assert "--config: A shipped config's name (aegan," in text and "--mode:" in text
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["detect", "--mode=all"])
    assert exit_info.value.code == 2
    assert "tfgad detect sets --mode itself" in capsys.readouterr().err


def test_the_wheel_holds_the_configs_the_license_and_the_command(tmp_path):
    if importlib.util.find_spec("setuptools") is None:
        pytest.skip("setuptools is not installed; the wheel cannot be built offline")
    # Built from a copy: setuptools writes its build/ folder beside the sources.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "runs", "saved_models", "__pycache__",
        ".pytest_cache"))
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                             "--no-build-isolation", "-w", str(tmp_path), str(source)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = [f for f in os.listdir(tmp_path) if f.endswith(".whl")]
    names = set(zipfile.ZipFile(tmp_path / wheel).namelist())
    shipped = {f"tfgad/configs/{name}.py" for name in config_files.known()}
    assert shipped <= names and "tfgad/configs/tuned/aegan_digits.json" in names
    info = wheel.split("-py3")[0] + ".dist-info"
    # setuptools >= 77 puts license files under licenses/ (PEP 639); older ones beside METADATA.
    assert {f"{info}/LICENSE", f"{info}/licenses/LICENSE"} & names
    entry_points = zipfile.ZipFile(tmp_path / wheel).read(f"{info}/entry_points.txt").decode()
    assert "tfgad = tfgad.cli:main" in entry_points
    requires = zipfile.ZipFile(tmp_path / wheel).read(f"{info}/METADATA").decode()
    assert "Requires-Dist: tensorflow<3,>=2.19" in requires  # a range, not an exact pin


def test_tfgad_download_names_its_datasets_and_answers_help_without_network(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["download", "physionet-all"])
    assert exit_info.value.code == 2
    assert "unknown dataset 'physionet-all'; known: mitbih" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["download", "--help"])
    assert exit_info.value.code == 0
    assert "usage: tfgad download" in capsys.readouterr().out

