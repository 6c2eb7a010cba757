"""Field types, bounds and error messages shared by every declarative reader of a JSON artefact.

Real SageMaker files write numbers as ints or floats (`0` vs `0.0`, `34450.0`) and non-finite
values as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`, and they gain keys over time. The
readers (`core.statistics_model`, `core.constraints`, the ground-truth and request models) are
pydantic models built from the types below, so all of that is accepted in ONE place, and so is
every bound: a number too large for a float, a count that is negative or not finite, a list or
a nesting deeper than any real file becomes a validation error, which the readers turn into a
`FormatError` (files) or a 422 (requests) that names the feature and field. Nothing here raises
anything but `ValueError` inside validators, so no input can escape pydantic as an
`OverflowError`, `RecursionError` or `TypeError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError

from monitor_service.errors import FormatError

T = TypeVar("T")

# How io.dumps writes non-finite floats; SageMaker uses the same strings.
NON_FINITE: dict[str, float] = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
# Bounds no real artefact comes near; anything beyond them is refused, never allocated or looped over.
MAX_JSON_DEPTH = 64          # statistics.json nests 8 levels, constraints.json 5
MAX_COUNT = float(2**63)     # a record count beyond a signed 64-bit integer is not a count
MAX_NAME_CHARS = 4096        # feature names (dotted paths of nested JSON keys)
_FLOAT_LIMIT = 2**1024       # ints at or above this do not fit a 64-bit float


def short_repr(value: Any, limit: int = 60) -> str:
    """`repr(value)` cut to `limit` characters; never fails (huge ints, deep nesting)."""
    if isinstance(value, str | bytes | list):
        value = value[: 4 * limit]
    elif isinstance(value, dict):
        value = dict(list(value.items())[:limit])
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # an int too long to print, a structure too deep to print
        text = f"<{type(value).__name__}>"
    return f"{text[:limit]}{'...' if len(text) > limit else ''}"


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {short_repr(value)}"


def to_float(value: Any, *, non_finite_strings: bool = True) -> float:
    """A float from a JSON int or float (or SageMaker's "NaN"/"Infinity" strings); ValueError otherwise."""
    if type(value) is float:
        return value
    if value is None:
        raise ValueError("is missing")
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) >= _FLOAT_LIMIT:
            raise ValueError(f"must be a number that fits a 64-bit float, got an integer of {value.bit_length()} bits")
        return float(value)
    if non_finite_strings and isinstance(value, str) and value in NON_FINITE:
        return NON_FINITE[value]
    if isinstance(value, float):  # a float subclass
        return float(value)
    kind = "a number" if non_finite_strings else "a number (int or float), not a string or boolean"
    raise ValueError(f"must be {kind}, got {_describe(value)}")


def _number(value: Any) -> float:
    return to_float(value)


def _strict_number(value: Any) -> float:
    return to_float(value, non_finite_strings=False)


def _count(value: float) -> float:
    if not 0.0 <= value <= MAX_COUNT:  # also refuses NaN
        raise ValueError(f"must be a count between 0 and 2^63, got {value!r}")
    return value


def _index(value: Any) -> int:
    number = to_float(value, non_finite_strings=False)
    if not number.is_integer() or not 0 <= number <= 2**31:
        raise ValueError(f"must be a non-negative integer, got {value!r}")
    return int(number)


def numbers(values: Any) -> list[float]:
    """A list of numbers (a KLL level): one Python call per list, not per element."""
    if not isinstance(values, list):
        raise ValueError(f"must be a JSON array, got {_describe(values)}")
    try:
        return [v if type(v) is float else to_float(v) for v in values]
    except ValueError:
        for i, v in enumerate(values):
            try:
                to_float(v)
            except ValueError as exc:
                raise ValueError(f"element {i} {exc}") from None
        raise


# Statistics files: SageMaker's non-finite strings are numbers.
Number = Annotated[float, BeforeValidator(_number)]
Count = Annotated[float, BeforeValidator(_number), AfterValidator(_count)]
Index = Annotated[int, BeforeValidator(_index)]
Numbers = Annotated[list[float], BeforeValidator(numbers)]
Name = Annotated[str, Field(max_length=MAX_NAME_CHARS)]
# Constraints files: thresholds are plain JSON numbers ("0.1" as a threshold is a shape error).
StrictNumber = Annotated[float, BeforeValidator(_strict_number)]
Fraction = Annotated[float, BeforeValidator(_strict_number), Field(ge=0.0, le=1.0)]
Threshold = Annotated[float, BeforeValidator(_strict_number), Field(ge=0.0)]


def json_depth_error(value: Any, limit: int = MAX_JSON_DEPTH) -> str | None:
    """Why `value` (parsed JSON) nests deeper than `limit`, or None. Iterative: no recursion to exhaust."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > limit:
                return f"nests deeper than {limit} levels"
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return None


# ----------------------------------------------------------------------------- locations and messages


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


def as_number(value: Any, where: Where) -> float:
    """A float from a JSON number or a non-finite string, or a FormatError naming `where`."""
    try:
        return to_float(value)
    except ValueError as exc:
        raise where.error(str(exc)) from None


_PROBLEMS = {
    "missing": "is missing",
    "dict_type": "must be a JSON object",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "list_type": "must be a JSON array",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "too_long": "has too many entries",
}


def _problem(err: Any) -> str:
    kind = err["type"]
    if kind == "enum":
        return f"is {short_repr(err.get('input'))}; expected one of {err.get('ctx', {}).get('expected')}"
    if kind in _PROBLEMS:
        given = err.get("input")
        problem = _PROBLEMS[kind]
        if kind == "too_long" and isinstance(err.get("ctx"), dict):
            problem += f" (at most {err['ctx'].get('max_length')})"
        elif kind != "missing" and given is not None:
            problem += f", got {_describe(given)}"
        return problem
    return str(err["msg"]).removeprefix("Value error, ")


def located_message(errors: list[Any], source: str, name_of: Any) -> str:
    """The first validation error as `{source}: feature 'x' field 'a.b' <problem>`.

    `errors` are pydantic's `ValidationError.errors()`; `name_of(loc)` splits a location into
    (context, remaining path): e.g. `features.3.mean` becomes ("feature 'age'", ("mean",)), so
    the message names the feature a user can find.
    """
    err = errors[0]
    context, path = name_of(tuple(err["loc"]))
    field = ".".join(str(p) for p in path)
    where = " ".join(part for part in (context, f"field '{field}'" if field else "") if part)
    return f"{source}: {where or 'document'} {_problem(err)}"


def describe_validation_error(exc: ValidationError, data: Any) -> str:
    """Pydantic errors as `features[3] ('age').inferred_type: ... (got 'Text')`, joined by '; '.

    Entries of a top-level `features` list are named by their `name`, so a user can find them.
    """
    features = data.get("features") if isinstance(data, Mapping) else None
    parts = []
    for err in exc.errors():
        where = ""
        for i, part in enumerate(err["loc"]):
            if isinstance(part, int):
                where += f"[{part}]"
                if i == 1 and err["loc"][0] == "features" and isinstance(features, list):
                    entry = features[part] if part < len(features) else None
                    name = entry.get("name") if isinstance(entry, dict) else None
                    where += f" ({str(name)[:200]!r})" if name is not None else ""
            else:
                where += f".{part}" if where else str(part)
        message = err["msg"].removeprefix("Value error, ")
        given = err.get("input")
        shown = ""
        if given is None or isinstance(given, str | int | float | bool):
            shown = f" (got {short_repr(given, 200)})"
        parts.append(f"{where}: {message}{shown}" if where else f"{message}{shown}")
    return "; ".join(parts)


def validated(validate: Callable[[Any], T], data: Any, problem: Callable[[ValidationError], str], hint: str) -> T:
    """`validate(data)`, or FormatError with `problem(exc)` (the what and where) and `hint` (how to fix)."""
    try:
        return validate(data)
    except ValidationError as exc:
        raise FormatError(problem(exc), hint=hint) from None
