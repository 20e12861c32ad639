"""Finding and loading config files and applying dotted overrides: the one way the command line,
scripts and tests get a config.

The shipped configs live in the package (tfgad/configs/, also reachable as configs/ in a
checkout), so an installed tfgad finds them by name from any folder: `--config=anogan`,
`--config=tuned/aegan_digits` or the checkout-style path `--config=configs/anogan.py`.
"""
import difflib
import importlib.util
import os
from typing import Iterable

import ml_collections

from tfgad import sections
from tfgad.errors import UserError

CONFIGS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs")


def known() -> list:
    """The names of the shipped configs, tuned ones as tuned/NAME."""
    names = []
    for folder, prefix in ((CONFIGS_DIR, ""), (os.path.join(CONFIGS_DIR, "tuned"), "tuned/")):
        if os.path.isdir(folder):
            names += [prefix + f[:-3] for f in os.listdir(folder)
                      if f.endswith(".py") and not f.startswith("_")]
    return sorted(names)


def resolve(name_or_path: str) -> str:
    """The file behind a config argument: an existing path as given, else a shipped config by
    name (`anogan`, `tuned/aegan_digits`) or by its checkout path (`configs/anogan.py`, which
    an installed package serves from its own copy, whatever the working folder)."""
    if os.path.isfile(name_or_path):
        return name_or_path
    name = name_or_path[:-3] if name_or_path.endswith(".py") else name_or_path
    name = name.replace(os.sep, "/")
    if name.startswith("./"):
        name = name[2:]
    if name.startswith("configs/"):
        name = name[len("configs/"):]
    shipped = os.path.join(CONFIGS_DIR, *name.split("/")) + ".py"
    if name in known():
        return shipped
    raise UserError(f"config file {name_or_path} does not exist; give a config file's path or "
                    f"the name of one of the known configs: {', '.join(known())}")


def resolve_argv(argv: list) -> list:
    """argv with --config=NAME (or --config NAME) turned into the config file's path, so that a
    shipped config is found by name or by its checkout path from any folder."""
    argv = list(argv)
    for i, arg in enumerate(argv[1:], start=1):
        if arg.startswith("--config="):
            file, colon, rest = arg[len("--config="):].partition(":")
            argv[i] = "--config=" + resolve(file) + colon + rest
        elif arg == "--config" and i + 1 < len(argv):
            file, colon, rest = argv[i + 1].partition(":")
            argv[i + 1] = resolve(file) + colon + rest
    return argv


def load(name_or_path: str) -> ml_collections.ConfigDict:
    """The get_config() of a shipped config (by name) or of a config file given by path."""
    return load_module(name_or_path).get_config()


def load_module(name_or_path: str):
    """A config file as a module (recipes also hold FAMILY and OVERRIDES beside get_config()).

    Configs import the shipped ones as `tfgad.configs.default`, which works wherever tfgad is
    installed, so a config file may live in any folder.
    """
    path = resolve(name_or_path)
    spec = importlib.util.spec_from_file_location(
        "tfgad_config_" + os.path.basename(path)[:-3], path)
    if spec is None or spec.loader is None:
        raise UserError(f"config file {path} cannot be loaded as Python")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def flatten(tree, prefix: str = "") -> dict:
    """{"a.b.c": value} of a nested dict or ConfigDict, the dotted names overrides use."""
    flat = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if hasattr(value, "items"):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


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


def unknown_field(config: ml_collections.ConfigDict, dotted: str) -> str | None:
    """A message for the first part of dotted that config lacks: a suggestion and the section's
    fields; None if every part exists."""
    node, path = config, list[str]()
    for part in dotted.split("."):
        if not isinstance(node, ml_collections.ConfigDict):
            return None
        if part not in node:
            section = ".".join(path) or "the config"
            fields = sorted(node.keys())
            close = difflib.get_close_matches(part, fields, n=1)
            hint = f"; did you mean {'.'.join(path + close)}?" if close else ""
            return f"config has no field {'.'.join(path + [part])}{hint} fields of {section}: " \
                   f"{', '.join(fields)}"
        node, path = node[part], path + [part]
    return None


_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


def checked_value(dotted: str, current, value, where: str = "overrides"):
    """value converted to the type of the field's current value, as the command line parses
    --config.a.b=value (a number's text becomes the number), or a one-line UserError."""
    kind = type(current)
    wanted = {bool: "True or False", int: "an integer", float: "a number",
              str: "a string"}.get(kind)
    if wanted is None:  # a field without a value type to hold to (None by default, a list)
        return value
    problem = f"{where}[{dotted!r}] = {value!r}: the field takes {wanted}"
    if value is None:
        raise UserError(f"{problem}, not None")
    if isinstance(value, str) and kind is not str:
        text = value.strip().lower()
        if kind is bool and text in _TRUE + _FALSE:
            return text in _TRUE
        try:
            return kind(value) if kind is not int else int(text)
        except ValueError:
            raise UserError(f"{problem}; {value!r} is not one") from None
    if kind is bool and not isinstance(value, bool) or kind is not bool and isinstance(value, bool):
        raise UserError(problem)
    if kind is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind is float and isinstance(value, int):
        return float(value)
    if not isinstance(value, kind):
        raise UserError(f"{problem}, not {type(value).__name__}")
    return value


def override_checked(config: ml_collections.ConfigDict, overrides, where: str = "overrides"
                     ) -> ml_collections.ConfigDict:
    """override for values from Python (tfgad.Detector): each field must exist (with a
    suggestion when misspelt), be a field and not a section, and get a value of its type."""
    if overrides is None:
        return config
    if not hasattr(overrides, "items"):
        raise UserError(f"{where} must be a dict {{'section.field': value}}, not "
                        f"{type(overrides).__name__}")
    for dotted, value in overrides.items():
        if not isinstance(dotted, str):
            raise UserError(f"{where} keys must be strings like 'train.epochs', not {dotted!r}")
        message = unknown_field(config, dotted)
        if message:
            raise UserError(f"{where}: {message}")
        *path, leaf = dotted.split(".")
        node = config
        for part in path:
            node = node[part]
        current = node[leaf]
        if isinstance(current, ml_collections.ConfigDict):
            if hasattr(value, "items"):  # a dict for a section: its fields, each checked
                override_checked(config, {f"{dotted}.{k}": v for k, v in value.items()}, where)
                continue
            raise UserError(f"{where}[{dotted!r}]: {dotted} is a section, not a field; set one "
                            f"of its fields, e.g. {dotted}.{sorted(current.keys())[0]}")
        node[leaf] = checked_value(dotted, current, value, where)
    return config


def describe(config: ml_collections.ConfigDict | None, section: str = "all") -> str:
    """The resolved config as "field = value  # meaning" lines, all of it or one section."""
    if config is None:
        raise UserError("--print_config needs --config (e.g. --config=anogan)")
    flat = flatten(config)
    if section != "all":
        flat = {k: v for k, v in flat.items() if k.split(".")[0] == section}
        if not flat:
            raise UserError(f"the config has no section {section!r}; sections: "
                            f"{', '.join(sorted(k for k in config.keys()))}, or all")
    meaning = sections.meanings()
    return "\n".join(f"{k} = {v!r}" + (f"  # {meaning[k]}" if k in meaning else "")
                     for k, v in flat.items())


IMAGE_SOURCES = ("digits", "mnist_png")
# What a tuned file may set for another config: how the model is built, trained, searched
# and composed; not which samples it reads.
KIND_FIELDS = ("model.", "train.", "search.", "detection.")
KIND_KEEP = ("detection.max_samples",)


def _tuned_for(family: str, source: str):
    """The tuned config module for the family on this image source (else on digits), or None."""
    tuned = [load_module(n) for n in known() if n.startswith("tuned/")]
    matches = [m for m in tuned if getattr(m, "FAMILY", None) == family
               and getattr(m, "OVERRIDES", {}).get("data.name") in IMAGE_SOURCES]
    matches.sort(key=lambda m: m.OVERRIDES["data.name"] != source)  # this source's first
    return matches[0] if matches else None


def fit_data_kind(config: ml_collections.ConfigDict, images: bool | None = None,
                  user_set: Iterable[str] = ()) -> list[str]:
    """Gives a family config used on images the image settings of the family's tuned file
    (configs/tuned/<family>_<source>.py): every model/train/search/detection field that still
    holds the family config's own value (built for ECG beats) takes the tuned value, so that
    `--config=aegan --config.data.name=digits` does not silently train the ECG network; a
    field set to anything else (in a recipe), or set by the user at all (user_set, even to the
    family's own value), stays as set. data.kind_settings=off leaves the config alone.

    Args:
      images: whether the samples are images; None: from data.name.
      user_set: the dotted fields the user set (command-line --config.* overrides, a
        Detector's overrides), which are never rewritten.
    Returns:
      the "field: old -> new" changes made (empty when nothing changed).
    """
    if config.data.kind_settings == "off":
        return []
    if images is None:
        images = config.data.name in IMAGE_SOURCES
    if not images:
        return []
    tuned = _tuned_for(config.model.name, config.data.name)
    if tuned is None:
        return []
    family_defaults = flatten(load(tuned.BASE))
    current = flatten(config)
    changes = []
    for field, value in sorted(tuned.OVERRIDES.items()):
        if (field.startswith(KIND_FIELDS) and field not in KIND_KEEP and field in current
                and field not in user_set
                and current[field] == family_defaults.get(field) and current[field] != value):
            changes.append(f"{field}: {current[field]!r} -> {value!r}")
            override(config, {field: value})
    return changes
