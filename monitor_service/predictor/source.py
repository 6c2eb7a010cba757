"""A model file's bytes, read once from a local path or any fsspec URL.

The bytes (not a loaded object) are what travels: a Spark job broadcasts one `ModelSource`
and every executor loads it once (`loading.load_source`), because several runtimes' objects
(an ONNX session, a booster with native handles) cannot be pickled reliably.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from monitor_service import io
from monitor_service.errors import ModelError


@dataclass(frozen=True)
class ModelSource:
    uri: str
    framework: str
    data: bytes = field(repr=False)
    trusted: bool = False

    @property
    def suffix(self) -> str:
        name = self.uri.rstrip("/").rsplit("/", 1)[-1]
        return name.rsplit(".", 1)[-1].lower() if "." in name else ""

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def read_source(model_uri: str, framework: str, trusted: bool = False) -> ModelSource:
    """Read the model file; a missing or unreadable file is a ModelError naming it."""
    try:
        if io.is_url(model_uri):
            import fsspec

            with fsspec.open(model_uri, "rb") as handle:
                data = handle.read()
        else:
            with open(io.local_path(model_uri), "rb") as handle:
                data = handle.read()
    except FileNotFoundError:
        raise ModelError(
            f"{framework} model file not found: {model_uri}", hint="check predictor.model_uri"
        ) from None
    except IsADirectoryError:
        raise ModelError(
            f"{framework} model {model_uri} is a folder, not a model file",
            hint="point predictor.model_uri at the saved model file itself",
        ) from None
    except Exception as exc:  # fsspec back ends raise their own types
        raise ModelError(
            f"cannot read {framework} model {model_uri}: {exc}",
            hint="check the path or URL and the credentials of its file system",
        ) from exc
    if not data:
        raise ModelError(f"{framework} model file {model_uri} is empty", hint="save the model again")
    return ModelSource(uri=model_uri, framework=framework, data=bytes(data), trusted=trusted)
