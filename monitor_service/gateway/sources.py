"""Where the gateway's configuration comes from: a file, the service's database, or both.

`FileSource` re-reads the file when it changes (by content hash). `DatabaseSource` polls the one
`gateway_state.version` row and reads a consistent snapshot (configuration + live variant weights)
when it moves. Given both, the file seeds an empty database (stored as version 1) and the
database is the source of truth from then on, so REST changes survive a gateway restart.
Sources are polled off the event loop; a change that does not validate is logged and counted,
and the configuration in use stays.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from monitor_service.gateway.config import GatewayConfig, parse_config, parse_text
from monitor_service.gateway.routing import VariantState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    version: str
    config: GatewayConfig
    variants: dict[str, list[VariantState]] = field(default_factory=dict)


class ConfigSource(Protocol):
    def poll(self) -> Snapshot | None:
        """The new snapshot if the configuration changed since the last poll, else None."""

    def close(self) -> None: ...


class FileSource:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._stat: tuple[int, int] | None = None
        self._digest: str | None = None

    def load(self) -> Snapshot:
        text = self.path.read_bytes()
        self._digest = hashlib.sha256(text).hexdigest()
        data = parse_text(text.decode("utf-8"), f"gateway config {self.path}")
        config = parse_config(data, f"gateway config {self.path}", self.path.resolve().parent)
        return Snapshot(f"file:{self._digest[:12]}", config)

    def poll(self) -> Snapshot | None:
        try:
            stat = self.path.stat()
            key = (stat.st_mtime_ns, stat.st_size)
            if key == self._stat:
                return None
            self._stat = key
            if hashlib.sha256(self.path.read_bytes()).hexdigest() == self._digest:
                return None
        except OSError:
            return None
        return self.load()

    def close(self) -> None:
        return None


class DatabaseSource:
    def __init__(self, database_url: str, seed: FileSource | None = None) -> None:
        from monitor_service.settings import Settings
        from monitor_service.store.db import make_engine, make_sessionmaker, upgrade

        self.engine = make_engine(Settings(database_url=database_url))
        upgrade(self.engine)
        self.factory = make_sessionmaker(self.engine)
        self.seed = seed
        self._version: int | None = None
        self._seeded = False

    def _import_seed(self) -> None:
        from datetime import UTC, datetime

        from monitor_service.service.gateway import import_config
        from monitor_service.store.db import transaction

        assert self.seed is not None
        config = self.seed.load().config
        with transaction(self.factory) as session:
            if import_config(session, config, now=datetime.now(UTC), source=str(self.seed.path)):
                log.info("gateway: stored %s in the database as its first configuration", self.seed.path)

    def poll(self) -> Snapshot | None:
        from monitor_service.service.gateway import snapshot, state_version
        from monitor_service.store.db import transaction

        if self.seed is not None and not self._seeded:
            self._import_seed()
            self._seeded = True
        with transaction(self.factory) as session:
            version = state_version(session)
            if version is not None and version == self._version:
                return None
            snap = snapshot(session)
        if snap is None:
            if self._version is None:
                self._version = -1
                return Snapshot("db:0", GatewayConfig())
            return None
        self._version = snap.version
        document: Any = snap.document or {}
        config = parse_config(document, f"gateway config version {snap.config_version} in the database")
        return Snapshot(f"db:{snap.version}", config, snap.variants)

    def close(self) -> None:
        self.engine.dispose()
