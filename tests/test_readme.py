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
