"""Settings from MONITOR_* variables, and the service CLI commands."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect

from monitor_service.cli.service_commands import register
from monitor_service.errors import ConfigError
from monitor_service.service.apikeys import hash_key
from monitor_service.settings import Settings, load_settings
from monitor_service.store.db import current_revision, upgrade
from monitor_service.store.models import Base


def test_environment_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_DATABASE_URL", "postgresql://me@db:5432/monitor")
    monkeypatch.setenv("MONITOR_ARTIFACT_ROOT", "s3://bucket/reports/")
    monkeypatch.setenv("MONITOR_SPARK_MASTER", "spark://spark-master:7077")
    settings = load_settings()
    assert settings.sqlalchemy_url == "postgresql+psycopg://me@db:5432/monitor"
    assert settings.artifact_root == "s3://bucket/reports" and settings.spark_master == "spark://spark-master:7077"
    assert Settings(database_url="sqlite:///a/b.db").sqlite_path() == Path("a/b.db")
    assert Settings.model_fields["database_url"].default == "sqlite:///monitor-data/monitor.db"


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("MONITOR_DATABASE_URL", "mysql://x", "MONITOR_DATABASE_URL: unsupported database URL scheme 'mysql'"),
    ("MONITOR_DATABASE_URL", "sqlite://x.db", "three slashes"),
    ("MONITOR_SPARK_MASTER", "localhost", "MONITOR_SPARK_MASTER: 'localhost' is not a Spark master URL"),
    ("MONITOR_WORKER_CONCURRENCY", "0", "MONITOR_WORKER_CONCURRENCY: Input should be greater than or equal to 1"),
    ("MONITOR_PORT", "http", "MONITOR_PORT: Input should be a valid integer"),
    ("MONITOR_GATEWAY_URLS", "http://a:1,ftp://b", "MONITOR_GATEWAY_URLS: 'ftp://b' is not a gateway base URL"),
])
def test_bad_settings(monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=message):
        load_settings()


@pytest.mark.parametrize("master", ["local", "local[*]", "local[4]", "local[2,3]", "spark://a:7077,b:7077", "yarn",
                                    "k8s://https://kube:443"])
def test_spark_masters(master: str) -> None:
    assert Settings(spark_master=master).spark_master == master


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="monitor")
    register(main.add_subparsers(dest="command", required=True))
    return main


def test_apikey_create_prints_the_key_last(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                           database_url: str, settings: Settings, engine: Engine) -> None:
    monkeypatch.setenv("MONITOR_DATABASE_URL", database_url)
    args = parser().parse_args(["apikey", "create", "--role", "read", "--name", "grafana"])
    assert args.handler(args) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert key.startswith("mon_") and " " not in key
    with engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT role, name, key_hash FROM api_keys").all()
    assert [tuple(row) for row in stored] == [("read", "grafana", hash_key(key))]
    args = parser().parse_args(["apikey", "list"])
    assert args.handler(args) == 0 and "grafana" in capsys.readouterr().out
    key_id = stored and engine.connect().exec_driver_sql("SELECT id FROM api_keys").scalar()
    args = parser().parse_args(["apikey", "revoke", str(key_id)])
    assert args.handler(args) == 0 and "Revoked" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        parser().parse_args(["apikey", "create", "--role", "owner"])


def test_db_upgrade_matches_the_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    monkeypatch.setenv("MONITOR_DATABASE_URL", url)
    args = parser().parse_args(["db", "upgrade"])
    assert args.handler(args) == 0
    assert capsys.readouterr().out.strip().endswith("0008")
    engine = create_engine(url)
    tables = set(inspect(engine).get_table_names())
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    assert upgrade(engine) == current_revision(engine) == "0008"  # idempotent
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    engine.dispose()


def test_scheduler_command_builds_the_real_scheduler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`monitor scheduler` wires the real registry, store and session factory (served without Spark here)."""
    from monitor_service.monitors import MONITORS
    from monitor_service.scheduler import service

    served: list[object] = []
    monkeypatch.setattr(service.MonitorScheduler, "serve", lambda self, warm_up=None: served.append(self))
    monkeypatch.setenv("MONITOR_DATABASE_URL", f"sqlite:///{tmp_path}/scheduler.db")
    monkeypatch.setenv("MONITOR_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    args = parser().parse_args(["scheduler"])
    assert args.handler(args) == 0
    [scheduler] = served
    assert scheduler.monitors is MONITORS  # type: ignore[attr-defined]
