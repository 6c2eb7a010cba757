"""Violations and check errors, and `constraint_violations.json` in SageMaker's exact shape.

The file is `{"violations": [{"feature_name", "constraint_check_type", "description"}]}` with no
`version` key. A `Violation` also carries its evidence (metric value, threshold, method) for the
service and summaries; that evidence never goes into the file, so SageMaker tooling reads it
unchanged. Numbers inside descriptions are printed like Java's `Double.toString`, because the
SageMaker container is a JVM program and downstream regexes parse those texts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from monitor_service import io
from monitor_service.errors import FormatError

VIOLATION_KEYS = ("feature_name", "constraint_check_type", "description")


@dataclass(frozen=True)
class Violation:
    """One failed constraint; the last three fields are evidence kept out of the JSON file."""

    feature_name: str
    constraint_check_type: str
    description: str
    metric_value: float | None = None
    threshold: float | None = None
    method: str | None = None

    def to_dict(self) -> dict[str, str]:
        return {key: getattr(self, key) for key in VIOLATION_KEYS}


@dataclass(frozen=True)
class CheckError:
    """A check that could not be evaluated: reported as a value, never a failed job."""

    check: str
    feature_name: str | None
    message: str


def format_double(value: float) -> str:
    """Java `Double.toString`: plain for 1e-3 <= |x| < 1e7 (at least one decimal), else `d.ddE±n`."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    shortest = Decimal(repr(abs(value))).normalize()
    _, digits, exponent = shortest.as_tuple()
    assert isinstance(exponent, int)  # finite numbers have an integer exponent
    scientific_exponent = len(digits) + exponent - 1
    if -3 <= scientific_exponent < 7:
        plain = format(shortest, "f")
        return sign + (plain if "." in plain else plain + ".0")
    mantissa = "".join(map(str, digits))
    return f"{sign}{mantissa[0]}.{mantissa[1:] or '0'}E{scientific_exponent}"


def value_description(value: float) -> str:
    """SageMaker's text for completeness / categorical-values violations (trailing space included)."""
    return f"Value: {format_double(value)} does not meet the constraint requirement! "


def violations_to_dict(violations: list[Violation]) -> dict[str, Any]:
    return {"violations": [v.to_dict() for v in violations]}


def violations_from_dict(data: Any, source: str = "constraint_violations.json") -> list[Violation]:
    """Parse a violations document; a wrong shape is a `FormatError` naming the offending entry."""
    hint = 'expected {"violations": [{"feature_name", "constraint_check_type", "description"}]}'
    if not isinstance(data, dict) or not isinstance(data.get("violations"), list):
        raise FormatError(f"{source}: top level must be an object with a 'violations' list", hint=hint)
    out = []
    for index, entry in enumerate(data["violations"]):
        where = f"{source}: violations[{index}]"
        if not isinstance(entry, dict):
            raise FormatError(f"{where} must be an object, got {type(entry).__name__}", hint=hint)
        bad = [key for key in VIOLATION_KEYS if not isinstance(entry.get(key), str)]
        if bad:
            raise FormatError(f"{where}: {', '.join(bad)} must be present and a string", hint=hint)
        out.append(Violation(*(entry[key] for key in VIOLATION_KEYS)))
    return out


def read_violations(path: str) -> list[Violation]:
    return violations_from_dict(io.read_json(path, "violations file"), source=path)


def write_violations(path: str, violations: list[Violation]) -> None:
    io.write_json_atomic(path, violations_to_dict(violations))
