"""Starting the gateway process: pick the sources, read the process settings, run uvicorn.

The `Gateway` block of the starting configuration (the file's, else the database's) fixes the
process settings (spool folder, fsync policy, budgets, threads); changing it later takes a
restart, while models, endpoints, capture and weights change live. uvicorn runs on uvloop and
httptools when they are installed (they are dependencies), with its access log off: per-request
logging costs more than the whole routing path.
"""

from __future__ import annotations

import logging
import signal

from monitor_service.errors import ConfigError
from monitor_service.gateway.config import GatewaySettings

log = logging.getLogger("monitor_service.gateway")


def run_gateway(*, config_path: str | None, database_url: str | None, host: str, port: int,
                log_level: str = "info") -> int:
    import uvicorn

    from monitor_service.gateway.app import Gateway, create_gateway_app
    from monitor_service.gateway.sources import ConfigSource, DatabaseSource, FileSource

    # A throwaway read for the process settings; the source itself reports the file on its first poll.
    settings = FileSource(config_path).load().config.Gateway if config_path else None
    file_source = FileSource(config_path) if config_path else None
    source: ConfigSource
    if database_url is not None:
        source = DatabaseSource(database_url, seed=file_source)
        if settings is None:
            settings = _database_settings(source)
    elif file_source is not None:
        source = file_source
    else:
        raise ConfigError("no configuration source: pass --config FILE and/or --database")
    gateway = Gateway(settings or GatewaySettings(), source)
    config = uvicorn.Config(create_gateway_app(gateway), host=host, port=port, log_level=log_level,
                            access_log=False, loop=_loop(), http=_http(), lifespan="on",
                            timeout_graceful_shutdown=30)
    server = uvicorn.Server(config)
    # uvicorn re-raises SIGTERM/SIGINT once it has shut down; after a graceful stop (spool flushed and
    # uploaded) the process exits 0 rather than dying of the signal.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: None)
    server.run()
    return 0 if server.started else 1


def _database_settings(source: object) -> GatewaySettings | None:
    from monitor_service.gateway.sources import DatabaseSource

    assert isinstance(source, DatabaseSource)
    from monitor_service.service.gateway import current_config, stored_config
    from monitor_service.store.db import transaction

    with transaction(source.factory) as session:
        row = current_config(session)
        return stored_config(row).Gateway if row is not None else None


def _loop() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def _http() -> str:
    try:
        import httptools  # noqa: F401
    except ImportError:
        return "h11"
    return "httptools"
