"""The count table every bias metric (except the flip test) is a function of.

For one facet entry (group d against the rest a) the table holds the number of records per
(facet side, observed label positive?, predicted label positive?, group-variable value): an
array of shape (2, 2, 2, G + 1) indexed `[side][label][prediction][group]` with side 0 = a and
1 = d, 0 = negative and 1 = positive, and the last group slot for records without a group
value (they count everywhere except in CDDL / CDDPL, like Clarify's NaN groups). A stack of
tables (leading axes) is a batch of bootstrap replicates; every metric function accepts both.

Resampling n records with replacement is a multinomial draw over the cells of this table, so
the bootstrap needs no second pass over the data (`bootstrap_tables`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

A, D = 0, 1
NEG, POS = 0, 1


@dataclass
class CountTable:
    """Counts `[..., side, label, prediction, group]` and the group-variable values of the group axis."""

    cells: NDArray[np.float64]
    groups: list[str] | None  # None: no group variable configured; else the values of slots 0..G-1

    @classmethod
    def empty(cls, groups: list[str] | None) -> CountTable:
        return cls(np.zeros((2, 2, 2, len(groups or []) + 1)), groups)

    @classmethod
    def from_rows(
        cls, rows: Iterable[tuple[bool, bool, bool, str | None, float]], groups: list[str] | None
    ) -> CountTable:
        """Rows of (in d, label positive, prediction positive, group value or None, count)."""
        table = cls.empty(groups)
        slot = {g: i for i, g in enumerate(groups or [])}
        missing = len(groups or [])
        for in_d, label, prediction, group, count in rows:
            where = slot.get(group, missing) if group is not None else missing
            table.cells[int(in_d), int(label), int(prediction), where] += count
        return table

    @property
    def total(self) -> float:
        return float(self.cells.sum())

    def side_sizes(self) -> tuple[int, int]:
        n = self.cells.sum(axis=(-3, -2, -1))
        return int(n[A]), int(n[D])


def bootstrap_tables(table: CountTable, replicates: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """`replicates` tables of the same total, each a resample with replacement of the table's records."""
    flat = table.cells.reshape(-1)
    n = round(float(flat.sum()))
    if n == 0:
        return np.zeros((replicates, *table.cells.shape))
    draws = rng.multinomial(n, flat / flat.sum(), size=replicates).astype(float)
    return draws.reshape(replicates, *table.cells.shape)
