"""Lenient-but-strict JSON field types and readable validation errors for SageMaker artefacts.

Real SageMaker files write numbers as ints or floats (`0` vs `0.0`, `34450.0`), so numeric
fields accept both and hold floats (written back as floats, like the container). Strings and
booleans are *not* numbers: `"0.1"` as a threshold is a shape error, reported with its location.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationError


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number (int or float), not a string or boolean")
    return float(value)


Number = Annotated[float, BeforeValidator(_number)]
Fraction = Annotated[float, BeforeValidator(_number), Field(ge=0.0, le=1.0)]
Threshold = Annotated[float, BeforeValidator(_number), Field(ge=0.0)]


def describe_validation_error(exc: ValidationError, data: Any) -> str:
    """Pydantic errors as `features[3] ('age').inferred_type: ... (got 'Text')`, joined by '; '.

    Entries of a top-level `features` list are named by their `name`, so a user can find them.
    """
    features = data.get("features") if isinstance(data, dict) else None
    parts = []
    for err in exc.errors():
        where = ""
        for i, part in enumerate(err["loc"]):
            if isinstance(part, int):
                where += f"[{part}]"
                if i == 1 and err["loc"][0] == "features" and isinstance(features, list):
                    entry = features[part] if part < len(features) else None
                    name = entry.get("name") if isinstance(entry, dict) else None
                    where += f" ({name!r})" if name is not None else ""
            else:
                where += f".{part}" if where else str(part)
        message = err["msg"].removeprefix("Value error, ")
        given = err.get("input")
        shown = f" (got {given!r})" if given is None or isinstance(given, str | int | float | bool) else ""
        parts.append(f"{where}: {message}{shown}" if where else f"{message}{shown}")
    return "; ".join(parts)
