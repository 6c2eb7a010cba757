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

# No statistics / constraints / summary file comes near this; a larger one is refused unread.
MAX_DOCUMENT_BYTES = 512 * 1024 * 1024


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
                text = str(handle.read(MAX_DOCUMENT_BYTES + 1))
        else:
            with open(local_path(path), encoding="utf-8") as handle:
                text = handle.read(MAX_DOCUMENT_BYTES + 1)
    except FileNotFoundError as exc:
        raise InputError(f"{what} not found: {path}", hint="check the path") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{what} {path} is a folder, not a file", hint="name the file itself") from exc
    except UnicodeDecodeError as exc:
        raise FormatError(f"{what} {path} is not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    if len(text) > MAX_DOCUMENT_BYTES:
        raise FormatError(f"{what} {path} is larger than {MAX_DOCUMENT_BYTES // 2**20} MiB; no such file is that large")
    return text


def loads(text: str, what: str) -> Any:
    """Parse JSON text; every way it can be unusable (syntax, a 5000-digit number, nesting deeper
    than `json_fields.MAX_JSON_DEPTH`) is a FormatError naming `what`."""
    from monitor_service.core.json_fields import MAX_JSON_DEPTH, json_depth_error

    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError:
        raise FormatError(f"{what} nests deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:  # e.g. an integer literal longer than Python converts
        raise FormatError(f"{what} is not usable JSON: {exc}") from None
    problem = json_depth_error(value)
    if problem:
        raise FormatError(f"{what} {problem}")
    return value


def read_json(path: str, what: str = "JSON file") -> Any:
    return loads(read_text(path, what), f"{what} {path}")
