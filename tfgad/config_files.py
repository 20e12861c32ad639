"""Loading configs/*.py files and applying dotted overrides: the one way scripts and tests get a config."""
import importlib.util
import os
import sys

import ml_collections

from tfgad.errors import UserError

# configs/ sits beside the tfgad package in the repository (an editable install keeps it there).
CONFIGS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs")


def load(name_or_path: str) -> ml_collections.ConfigDict:
    """The get_config() of configs/NAME.py, or of a config file given by path."""
    return load_module(name_or_path).get_config()


def load_module(name_or_path: str):
    """configs/NAME.py, or a config file given by path, as a module (recipes also hold FAMILY
    and OVERRIDES beside get_config()).

    Configs import each other as `configs.default`, so the folder above configs/ must be
    importable; it is added to sys.path here, once, instead of in every script.
    """
    path = name_or_path
    if not path.endswith(".py"):
        path = os.path.join(CONFIGS_DIR, f"{name_or_path}.py")
    if not os.path.isfile(path):
        known = sorted(f[:-3] for f in os.listdir(CONFIGS_DIR) if f.endswith(".py")
                       and not f.startswith("_")) if os.path.isdir(CONFIGS_DIR) else []
        raise UserError(f"config file {path} does not exist; known configs: {', '.join(known)}")
    if os.path.dirname(CONFIGS_DIR) not in sys.path:
        sys.path.insert(0, os.path.dirname(CONFIGS_DIR))
    spec = importlib.util.spec_from_file_location(
        "tfgad_config_" + os.path.basename(path)[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def override(config: ml_collections.ConfigDict, overrides: dict) -> ml_collections.ConfigDict:
    """Sets {"a.b.c": value} fields of config in place (as --config.a.b.c=value does); returns it."""
    for dotted, value in overrides.items():
        *path, leaf = dotted.split(".")
        node = config
        try:
            for part in path:
                node = node[part]
            if leaf not in node:
                raise KeyError(leaf)
        except (KeyError, TypeError):
            raise UserError(f"config has no field {dotted!r}") from None
        node[leaf] = value
    return config
