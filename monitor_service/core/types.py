"""Deequ's data-type inference rules, shared by the Spark profiler and the checks.

A value is classified by the first full-string match among these patterns (case-sensitive, no
trimming). The column type then follows `determine_type`. The regexes are Java/Python
compatible so Spark's `rlike` and Python's `re` agree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum

FRACTIONAL_PATTERN = r"^(-|\+)? ?\d+((\.\d+)|((?:\.\d+)?[Ee][-+]?\d+))$"
INTEGRAL_PATTERN = r"^(-|\+)? ?\d+$"
BOOLEAN_PATTERN = r"^(true|false)$"


class InferredType(StrEnum):
    INTEGRAL = "Integral"
    FRACTIONAL = "Fractional"
    BOOLEAN = "Boolean"
    STRING = "String"
    UNKNOWN = "Unknown"

    @property
    def is_numeric(self) -> bool:
        return self in (InferredType.INTEGRAL, InferredType.FRACTIONAL)


# Keys of a type histogram; "Unknown" counts nulls, as in Deequ's DataTypeHistogram.
TYPE_BINS: tuple[str, ...] = ("Unknown", "Fractional", "Integral", "Boolean", "String")

_FRACTIONAL = re.compile(FRACTIONAL_PATTERN)
_INTEGRAL = re.compile(INTEGRAL_PATTERN)
_BOOLEAN = re.compile(BOOLEAN_PATTERN)


def classify_value(value: str | None) -> InferredType:
    """Deequ's per-value classification (used for reference values in tests and small inputs)."""
    if value is None:
        return InferredType.UNKNOWN
    if _FRACTIONAL.match(value):
        return InferredType.FRACTIONAL
    if _INTEGRAL.match(value):
        return InferredType.INTEGRAL
    if _BOOLEAN.match(value):
        return InferredType.BOOLEAN
    return InferredType.STRING


def determine_type(counts: Mapping[str, float]) -> InferredType:
    """Deequ `DataTypeHistogram.determineType` over absolute counts keyed by `TYPE_BINS`."""
    nulls = counts.get("Unknown", 0)
    fractional = counts.get("Fractional", 0)
    integral = counts.get("Integral", 0)
    boolean = counts.get("Boolean", 0)
    string = counts.get("String", 0)
    total = nulls + fractional + integral + boolean + string
    if total == 0:
        return InferredType.INTEGRAL  # Deequ quirk: zero rows -> NaN ratios -> Integral
    if nulls == total:
        return InferredType.UNKNOWN
    if string > 0 or (boolean > 0 and (integral > 0 or fractional > 0)):
        return InferredType.STRING
    if boolean > 0:
        return InferredType.BOOLEAN
    if fractional > 0:
        return InferredType.FRACTIONAL
    return InferredType.INTEGRAL


def type_match_ratio(counts: Mapping[str, float], expected: InferredType) -> float:
    """Fraction of non-null values whose type is `expected` (the data_type_check ratio).

    An Integral value also satisfies a Fractional expectation: Deequ casts Integral strings to
    double without loss, and SageMaker does not flag `3` in a Fractional column.
    """
    non_null = sum(counts.get(b, 0) for b in TYPE_BINS if b != "Unknown")
    if non_null == 0:
        return 1.0
    matching = counts.get(expected.value, 0)
    if expected is InferredType.FRACTIONAL:
        matching += counts.get("Integral", 0)
    return matching / non_null
