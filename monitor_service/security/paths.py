"""Which paths the service may read: under the configured roots, through allow-listed URL schemes.

An admin key can point a schedule or a baseline job at any path, and whatever the job reads
ends up in statistics anyone with a read key can see. So every input path a request carries is
checked against `PathPolicy` before it is stored, and again before a job runs:

- a local path (or `file://` URL) must resolve (symlinks and `..` included) to a place inside
  one of the local roots: `MONITOR_INPUT_ROOTS` (default `MONITOR_DATA_ROOT`) and the artifact
  root, always (the service reads its own ground truth and baselines there);
- a URL must use an allowed scheme (`MONITOR_INPUT_URL_SCHEMES`: object stores and HDFS by
  default; never ftp, http, sftp or chained `a::b` file systems, which open connections to
  wherever the URL says) and start with one of the URL roots, e.g. `s3://bucket/capture`;
- `..` segments and fsspec's `data:` pseudo-URLs are refused outright.

Request fields that are input paths are marked with the `InputPath` type, so `check_model`
finds them in any request model, including the settings of monitor types added later.
"""

from __future__ import annotations

import os
import re
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel

from monitor_service.errors import InvalidField

DEFAULT_URL_SCHEMES = ("s3", "s3a", "gs", "gcs", "abfs", "abfss", "az", "adl", "hdfs", "viewfs", "wasb", "wasbs")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
_GLOB = re.compile(r"[*?\[]")


class _InputPathMarker:
    """Annotation metadata: this string field is a path the service will read."""

    def __repr__(self) -> str:
        return "InputPath"


INPUT_PATH = _InputPathMarker()
InputPath = Annotated[str, INPUT_PATH]


def split_list(text: str) -> list[str]:
    """A comma-separated setting as its non-empty entries."""
    return [part.strip() for part in text.split(",") if part.strip()]


@dataclass(frozen=True)
class PathPolicy:
    """Local roots (absolute, symlinks resolved), URL roots (`scheme://prefix`) and allowed schemes."""

    local_roots: tuple[str, ...]
    url_roots: tuple[str, ...]
    schemes: frozenset[str]

    @classmethod
    def of(cls, roots: Iterable[str], schemes: Iterable[str]) -> PathPolicy:
        allowed = frozenset(s.lower() for s in schemes)
        local: list[str] = []
        urls: list[str] = []
        for root in roots:
            problem = _shape_problem(root)
            if problem:
                raise ValueError(f"input root {root!r} {problem}")
            scheme = _scheme(root)
            if scheme is None or scheme == "file":
                local.append(os.path.realpath(os.path.expanduser(_local(root))))
            elif scheme in allowed:
                urls.append(root.rstrip("/"))
            else:
                raise ValueError(f"input root {root!r} uses the scheme {scheme!r}, which is not in the allowed "
                                 f"URL schemes {sorted(allowed)}")
        return cls(tuple(local), tuple(urls), allowed)

    def describe(self) -> str:
        return ", ".join([*self.local_roots, *self.url_roots]) or "(none)"

    def problem(self, path: str) -> str | None:
        """Why the service may not read `path`, or None."""
        shape = _shape_problem(path)
        if shape:
            return shape
        scheme = _scheme(path)
        if scheme is not None and scheme != "file":
            if scheme not in self.schemes:
                return (f"uses the URL scheme {scheme!r}; inputs may use {', '.join(sorted(self.schemes))} "
                        "(MONITOR_INPUT_URL_SCHEMES) or a local path")
            if any(path == root or path.startswith(root + "/") for root in self.url_roots):
                return None
            return f"is not under an input root ({self.describe()}; set MONITOR_INPUT_ROOTS)"
        resolved = os.path.realpath(os.path.expanduser(_static_prefix(_local(path))))
        if any(resolved == root or resolved.startswith(root.rstrip("/") + "/") for root in self.local_roots):
            return None
        return f"is not under an input root ({self.describe()}; set MONITOR_INPUT_ROOTS)"

    def check(self, path: str, field: str) -> None:
        problem = self.problem(path)
        if problem:
            raise InvalidField(field, f"input path {path[:300]!r} {problem}",
                               hint="put the data under an input root, or ask the operator to add one")

    def check_model(self, model: BaseModel, field: str = "") -> None:
        """Check every `InputPath` field of `model` (nested models, lists and dicts included)."""
        for name, value in input_paths(model, field):
            self.check(value, name)


def input_paths(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted field name, value) of every `InputPath` field set in `model`."""
    for name, info in type(model).model_fields.items():
        value = getattr(model, name, None)
        where = f"{prefix}.{name}" if prefix else name
        if isinstance(value, str) and (INPUT_PATH in info.metadata or _marked(info.annotation)):
            yield where, value
        else:
            yield from _nested(value, where)


def _nested(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, BaseModel):
        yield from input_paths(value, where)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _nested(item, f"{where}.{i}")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _nested(item, f"{where}.{key}")


def _marked(annotation: Any) -> bool:
    """Whether `annotation` is (a union containing) `InputPath`."""
    if typing.get_origin(annotation) is Annotated:
        return INPUT_PATH in typing.get_args(annotation)[1:]
    return any(_marked(arg) for arg in typing.get_args(annotation))


def _scheme(path: str) -> str | None:
    match = _SCHEME.match(path)
    return match.group(1).lower() if match else None


def _local(path: str) -> str:
    return path[len("file://"):] if path.lower().startswith("file://") else path


def _shape_problem(path: str) -> str | None:
    if not path.strip():
        return "is empty"
    if "::" in path:
        return "chains file systems ('::'), which inputs may not do"
    if path.lower().startswith("data:"):
        return "is a data: URL, not a path"
    if ".." in re.split(r"[/\\]", path):
        return "contains a '..' segment; give the path without it"
    if path.startswith("~") and not path.startswith("~/"):
        return "names another user's home folder"
    return None


def _static_prefix(path: str) -> str:
    """The part of a (glob) path before its first wildcard: a glob matches only below it."""
    match = _GLOB.search(path)
    if match is None:
        return path
    head = path[: match.start()]
    return head if head.endswith("/") else os.path.dirname(head) or "."
