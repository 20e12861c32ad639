"""The examples in the public surface's docstrings run as written (doctest)."""
import doctest
import importlib

import pytest

MODULES = ["tfgad", "tfgad.detector", "tfgad.score", "tfgad.sections"]


@pytest.mark.parametrize("name", MODULES)
def test_the_docstring_examples_run(name, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # nothing an example writes lands in the checkout
    module = importlib.import_module(name)
    results = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert results.attempted > 0, f"{name} has no example"
    assert results.failed == 0
