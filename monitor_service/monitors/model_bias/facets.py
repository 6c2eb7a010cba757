"""How a facet (or label) column is split into the sensitive group d and the rest a, as Clarify does.

- Categorical with configured values: d = records whose value is one of them (values compare as
  numbers when both sides are numbers, booleans case-insensitively, else as text). One entry,
  named by the configured values joined with "," (`"0"`, `"Female,Other"`).
- Categorical without values: one entry per distinct value, d = that value, a = every other
  record. Values are sorted (numerically for integer columns); Clarify keeps first-seen order.
- Continuous: the configured number t is a threshold and d is the interval (t, max], max being
  the largest value in the data analysed; the entry is named by the interval string
  (`"(0.5, 0.9936148802477393]"`), so it differs between a baseline and a window. Clarify builds
  the interval from the breaks [t, max] (max left out when |max| equals t, which leaves no
  interval and an empty group, as in Clarify).

Records with a missing facet value belong to a (they are in no group). Errors (a continuous
column without a threshold, a non-numeric threshold) are Clarify's and end up on every metric
of the facet as `"value": null` with the `"error"` text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from monitor_service.monitors.model_bias.column_types import ColumnProfile, DataType, as_number, data_type
from monitor_service.monitors.model_bias.config import Scalar

SplitKind = Literal["values", "per_value", "interval", "error"]


@dataclass(frozen=True)
class Interval:
    """Clarify's half-open interval (lo, hi]; `text` is pandas' `str(Interval)`."""

    lo: float
    hi: float
    text: str

    def contains(self, value: float) -> bool:
        return self.lo < value <= self.hi


@dataclass(frozen=True)
class Split:
    """The plan for one facet or label column, decided from its profile before the count pass."""

    kind: SplitKind
    data_type: DataType | None = None
    values: list[Scalar] = field(default_factory=list)  # "values": the configured values
    interval: Interval | None = None  # "interval": None means an empty group (no interval at all)
    text: str = ""  # the entry's value_or_threshold ("values" / "interval")
    error: str | None = None  # "error": Clarify's message
    integer_keys: bool = False  # "per_value": the values are integers (canonical, sorted as numbers)


def value_text(value: Scalar) -> str:
    """`str()` of a configured value as Python prints it (Clarify joins them with ",")."""
    return str(value)


def format_bound(value: float, as_int: bool) -> str:
    """One bound of an interval as pandas prints it: `40` for integer breaks, `0.5` / `90.0` for float ones."""
    return str(int(value)) if as_int else repr(float(value))


def interval(threshold: Scalar, profile: ColumnProfile) -> Interval | None:
    """Clarify's `_interval_index([t] + [max])` for one threshold; None when the breaks make no interval."""
    number = as_number(threshold)
    assert number is not None and profile.max_number is not None
    breaks = [number]
    integral = isinstance(threshold, int) and not isinstance(threshold, bool) and profile.all_integers
    if abs(profile.max_number) != number:
        breaks.append(profile.max_number)
    if len(breaks) < 2:
        return None
    lo, hi = sorted(breaks)
    return Interval(lo, hi, f"({format_bound(lo, integral)}, {format_bound(hi, integral)}]")


def plan_split(profile: ColumnProfile, values: list[Scalar] | None) -> Split:
    """Decide how a column splits into d and a (see the module docstring)."""
    kind = data_type(profile, values)
    if kind == DataType.CATEGORICAL:
        if values:
            return Split("values", kind, values=list(values), text=",".join(value_text(v) for v in values))
        return Split("per_value", kind, integer_keys=profile.all_integers)
    if not values:
        return Split("error", kind, error="Threshold values must be provided for continuous features")
    if as_number(values[0]) is None:
        return Split(
            "error", kind, error="Facet/label value provided must be a single numeric threshold for continuous data"
        )
    found = interval(values[0], profile)
    return Split("interval", kind, values=list(values), interval=found, text=found.text if found else "")
