"""How a config section declares its fields: once, typed, with a meaning and the values it takes.

The declaration is the single source of a field's default (configs/default.py and stored configs
are filled from it), of its check (type, choices, range: one message wherever the rule is
checked) and of its meaning (--print_config, the README's tables, the family docstrings), as
scikit-learn estimators declare `_parameter_constraints`.
"""
import dataclasses
import math
from typing import Any, Mapping

import ml_collections

from tfgad.errors import UserError

_TYPE_NAMES = {bool: "True or False", int: "an integer", float: "a number", str: "a string"}


@dataclasses.dataclass(frozen=True)
class Range:
    """A numeric interval; low/high of None are unbounded, the *_open flags exclude the end."""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def holds(self, value: float) -> bool:
        if math.isnan(value):
            return False
        above = self.low is None or (value > self.low if self.low_open else value >= self.low)
        below = self.high is None or (value < self.high if self.high_open else value <= self.high)
        return above and below

    def __str__(self) -> str:
        if self.high is None and self.low == 0 and self.low_open:
            return "positive"
        if self.high is None:
            return f"{'>' if self.low_open else '>='} {self.low:g}"
        return (f"in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}"
                f"{')' if self.high_open else ']'}")


POSITIVE = Range(0, None, low_open=True)
NON_NEGATIVE = Range(0)
AT_LEAST_ONE = Range(1)
FRACTION = Range(0, 1, low_open=True, high_open=True)


@dataclasses.dataclass(frozen=True)
class Field:
    """One config field: its name, default (whose type the field keeps), meaning and limits."""
    name: str
    default: Any
    meaning: str
    choices: tuple = ()
    range: Range | None = None

    def check(self, value: Any, section: str) -> None:
        """Raises UserError naming section.name, the value and what the field takes."""
        dotted = f"{section}.{self.name}" if section else self.name
        kind = type(self.default)
        number = kind in (int, float)
        right_type = (isinstance(value, bool) if kind is bool else
                      isinstance(value, (int, float)) and not isinstance(value, bool)
                      and (kind is float or float(value).is_integer()) if number else
                      isinstance(value, kind))
        if not right_type:
            raise UserError(f"{dotted}={value!r}; the field takes {_TYPE_NAMES.get(kind, kind)}")
        if self.choices and value not in self.choices:
            raise UserError(f"unknown {dotted} {value!r}; known: {', '.join(sorted(map(str, self.choices)))}")
        if self.range is not None and not self.range.holds(float(value)):
            raise UserError(f"{dotted}={value!r}; must be {self.range}")


@dataclasses.dataclass(frozen=True)
class Section:
    """A config section (dotted: "train.robust", "model.aegan"), the module that reads it, and
    its fields in the order --print_config shows them."""
    name: str
    owner: str
    meaning: str
    fields: tuple[Field, ...]

    def defaults(self) -> ml_collections.ConfigDict:
        return ml_collections.ConfigDict({f.name: f.default for f in self.fields})

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def check(self, values: Mapping[str, Any]) -> None:
        """Checks every declared field present in values (a section of a config, or keyword
        arguments named like the fields)."""
        for field in self.fields:
            if field.name in values:
                field.check(values[field.name], self.name)

    def describe(self) -> str:
        """"name (default): meaning" lines, for docstrings and tables."""
        return "\n".join(f"  {f.name} ({f.default!r}): {f.meaning}" for f in self.fields)
