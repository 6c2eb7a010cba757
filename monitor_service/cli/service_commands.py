"""Service subcommands: `serve`, `scheduler`, `apikey create|list|revoke`, `db upgrade`.

`register(subparsers)` adds them to the main parser; each sets `handler(args) -> int`. Settings
come from `MONITOR_*` variables, read once here; errors are `MonitorError`s, which the main
entry point turns into messages and exit codes.
"""

from __future__ import annotations

import argparse
import functools
import logging
from typing import Any

from monitor_service.service.roles import ROLES
from monitor_service.settings import Settings, load_settings


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser("serve", help="run the REST API (uvicorn)")
    serve.add_argument("--host", help="bind address (default: MONITOR_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: MONITOR_PORT or 8080)")
    serve.set_defaults(handler=cmd_serve)

    scheduler = subparsers.add_parser("scheduler", help="run the scheduler and worker process")
    scheduler.set_defaults(handler=cmd_scheduler)

    apikey = subparsers.add_parser("apikey", help="manage API keys")
    apikey_sub = apikey.add_subparsers(dest="apikey_command", required=True)
    create = apikey_sub.add_parser("create", help="create a key; the key alone is printed on the last line")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--name", default="", help="a label to recognise the key by")
    create.set_defaults(handler=cmd_apikey_create)
    listing = apikey_sub.add_parser("list", help="list keys (never the keys themselves)")
    listing.set_defaults(handler=cmd_apikey_list)
    revoke = apikey_sub.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("key_id")
    revoke.set_defaults(handler=cmd_apikey_revoke)

    db = subparsers.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="upgrade the schema to the latest revision")
    upgrade.set_defaults(handler=cmd_db_upgrade)


def _ready_engine(settings: Settings) -> Any:
    from monitor_service.store.db import make_engine, upgrade

    engine = make_engine(settings)
    if settings.auto_migrate:
        upgrade(engine)
    return engine


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from monitor_service.api import create_app

    settings = load_settings()
    uvicorn.run(create_app(settings), host=args.host or settings.host, port=args.port or settings.port,
                log_level="info")
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    from monitor_service.monitors import MONITORS
    from monitor_service.scheduler.clock import SystemClock
    from monitor_service.scheduler.service import MonitorScheduler
    from monitor_service.security.addresses import webhook_client
    from monitor_service.spark.session import get_session
    from monitor_service.store.artifacts import ArtifactStore
    from monitor_service.store.db import make_sessionmaker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    engine = _ready_engine(settings)
    spark = functools.cache(lambda: get_session(master=settings.spark_master, app_name="monitor-scheduler"))
    with webhook_client(settings.address_policy()) as http:
        MonitorScheduler(factory=make_sessionmaker(engine), artifacts=ArtifactStore(settings.artifact_root),
                         settings=settings, monitors=MONITORS, clock=SystemClock(), spark=spark,
                         http=http).serve(warm_up=spark if settings.engine == "spark" else None)
    engine.dispose()
    return 0


def _with_session(fn: Any) -> Any:
    from monitor_service.scheduler.clock import SystemClock
    from monitor_service.store.db import make_sessionmaker, transaction

    engine = _ready_engine(load_settings())
    try:
        with transaction(make_sessionmaker(engine)) as session:
            return fn(session, SystemClock().now())
    finally:
        engine.dispose()


def cmd_apikey_create(args: argparse.Namespace) -> int:
    from monitor_service.service.apikeys import create_key

    key, plain = _with_session(lambda s, now: create_key(s, role=args.role, name=args.name, now=now))
    print(f"Created {key.role} key {key.id} ({key.key_prefix}...). It is shown once; store it now:")
    print(plain)
    return 0


def cmd_apikey_list(args: argparse.Namespace) -> int:
    from monitor_service.service.apikeys import list_keys

    for key in _with_session(lambda s, now: list_keys(s)):
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        print(f"{key.id}  {key.role:<5}  {key.key_prefix}...  {state}  {key.name}")
    return 0


def cmd_apikey_revoke(args: argparse.Namespace) -> int:
    from monitor_service.service.apikeys import revoke_key

    key = _with_session(lambda s, now: revoke_key(s, key_id=args.key_id, now=now))
    print(f"Revoked key {key.id} ({key.key_prefix}...)")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from monitor_service.store.db import make_engine, upgrade

    engine = make_engine(load_settings())
    try:
        print(f"database schema at revision {upgrade(engine)}")
    finally:
        engine.dispose()
    return 0
