"""The columns a calibration reads: each score component, member by member for an ensemble
(<component>_m<i>), then the extra columns beside the members' (their spread). One object names,
parses and reduces them; it holds no model code, so that a calibration applies without any."""
import dataclasses
import re
from typing import Any

import ml_collections
import numpy as np

SPREAD = "spread"  # an ensemble's extra column: the members' disagreement
_MEMBER = re.compile(r"^(.*)_m(\d+)$")


def member_column(component: str, member: int) -> str:
    """The name of member i's score component in an ensemble's outputs."""
    return f"{component}_m{member}"


def parse(column: str) -> tuple[str, int | None]:
    """(component, member index) of a column; member None for a column of one model."""
    match = _MEMBER.match(column)
    return (match.group(1), int(match.group(2))) if match else (column, None)


@dataclasses.dataclass(frozen=True)
class Layout:
    """components read from each of `members` models, then `extras` (the spread)."""
    components: tuple[str, ...]
    members: int = 1
    extras: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict) -> "Layout":
        d = config.detection
        names = ([d.single_component] if d.combiner == "single" else
                 [n.strip() for n in d.components.split(",") if n.strip()])
        k = config.model.ensemble
        return cls(tuple(names), k, (SPREAD,) if k > 1 and d.combiner != "single" else ())

    @classmethod
    def from_calibration(cls, calibration: dict) -> "Layout":
        """The layout a fitted calibration was fit with (its "components" are the columns)."""
        k, columns = calibration.get("members", 1), calibration["components"]
        combined = calibration.get("combined_components", columns)
        if k == 1:
            return cls(tuple(columns))
        n = (len(columns) - len(combined)) // (k - 1)  # n * k + e columns, n + e combined
        return cls(tuple(combined[:n]), k, tuple(combined[n:]))

    @property
    def columns(self) -> list[str]:
        """What the scorer must return, in the order of the calibration's vectors."""
        if self.members == 1:
            return list(self.components) + list(self.extras)
        return [member_column(c, i) for c in self.components
                for i in range(self.members)] + list(self.extras)

    @property
    def combined(self) -> list[str]:
        """What the combiner sees: each component (the members' mean), then the extras."""
        return list(self.components) + list(self.extras)

    def member_means(self, z: Any, backend: Any = np) -> Any:
        """[N, columns] -> [N, combined]: the mean of the members' columns of each component,
        the extras as they are; numpy or TensorFlow (backend=tf). The identity for one model."""
        if self.members == 1:
            return z
        n, k = len(self.components), self.members
        if backend is np:
            means = z[:, :n * k].reshape(len(z), n, k).mean(axis=2)
            return np.concatenate([means, z[:, n * k:]], axis=1)
        means = backend.reduce_mean(backend.reshape(z[:, :n * k], [-1, n, k]), axis=2)
        return backend.concat([means, z[:, n * k:]], axis=1)
