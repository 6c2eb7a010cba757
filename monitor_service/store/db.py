"""Engines, sessions and schema upgrades; created by entry points, never at import.

SQLite gets the pragmas a multi-process service needs (foreign keys on, WAL, a busy timeout
so a second process waits for the write lock instead of failing). Schema upgrades take a
PostgreSQL advisory lock, because the API and the scheduler may start at the same moment.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Result, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from monitor_service.errors import StoreError
from monitor_service.settings import Settings

MIGRATIONS = Path(__file__).with_name("migrations")
_UPGRADE_LOCK_ID = 7_320_114_551  # any constant shared by every process of this service


def make_engine(settings: Settings) -> Engine:
    """Create the engine for `settings.database_url` (creating the SQLite file's folder)."""
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if settings.is_sqlite:
        path = settings.sqlite_path()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        kwargs = {"connect_args": {"check_same_thread": False, "timeout": 30}}
    else:
        kwargs.update(pool_size=10, max_overflow=10)
    engine = create_engine(settings.sqlalchemy_url, **kwargs)
    if settings.is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session], *, immediate: bool = False) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error (services never commit themselves).

    `immediate` takes SQLite's write lock at the start (BEGIN IMMEDIATE), for work that reads
    inside savepoints before it writes while other processes write too: a SQLite transaction that
    began reading cannot turn into a writer once another one has committed ("database is locked").
    PostgreSQL locks rows, so there it changes nothing.
    """
    with factory() as session, session.begin():
        if immediate and session.get_bind().dialect.name == "sqlite":
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        yield session


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Bring the schema to `revision`; returns the revision now in place."""
    from alembic import command

    config = alembic_config(engine)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _UPGRADE_LOCK_ID})
                connection.commit()
            sqlite = engine.dialect.name == "sqlite"
            if sqlite:
                # Batch migrations rebuild SQLite tables (create, copy, drop, rename); with foreign keys
                # enforced, dropping the old table would cascade into or be refused by the tables that
                # reference it. They are switched off for the upgrade and checked once it is done.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            try:
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                connection.commit()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise StoreError(f"the schema upgrade left {len(broken)} rows with dangling references")
            finally:
                if sqlite:
                    connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                if engine.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _UPGRADE_LOCK_ID})
                    connection.commit()
        return current_revision(engine)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot upgrade the database schema: {exc.__class__.__name__}: {exc.args[0]}",
                         hint="check MONITOR_DATABASE_URL and that the database server is running") from exc


def refresh_statistics(engine: Engine) -> None:
    """Refresh the query planner's table statistics where the database does not do it itself.

    PostgreSQL's autovacuum keeps them current. SQLite keeps none until ANALYZE runs, and without
    them it can pick the wrong index for a combined filter (measured: 150 ms instead of 6 ms at
    one million violations), so the scheduler calls this every hour.
    """
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.commit()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def affected(result: Result[Any]) -> int:
    """Rows changed by an UPDATE/INSERT/DELETE (the compare-and-set primitive of the scheduler)."""
    return int(cast(CursorResult[Any], result).rowcount)
