"""JSON Schemas (draft 2020-12) of the files we exchange with SageMaker tooling, and `validate`.

The schema files ship inside the package (`monitor_service/schemas_json/<kind>.schema.json`) so
an installed wheel can validate without the source tree; `schemas/README.md` at the repository
root points there. The kinds are the file names, so adding a schema file adds a kind.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from monitor_service.errors import ConfigError, FormatError

_PACKAGE_DIR = "schemas_json"
_SUFFIX = ".schema.json"


def kinds() -> tuple[str, ...]:
    """Every schema kind, e.g. "statistics", sorted."""
    folder = resources.files("monitor_service") / _PACKAGE_DIR
    return tuple(sorted(p.name.removesuffix(_SUFFIX) for p in folder.iterdir() if p.name.endswith(_SUFFIX)))


def validate(kind: str, obj: Any) -> None:
    """Raise `FormatError` naming the offending location if `obj` is not a valid `kind` document."""
    error = best_match(_validator(kind).iter_errors(obj))
    if error is not None:
        location = "/".join(str(part) for part in error.absolute_path) or "(document root)"
        raise FormatError(f"not a valid {kind} document at {location}: {error.message}")


@cache
def _validator(kind: str) -> Draft202012Validator:
    if kind not in kinds():
        raise ConfigError(f"unknown schema kind {kind!r}; known kinds: {', '.join(kinds())}")
    text = (resources.files("monitor_service") / _PACKAGE_DIR / f"{kind}{_SUFFIX}").read_text("utf-8")
    loaded = json.loads(text)
    Draft202012Validator.check_schema(loaded)
    return Draft202012Validator(loaded)
