"""Lenient, typed access to parsed JSON artifacts, with errors that name the field to fix.

SageMaker writes `100` where we write `100.0`, `"NaN"` where JSON has no NaN, and adds keys
over time, so readers accept all of that. What a reader must never do is fail with a bare
`KeyError` or `TypeError`: every real shape error becomes a `FormatError` that says which
file, which feature and which field is wrong.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from monitor_service.errors import FormatError

# How io.dumps writes non-finite floats; SageMaker uses the same strings.
NON_FINITE: dict[str, float] = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


@dataclass(frozen=True)
class Where:
    """A location inside a document, only turned into text when an error is raised."""

    source: str
    context: str = ""
    path: tuple[str, ...] = ()

    def __truediv__(self, key: str | int) -> Where:
        return replace(self, path=(*self.path, str(key)))

    def within(self, context: str) -> Where:
        """A fresh location inside this document, e.g. `feature '_c0'`."""
        return Where(self.source, context)

    def error(self, problem: str) -> FormatError:
        field = ".".join(self.path)
        where = " ".join(part for part in (self.context, f"field '{field}'" if field else "") if part)
        return FormatError(f"{self.source}: {where or 'document'} {problem}")


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"


def require(obj: Mapping[str, Any], key: str, where: Where) -> Any:
    """`obj[key]`, or a FormatError naming the missing field."""
    if key not in obj or obj[key] is None:
        raise (where / key).error("is missing")
    return obj[key]


def as_mapping(value: Any, where: Where) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise where.error(f"must be a JSON object, got {_describe(value)}")
    return value


def as_list(value: Any, where: Where) -> list[Any]:
    if not isinstance(value, list):
        raise where.error(f"must be a JSON array, got {_describe(value)}")
    return value


def as_str(value: Any, where: Where) -> str:
    if not isinstance(value, str):
        raise where.error(f"must be a string, got {_describe(value)}")
    return value


def as_number(value: Any, where: Where) -> float:
    """A float from a JSON int, float or one of the non-finite strings ("NaN", "Infinity")."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value in NON_FINITE:
        return NON_FINITE[value]
    raise where.error(f"must be a number, got {_describe(value)}")


def as_numbers(values: Any, where: Where) -> list[float]:
    """A list of floats; builds error locations only for the element that is wrong."""
    items = as_list(values, where)
    try:
        return [float(v) if type(v) in (int, float) else NON_FINITE[v] for v in items]
    except (KeyError, TypeError):
        for i, v in enumerate(items):
            as_number(v, where / i)
        raise  # unreachable: the loop above raises for the offending element


def optional_number(obj: Mapping[str, Any], key: str, where: Where) -> float | None:
    value = obj.get(key)
    return None if value is None else as_number(value, where / key)


def optional_mapping(obj: Mapping[str, Any], key: str, where: Where) -> Mapping[str, Any] | None:
    value = obj.get(key)
    return None if value is None else as_mapping(value, where / key)


def number_map(value: Any, where: Where) -> dict[str, float]:
    """A JSON object of numbers, e.g. type counts or a histogram."""
    return {str(k): as_number(v, where / k) for k, v in as_mapping(value, where).items()}
