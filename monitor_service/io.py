"""Reading and writing JSON artifacts atomically on local paths and fsspec URLs.

A reader must never see a half-written `statistics.json`: locally we write a temporary file in
the same folder and `os.replace` it (atomic on POSIX); on object stores a single PUT is atomic,
so we write the object in one call. NaN and infinities are written as the strings SageMaker
uses ("NaN", "Infinity"), never as bare tokens that strict JSON parsers reject.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from monitor_service.errors import FormatError, InputError


def is_url(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def local_path(path: str) -> str:
    return path[len("file://") :] if path.startswith("file://") else path


def join(base: str, *parts: str) -> str:
    """Join path parts for local paths and URLs alike."""
    out = base.rstrip("/")
    for part in parts:
        out = f"{out}/{part.strip('/')}"
    return out


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def dumps(obj: Any) -> str:
    return json.dumps(_clean(obj), indent=2, allow_nan=False) + "\n"


def write_text_atomic(path: str, text: str) -> None:
    if is_url(path):
        import fsspec

        with fsspec.open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        return
    target = Path(local_path(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: str, obj: Any) -> None:
    write_text_atomic(path, dumps(obj))


def remove(path: str) -> None:
    """Delete a file if it exists (local path or fsspec URL)."""
    if is_url(path):
        import fsspec

        fs, target = fsspec.core.url_to_fs(path)
        if fs.exists(target):
            fs.rm(target)
        return
    Path(local_path(path)).unlink(missing_ok=True)


def read_text(path: str, what: str = "file") -> str:
    try:
        if is_url(path):
            import fsspec

            with fsspec.open(path, "r", encoding="utf-8") as handle:
                return str(handle.read())
        return Path(local_path(path)).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(f"{what} not found: {path}", hint="check the path") from exc
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc}") from exc


def read_json(path: str, what: str = "JSON file") -> Any:
    text = read_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"{what} {path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
