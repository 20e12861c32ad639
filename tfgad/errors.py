"""The one exception type for bad input that the user can fix."""
from typing import Mapping, TypeVar

T = TypeVar("T")


class UserError(ValueError):
    """A problem with the user's config, data or paths; the message says how to fix it."""


def choose(table: Mapping[str, T], name: str, what: str) -> T:
    """Returns table[name], or raises UserError listing the known names."""
    try:
        return table[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(table))
        raise UserError(f"unknown {what} {name!r}; known: {known}") from None
