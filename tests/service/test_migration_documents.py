"""Migration 0006 keeps every existing baseline document and path, and names model-quality metrics."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
from alembic import command
from sqlalchemy import Engine, text

from monitor_service.settings import Settings
from monitor_service.store.db import alembic_config, make_engine, upgrade

STATS, CONS, CAL = {"version": 0.0, "features": [{"name": "a"}]}, {"features": [{"name": "a"}]}, {"x": [0.1]}


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_engine(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(Settings(database_url=f"sqlite:///{tmp_path}/old.db"))
        yield engine
        engine.dispose()
        return
    import psycopg

    admin_url: str = request.getfixturevalue("postgres_admin_url")
    name = f"monitor_mig_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(Settings(database_url=admin_url.rsplit("/", 1)[0] + f"/{name}"))
    yield engine
    engine.dispose()
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _json(engine: Engine, value: object) -> object:
    # JSONB columns hand back Python values; SQLite's JSON columns hand back text.
    return json.loads(value) if isinstance(value, str) else value


def test_documents_survive_the_upgrade_and_the_downgrade(fresh_engine: Engine) -> None:
    upgrade(fresh_engine, "0005")
    now = datetime(2026, 11, 30, 12)
    with fresh_engine.begin() as c:
        c.execute(text("INSERT INTO baselines (id, name, status, monitor_type, version, source, statistics, "
                       "constraints, calibration, statistics_path, constraints_path, calibration_path, "
                       "feature_count, created_at, updated_at) VALUES "
                       "('b1', 'dq', 'Ready', 'DataQuality', 2, 'upload', :s, :c, NULL, '/r/v2/statistics.json', "
                       "'/r/v2/constraints.json', NULL, 1, :now, :now), "
                       "('b2', 'mq', 'Ready', 'ModelQuality', 1, 'job', NULL, :c, :k, NULL, "
                       "'/r/mq/constraints.json', '/r/mq/calibration.json', 0, :now, :now)"),
                  {"s": json.dumps(STATS), "c": json.dumps(CONS), "k": json.dumps(CAL), "now": now})
        c.execute(text("INSERT INTO executions (id, job, monitor_type, trigger, status, request, artifact_dir, "
                       "created_at, attempts, stop_requested) VALUES ('e1', 'analyze', 'ModelQuality', 'Manual', "
                       "'Completed', '{}', '/r/e1', :now, 1, false)"), {"now": now})
        c.execute(text("INSERT INTO violations (execution_id, monitor_type, feature_name, check_type, description, "
                       "window_start, window_end, created_at) VALUES ('e1', 'ModelQuality', 'auc', "
                       "'LessThanThreshold', 'low', :now, :now, :now), ('e1', 'DataQuality', 'age', "
                       "'completeness_check', 'gaps', :now, :now, :now)"), {"now": now})
    assert upgrade(fresh_engine, "0006") == "0006"
    with fresh_engine.connect() as c:
        rows = c.execute(text("SELECT baseline_id, name, document, path FROM baseline_documents "
                              "ORDER BY baseline_id, name")).all()
        metric_names = c.execute(text("SELECT feature_name, metric_name FROM violations ORDER BY id")).all()
        columns = {r[0] for r in c.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'baselines'"))} \
            if fresh_engine.dialect.name == "postgresql" else \
            {r[1] for r in c.execute(text("PRAGMA table_info(baselines)"))}
    assert [(b, n, _json(fresh_engine, d), p) for b, n, d, p in rows] == [
        ("b1", "constraints", CONS, "/r/v2/constraints.json"), ("b1", "statistics", STATS, "/r/v2/statistics.json"),
        ("b2", "calibration", CAL, "/r/mq/calibration.json"), ("b2", "constraints", CONS, "/r/mq/constraints.json")]
    assert metric_names == [("auc", "auc"), ("age", None)]
    assert not columns & {"statistics", "constraints", "calibration", "statistics_path"}
    config = alembic_config(fresh_engine)
    with fresh_engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")
        connection.commit()
    with fresh_engine.connect() as c:
        back = c.execute(text("SELECT id, statistics, constraints, calibration, calibration_path FROM baselines "
                              "ORDER BY id")).all()
    assert [(i, _json(fresh_engine, s) if s else None, _json(fresh_engine, k), _json(fresh_engine, x) if x else None, p)
            for i, s, k, x, p in back] == [("b1", STATS, CONS, None, None),
                                           ("b2", None, CONS, CAL, "/r/mq/calibration.json")]
