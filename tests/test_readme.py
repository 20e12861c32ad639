"""README's Python blocks run as pasted (in a temporary folder; training shortened)."""
import os
import re

import pytest

from tests.conftest import ROOT


def python_block(heading: str) -> str:
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    section = text[text.index(f"\n## {heading}\n"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.slow
def test_the_python_api_block_runs_as_pasted(tmp_path, monkeypatch):
    code = python_block("Python API")
    assert '"train.epochs": 5' in code and "x_train, x_val, y_val, x_new =" in code
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(code.replace('"train.epochs": 5', '"train.epochs": 1'), "README.md", "exec"),
         namespace)
    assert namespace["scores"].shape == namespace["flags"].shape == (len(namespace["x_new"]),)
    assert os.path.isfile(tmp_path / "my_detector" / "detector.json")
    assert namespace["path"].endswith(os.path.join("saved_models", "ecg", "1"))


@pytest.mark.slow
def test_the_score_new_data_python_block_runs_as_pasted(tmp_path, monkeypatch):
    """With the export the block's command makes (a tiny one here) and MIT-BIH in data/mitdb."""
    from tests.conftest import MITDB
    if not os.path.isdir(MITDB):
        pytest.skip("MIT-BIH copy not found")
    from tfgad import run
    from tfgad.configs import test
    code = python_block("Score new data")
    config = test.get_config()
    config.model.name, config.data.name, config.data.dir = "aegan", "mitbih", MITDB
    config.data.records, config.data.max_samples = "101,103", 1200
    config.data.window_before, config.data.window_after = 140, 180
    monkeypatch.chdir(tmp_path)
    os.makedirs("data")
    os.symlink(MITDB, os.path.join("data", "mitdb"))
    config.export.dir, config.export.name = "saved_models", "aegan-mitbih"
    run.train_and_evaluate(config, str(tmp_path / "run"), "all")
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["proba"].shape == (50, 2) and len(namespace["result"].quality) == 50
