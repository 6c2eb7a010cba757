"""Clarify's rule for treating a facet or label column as categorical or continuous.

Clarify (smclarify 0.5, `series_datatype`) decides from the data it is given: a column of
floats is continuous; a column of integers is continuous only when it has many distinct values
(distinct / count >= 0.05); anything else (text, booleans) is categorical; and a column is
always categorical when more than one value is configured for it. Records reach us as text, so
"a column of integers / floats" means what pandas would read from the same CSV: every value an
integer literal, or every value a number. The rule depends on the data analysed: the same 0/1
column is continuous in a 30-row window (2/30 >= 0.05). That is the library's behaviour and we
keep it; a monitor should use windows of at least 40 records for 0/1 columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from monitor_service.monitors.model_bias.config import Scalar

UNIQUENESS_THRESHOLD = 0.05


class DataType(Enum):
    CATEGORICAL = "categorical"
    CONTINUOUS = "continuous"


@dataclass(frozen=True)
class ColumnProfile:
    """What the typing rule needs to know about a column's non-missing values (one Spark aggregate)."""

    count: int  # non-missing values
    numeric: int  # values that are finite numbers
    integers: int  # values that are integer literals ("3", "-1"; not "3.0")
    distinct_numbers: int  # distinct numeric values
    max_number: float | None = None  # largest numeric value

    @property
    def all_integers(self) -> bool:
        return self.count > 0 and self.integers == self.count

    @property
    def all_numbers(self) -> bool:
        return self.count > 0 and self.numeric == self.count

    def combined(self, other: ColumnProfile) -> ColumnProfile:
        """The profile of two columns read as one (Clarify joins label and predicted label for their interval)."""
        maxima = [m for m in (self.max_number, other.max_number) if m is not None]
        return ColumnProfile(
            count=self.count + other.count,
            numeric=self.numeric + other.numeric,
            integers=self.integers + other.integers,
            distinct_numbers=max(self.distinct_numbers, other.distinct_numbers),
            max_number=max(maxima) if maxima else None,
        )


def data_type(profile: ColumnProfile, values: list[Scalar] | None) -> DataType:
    """Clarify's `series_datatype` over a profile of text values."""
    if values is not None and len(values) > 1:
        return DataType.CATEGORICAL
    if profile.all_integers:
        uniqueness = profile.distinct_numbers / profile.count
        return DataType.CONTINUOUS if uniqueness >= UNIQUENESS_THRESHOLD else DataType.CATEGORICAL
    if profile.all_numbers:
        return DataType.CONTINUOUS
    return DataType.CATEGORICAL


def as_number(value: Scalar) -> float | None:
    """A configured value as a number (Clarify converts a numeric-looking threshold string), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None
