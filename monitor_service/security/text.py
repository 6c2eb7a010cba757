"""Request text both databases can store: validated once, at the edge, for every request model.

PostgreSQL refuses U+0000 in `text` and `jsonb` values, and no UTF-8 database can store a lone
surrogate (JSON's `"\\ud800"` parses to one); SQLite takes both and hands them back later. So
every API request body is checked before any route sees it: `RequestModel` is the base class
of the request models and walks the raw body (keys, strings, nested documents such as an
uploaded statistics.json) once, refusing such text, and JSON nested deeper than
`MAX_JSON_DEPTH`, with a 422 that names the field. Path and query parameters are checked by
`api.guards` with `text_problem`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, model_validator

from monitor_service.core.json_fields import MAX_JSON_DEPTH

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored (a NUL character, a lone surrogate), or None."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    char = found.group()
    what = "the NUL character U+0000" if char == "\x00" else f"the lone surrogate U+{ord(char):04X}"
    return f"contains {what} at position {found.start()}, which cannot be stored; remove it"


class UnstorableText(ValueError):
    """Raised by the walk below; `loc` is where in the body the bad value is."""

    def __init__(self, loc: tuple[str | int, ...], problem: str) -> None:
        self.loc = loc
        where = ".".join(str(p) for p in loc) or "the body"
        super().__init__(f"{where} {problem}")


def check_json(value: Any, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Refuse unstorable text anywhere in a parsed JSON value (keys too) and nesting deeper than
    `max_depth`. Iterative, so a hostile document cannot exhaust the interpreter's stack."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        node, loc = stack.pop()
        if isinstance(node, str):
            problem = text_problem(node)
            if problem:
                raise UnstorableText(loc, problem)
        elif isinstance(node, dict | list):
            if len(loc) >= max_depth:
                raise UnstorableText(loc, f"nests deeper than {max_depth} levels")
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, child in items:
                if isinstance(key, str):
                    problem = text_problem(key)
                    if problem:
                        raise UnstorableText((*loc, key), f"is a key that {problem}")
                stack.append((child, (*loc, key)))
        elif isinstance(node, BaseModel):  # a model passed in by code (tests, the service itself)
            stack.append((node.model_dump(), loc))


def _checked(value: Any) -> Any:
    check_json(value)
    return value


class RequestModel(BaseModel):
    """Base of every API request body: its raw input is checked by `check_json` first."""

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        check_json(data)
        return data


# A request body that is a bare JSON document (e.g. PUT of a whole constraints.json).
JsonDocument = Annotated[dict[str, Any], AfterValidator(_checked)]
