"""The numpy container that every data source returns."""
import dataclasses

import numpy as np


@dataclasses.dataclass
class Samples:
    """Labelled samples of one source or split.

    x: (N, L, C) series or (N, H, W, C) images, float32.
    y: (N,) int8, 0 normal and 1 anomaly.
    groups: (N,) record or patient id (int64), for group-aware splits.
    classes: (N,) fine-grained class name (AAMI class, anomaly type, digit).
    """

    x: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    classes: np.ndarray

    def __post_init__(self):
        self.x = np.asarray(self.x, np.float32)
        self.y = np.asarray(self.y, np.int8)
        self.groups = np.asarray(self.groups, np.int64)
        self.classes = np.asarray(self.classes).astype(str)
        n = len(self.x)
        for name in ("y", "groups", "classes"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries but x has {n}")

    def __len__(self):
        return len(self.x)

    def subset(self, index: np.ndarray) -> "Samples":
        return Samples(self.x[index], self.y[index], self.groups[index], self.classes[index])

    @staticmethod
    def concatenate(parts: list) -> "Samples":
        return Samples(*(np.concatenate([getattr(p, f.name) for p in parts])
                         for f in dataclasses.fields(Samples)))
