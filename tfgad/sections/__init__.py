"""The config's sections, each declared once (tfgad/sections/declare.py): the default config,
the field checks and the filling of stored configs all come from these declarations.

Example (tests/test_docstrings.py runs it):

>>> from tfgad import sections
>>> config = sections.default_config()
>>> config.search.n_max, sections.SEARCH.field("n_max").meaning
(300, 'most steps per sample')
>>> config.train.epochs = 0
>>> sections.check(config)
Traceback (most recent call last):
tfgad.errors.UserError: train.epochs=0; must be >= 1
>>> sections.upgrade({"model": {"name": "aegan"}})["model"]["ensemble"]  # an old config.json
1
"""
import ml_collections

from tfgad.errors import UserError
from tfgad.sections.data import DATA
from tfgad.sections.declare import NON_NEGATIVE, Field, Section
from tfgad.sections.detection import DETECTION, WEIGHTS
from tfgad.sections.model import FAMILY_SECTIONS, MODEL, PRIOR
from tfgad.sections.search import SEARCH
from tfgad.sections.train import DOPING, NEGATIVES, ROBUST, TRAIN

ROOT = Section("", "tfgad.run", "the experiment", (
    Field("seed", 0, "seeds data splits, initial weights and searches", range=NON_NEGATIVE),))
EXPORT = Section("export", "tfgad.export.writer", "the SavedModel export", (
    Field("dir", "saved_models", "SavedModels go to <dir>/<name>/<version>/"),
    Field("name", "", "empty: <model.name>-<data.name>"),
))

# In the order of the config (a section before its subsections).
SECTIONS = (ROOT, DATA, MODEL, *FAMILY_SECTIONS.values(), PRIOR, TRAIN, ROBUST, NEGATIVES,
            DOPING, DETECTION,
            WEIGHTS, SEARCH, EXPORT)


def _node(config, dotted: str):
    for part in filter(None, dotted.split(".")):
        config = config[part]
    return config


def default_config() -> ml_collections.ConfigDict:
    """Every section at its declared defaults: configs/default.py's config."""
    config = ml_collections.ConfigDict()
    for section in SECTIONS:
        *parent, leaf = section.name.split(".")
        node = _node(config, ".".join(parent))
        defaults = section.defaults()
        if leaf:
            node[leaf] = defaults
        else:
            node.update(defaults)
    return config


def check(config: ml_collections.ConfigDict) -> None:
    """Checks every declared field of config (type, choices, range), and that it holds no
    undeclared one (a misspelt field in a config file): UserError on the first."""
    for section in SECTIONS:
        node = _node(config, section.name)
        prefix = section.name + "." if section.name else ""
        subsections = {s.name[len(prefix):].split(".")[0] for s in SECTIONS
                       if s.name.startswith(prefix) and s.name != section.name}
        declared = {f.name for f in section.fields}
        unknown = sorted(set(node.keys()) - declared - subsections)
        if unknown:
            where = section.name or "the config"
            raise UserError(f"{where} has no field {unknown[0]!r}; its fields: "
                            f"{', '.join(sorted(declared))}")
        section.check(node)


def upgrade(stored: dict) -> dict:
    """A stored config (a workdir's config.json, a saved detector's, an export's) with the fields
    added since it was written filled with their declared defaults, which are what an older
    config meant; after this, code reads every field plainly."""
    filled = default_config().to_dict()

    def merge(into: dict, values: dict) -> None:
        for key, value in values.items():
            if isinstance(value, dict) and isinstance(into.get(key), dict):
                merge(into[key], value)
            else:
                into[key] = value
    merge(filled, stored)
    return filled


def meanings() -> dict:
    """{"section.field": its meaning} of every declared field."""
    return {(f"{s.name}." if s.name else "") + f.name: f.meaning
            for s in SECTIONS for f in s.fields}


def owners() -> dict:
    """{section name: the module that reads it}."""
    return {s.name or "seed": s.owner for s in SECTIONS}


def markdown() -> str:
    """The config reference: a table per section, as README.md embeds it (a test holds the
    README's copy equal to this)."""
    parts = []
    for section in SECTIONS:
        title = section.name or "(top level)"
        rows = [f"| `{f.name}` | `{f.default!r}` | {f.meaning}"
                + (f" ({', '.join(map(str, f.choices))})" if f.choices and
                   not all(str(c) in f.meaning for c in f.choices) else "")
                + (f"; {f.range}" if f.range else "") + " |" for f in section.fields]
        parts.append(f"**`{title}`**: {section.meaning} (read by `{section.owner}`)\n\n"
                     "| field | default | meaning |\n|---|---|---|\n" + "\n".join(rows))
    return "\n\n".join(parts) + "\n"
