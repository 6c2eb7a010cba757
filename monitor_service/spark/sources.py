"""Finding the files behind an input path: local files, folders, globs and fsspec URLs.

Spark reads local paths and Hadoop file systems (hdfs://, s3a://, ...) itself. Other fsspec
URLs (memory://, gcs://, s3:// without the Hadoop S3 jars, ...) are staged to a local
temporary folder first, so every fsspec URL works. For capture data laid out as
`.../yyyy/mm/dd/hh/*.jsonl` only the hour folders that can overlap the window are read (with
one hour of slack on each side, because SageMaker writes a record into the folder of the hour
its file was opened).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from monitor_service.errors import InputError
from monitor_service.specs import Window

_SPARK_NATIVE_SCHEMES = ("hdfs://", "s3a://", "abfs://", "abfss://", "wasb://", "wasbs://", "viewfs://")
_HOUR_FOLDER = re.compile(r"/(\d{4})/(\d{2})/(\d{2})/(\d{2})/[^/]*$")
_GLOB_CHARS = re.compile(r"[*?\[]")


@dataclass
class ResolvedInput:
    """Concrete files to give Spark, and a temporary folder to remove afterwards (if staged)."""

    files: list[str]
    described: str
    pruned_by_window: int = 0
    staging_dir: str | None = None
    skipped: list[str] = field(default_factory=list)
    # staged local copy -> the URL it was copied from (its folders, e.g. yyyy/mm/dd/hh, are lost in the copy)
    originals: dict[str, str] = field(default_factory=dict)

    def cleanup(self) -> None:
        if self.staging_dir:
            shutil.rmtree(self.staging_dir, ignore_errors=True)


def _is_data_file(path: str) -> bool:
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return not (name.startswith((".", "_")) or name.endswith((".crc", ".tmp")))


def hour_of(path: str) -> datetime | None:
    """The UTC hour a capture file belongs to, from its `yyyy/mm/dd/hh/` folder, if any."""
    match = _HOUR_FOLDER.search(path)
    if not match:
        return None
    year, month, day, hour = (int(g) for g in match.groups())
    try:
        return datetime(year, month, day, hour, tzinfo=UTC)
    except ValueError:
        return None


def _may_overlap(path: str, window: Window) -> bool:
    hour = hour_of(path)
    if hour is None:
        return True
    return hour - timedelta(hours=1) < window.end and hour + timedelta(hours=2) > window.start


def missing_input(path: str) -> str | None:
    """Why nothing can be read at `path` (it does not exist, its file system is not installed), or
    None. Only looks: nothing is listed in full or copied, so it is cheap enough to run before
    a SparkSession is started."""
    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(path)
        found = bool(fs.glob(root)) if _GLOB_CHARS.search(root) else bool(fs.exists(root))
    except (ImportError, ValueError) as exc:
        return f"cannot open input {path}: {exc} (use a local path or an fsspec URL whose file system is installed)"
    except OSError as exc:
        return f"cannot look at input {path}: {exc}"
    return None if found else f"input path does not exist: {path}"


@dataclass
class ListedInput:
    """The data files behind an input path on their own file system (nothing copied)."""

    fs: Any
    files: list[str]
    pruned_by_window: int

    @property
    def protocol(self) -> str:
        return self.fs.protocol if isinstance(self.fs.protocol, str) else self.fs.protocol[0]

    @property
    def is_local(self) -> bool:
        return self.protocol in ("file", "local")


def list_input(path: str, window: Window | None = None, suffixes: tuple[str, ...] | None = None) -> ListedInput:
    """List the data files behind `path` (pruned to the window's hour folders); InputError if none."""
    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(path)
    except (ImportError, ValueError) as exc:
        raise InputError(
            f"cannot open input {path}: {exc}", hint="use a local path or an fsspec URL whose file system is installed"
        ) from exc
    try:
        if _GLOB_CHARS.search(root):
            candidates = [p for p in fs.glob(root) if fs.isfile(p)]
        elif fs.isdir(root):
            candidates = [p for p in fs.find(root) if fs.isfile(p)]
        elif fs.isfile(root):
            candidates = [root]
        else:
            raise InputError(f"input path does not exist: {path}", hint="check the path or URL")
    except (OSError, PermissionError) as exc:
        raise InputError(f"cannot list input {path}: {exc}") from exc
    files = sorted(p for p in candidates if _is_data_file(p))
    if suffixes and candidates != [root]:
        files = [p for p in files if p.lower().endswith(suffixes)]
    if not files:
        wanted = f" ending in {', '.join(suffixes)}" if suffixes else ""
        raise InputError(f"no data files{wanted} found under {path}", hint="check the path and the --format")
    pruned = 0
    if window is not None:
        kept = [p for p in files if _may_overlap(p, window)]
        pruned = len(files) - len(kept)
        files = kept
    return ListedInput(fs=fs, files=files, pruned_by_window=pruned)


def resolve_input(path: str, window: Window | None = None, suffixes: tuple[str, ...] | None = None) -> ResolvedInput:
    """List the data files behind `path`; raise InputError naming the path when there are none."""
    listed = list_input(path, window, suffixes)
    fs, files, pruned = listed.fs, listed.files, listed.pruned_by_window
    resolved = ResolvedInput(files=[], described=path, pruned_by_window=pruned)
    if listed.is_local:
        resolved.files = files
    elif path.startswith(_SPARK_NATIVE_SCHEMES):
        scheme = path.split("://", 1)[0]
        resolved.files = [f"{scheme}://{p}" if "://" not in p else p for p in files]
    else:
        resolved.staging_dir = tempfile.mkdtemp(prefix="monitor-stage-")
        for i, remote in enumerate(files):
            local = Path(resolved.staging_dir) / f"{i:06d}-{Path(remote).name}"
            fs.get_file(remote, str(local))
            resolved.files.append(str(local))
            resolved.originals[str(local)] = fs.unstrip_protocol(remote)
    return resolved
