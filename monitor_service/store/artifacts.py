"""Where reports live: a local folder or any fsspec URL, laid out like SageMaker.

Scheduled reports go to `{root}/{schedule}/yyyy/mm/dd/hh/` (the scheduled hour, as SageMaker
writes them); schedules that can fire more than once an hour add a `MM/` level, and manual
runs a `manual-{id}/` level, so no two executions ever share a folder. Every path is built
from validated segments and checked to lie under the root before it is read or written, so
no name or id can make the service touch a file outside it.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor_service import io
from monitor_service.errors import NotFoundError, StoreError

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._=-]{0,127}$")


class ArtifactStore:
    """Reads and writes artifacts strictly under one root."""

    def __init__(self, root: str) -> None:
        if io.is_url(root):
            self.root = root.rstrip("/")
            self._local_root: Path | None = None
        else:
            self._local_root = Path(io.local_path(root)).expanduser().resolve()
            self.root = str(self._local_root)

    def path(self, *segments: str) -> str:
        """Join validated segments under the root; `..`, slashes and odd characters are refused."""
        for segment in segments:
            if segment in (".", "..") or not _SEGMENT.match(segment):
                raise StoreError(f"artifact path segment {segment!r} is not allowed",
                                 hint="use letters, digits, '.', '_', '=' and '-' only")
        return io.join(self.root, *segments)

    def window_dir(self, schedule_name: str, scheduled: datetime, *, sub_hourly: bool,
                   run_label: str | None = None) -> str:
        """The folder of one execution's reports (see the module docstring for the layout)."""
        parts = [schedule_name, f"{scheduled:%Y}", f"{scheduled:%m}", f"{scheduled:%d}", f"{scheduled:%H}"]
        if sub_hourly:
            parts.append(f"{scheduled:%M}")
        if run_label:
            parts.append(run_label)
        return self.path(*parts)

    def contains(self, path: str) -> bool:
        if self._local_root is None:
            rest = path[len(self.root):]
            return path.startswith(self.root + "/") and ".." not in rest.split("/")
        if io.is_url(path):
            return False
        try:
            Path(io.local_path(path)).resolve().relative_to(self._local_root)
        except ValueError:
            return False
        return True

    def _checked(self, path: str) -> str:
        if not self.contains(path):
            raise StoreError(f"refusing to access {path}: it is outside the artifact root {self.root}")
        return path

    def exists(self, path: str) -> bool:
        checked = self._checked(path)
        if io.is_url(checked):
            import fsspec

            filesystem, inner = fsspec.core.url_to_fs(checked)
            return bool(filesystem.exists(inner))
        return Path(checked).is_file()

    def clear_files(self, folder: str) -> None:
        """Delete the files directly inside `folder` (an execution's reports from an earlier attempt);
        sub-folders stay, since a scheduled hour's folder also holds its manual runs' folders."""
        checked = self._checked(folder)
        if io.is_url(checked):
            import fsspec

            if checked.rstrip("/") == self.root:
                raise StoreError(f"refusing to clear the artifact root {self.root}")
            filesystem, inner = fsspec.core.url_to_fs(checked)
            if filesystem.isdir(inner):
                for entry in filesystem.ls(inner, detail=True):
                    if entry["type"] == "file":
                        filesystem.rm(entry["name"])
            return
        local = Path(io.local_path(checked)).resolve()
        if local == self._local_root:
            raise StoreError(f"refusing to clear the artifact root {self.root}")
        if local.is_dir():
            for entry in local.iterdir():
                if entry.is_file():
                    entry.unlink()

    def ensure_folder(self, path: str) -> None:
        """Make an (empty) folder exist. Object stores only know folders through their objects, so
        there a `_folder` marker is written; data readers skip names starting with `_`."""
        checked = self._checked(path)
        if not io.is_url(checked):
            Path(checked).mkdir(parents=True, exist_ok=True)
            return
        import fsspec

        filesystem, inner = fsspec.core.url_to_fs(checked)
        if not filesystem.isdir(inner):
            io.write_text_atomic(io.join(checked, "_folder"), "")

    def write_json(self, path: str, obj: Any) -> None:
        io.write_json_atomic(self._checked(path), obj)

    def read_bytes(self, path: str) -> bytes:
        checked = self._checked(path)
        try:
            if io.is_url(checked):
                import fsspec

                with fsspec.open(checked, "rb") as handle:
                    return bytes(handle.read())
            return Path(checked).read_bytes()
        except FileNotFoundError as exc:
            raise NotFoundError(f"artifact {path} does not exist (yet)") from exc
        except OSError as exc:
            raise StoreError(f"cannot read artifact {path}: {exc}") from exc

    def read_json(self, path: str, what: str) -> Any:
        return io.read_json(self._checked(path), what)
