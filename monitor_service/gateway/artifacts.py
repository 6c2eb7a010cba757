"""Turning a `ModelDataUrl` into a local file or folder the frameworks can load.

A local file or folder is used as it is. An fsspec URL is downloaded once into the model cache
folder (keyed by the URL). A `model.tar.gz` (SageMaker's artifact) is extracted once into the cache,
refusing members that would land outside it (absolute paths, `..`, links). Downloads and
extractions go to a temporary folder renamed into place, so a crash never leaves half a model.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from monitor_service.errors import ModelError

_TARBALL = (".tar.gz", ".tgz", ".tar")


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def local_artifact(url: str, cache_dir: Path) -> Path:
    """The local path of `url` (downloaded and/or extracted into `cache_dir` when needed)."""
    is_remote = "://" in url and not url.startswith("file://")
    path = Path(url.removeprefix("file://"))
    if is_remote:
        path = _download(url, cache_dir)
    elif not path.exists():
        raise ModelError(f"model artifact {url} does not exist", hint="check ModelDataUrl")
    if path.is_file() and path.name.lower().endswith(_TARBALL):
        return _extract(path, cache_dir)
    return path


def _download(url: str, cache_dir: Path) -> Path:
    import fsspec

    target = cache_dir / "downloads" / _key(url)
    name = url.rstrip("/").rsplit("/", 1)[-1] or "model"
    if (target / name).exists():
        return target / name
    try:
        fs, remote = fsspec.core.url_to_fs(url)
        staging = Path(tempfile.mkdtemp(prefix=".download-", dir=_ensure(cache_dir / "downloads")))
        if fs.isdir(remote):
            fs.get(remote, str(staging / name), recursive=True)
        else:
            fs.get_file(remote, str(staging / name))
    except (OSError, ValueError, ImportError) as exc:
        raise ModelError(f"cannot download model artifact {url}: {exc}",
                         hint="check ModelDataUrl and that its file system is installed") from exc
    _publish(staging, target)
    return target / name


def _extract(tarball: Path, cache_dir: Path) -> Path:
    stat = tarball.stat()
    target = cache_dir / "extracted" / _key(f"{tarball.resolve()}:{stat.st_size}:{stat.st_mtime_ns}")
    if target.exists():
        return target
    staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=_ensure(cache_dir / "extracted")))
    try:
        with tarfile.open(tarball) as archive:
            archive.extractall(staging, filter="data")
    except (tarfile.TarError, OSError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ModelError(f"cannot extract model artifact {tarball}: {exc}",
                         hint="ModelDataUrl must be a valid model.tar.gz (members inside the archive)") from exc
    _publish(staging, target)
    return target


def _ensure(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _publish(staging: Path, target: Path) -> None:
    try:
        os.replace(staging, target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)  # another process published it first
        if not target.exists():
            raise


def artifact_bytes(path: Path) -> int:
    """Bytes on disk of a file or folder (the multi-model cache's estimate of a model's memory)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def find_model_file(path: Path, suffixes: tuple[str, ...], what: str) -> Path:
    """The model file of a framework inside a folder (e.g. an extracted model.tar.gz)."""
    if path.is_file():
        return path
    candidates = sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(suffixes)
                        and not p.name.startswith("."))
    if len(candidates) != 1:
        found = ", ".join(p.name for p in candidates[:5]) or "none"
        raise ModelError(f"expected one {what} model file ({', '.join(suffixes)}) in {path}, found {found}",
                         hint="point ModelDataUrl at the model file itself")
    return candidates[0]
