"""Violation-query latency with one million stored violations (p50 / p99 per query shape).

Loads 1,000,000 violation rows (20 schedules x 1,000 hourly executions x 50 violations over
100 features and 6 check types), then times GET /api/v1/violations through the whole app
(auth, query, serialisation; in-process ASGI, no network) for the filters users combine.

    .venv/bin/python bench/violation_queries.py                      # SQLite file in bench/out/
    .venv/bin/python bench/violation_queries.py --database-url postgresql://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from monitor_service.api import create_app
from monitor_service.service.apikeys import create_key
from monitor_service.settings import Settings
from monitor_service.store.db import make_engine, make_sessionmaker, refresh_statistics, transaction, upgrade
from monitor_service.store.models import Baseline, BaselineDocument, Execution, Schedule, Violation

SCHEDULES, EXECUTIONS, PER_EXECUTION, FEATURES = 20, 1000, 50, 100
CHECKS = ("baseline_drift_check", "completeness_check", "data_type_check", "categorical_values_check",
          "missing_column_check", "extra_column_check")
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def load(settings: Settings) -> tuple[list[str], str]:
    engine = make_engine(settings)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    with transaction(factory) as session:
        if session.scalar(select(func.count()).select_from(Violation)) == SCHEDULES * EXECUTIONS * PER_EXECUTION:
            refresh_statistics(engine)  # as the scheduler does every hour
            ids = list(session.scalars(select(Schedule.id).order_by(Schedule.name)))
            key = create_key(session, role="read", name="bench", now=T0)[1]
            return ids, key
    rng = random.Random(7)
    started = time.perf_counter()
    with transaction(factory) as session:
        baseline = Baseline(id=str(uuid.uuid4()), name="bench", status="Ready", version=1, source="upload",
                            created_at=T0, updated_at=T0)
        for name in ("statistics", "constraints"):
            baseline.documents[name] = BaselineDocument(name=name, document={"features": []})
        session.add(baseline)
        session.flush()
        schedules = [Schedule(id=str(uuid.uuid4()), name=f"bench-{i:02d}", monitor_type="DataQuality",
                              input_spec={"path": "/x"}, baseline_id=baseline.id, schedule_expression="rate(1 hour)",
                              status="Stopped", planned_until=T0, skipped_windows=0, created_at=T0, updated_at=T0)
                     for i in range(SCHEDULES)]
        session.add_all(schedules)
        session.flush()
        key = create_key(session, role="read", name="bench", now=T0)[1]
    for schedule in schedules:
        with transaction(factory) as session:
            runs, rows = [], []
            for hour in range(EXECUTIONS):
                end = T0 + timedelta(hours=hour + 1)
                run_id = str(uuid.uuid4())
                runs.append({"id": run_id, "job": "analyze", "monitor_type": "DataQuality", "trigger": "Scheduled",
                             "schedule_id": schedule.id, "dedup_key": end.isoformat(), "scheduled_time": end,
                             "window_start": end - timedelta(hours=1), "window_end": end,
                             "status": "CompletedWithViolations", "request": {}, "artifact_dir": "/x",
                             "created_at": end, "attempts": 1, "stop_requested": False,
                             "violation_count": PER_EXECUTION})
                for feature in rng.sample(range(FEATURES), PER_EXECUTION):
                    check = CHECKS[rng.randrange(len(CHECKS))]
                    rows.append({"execution_id": run_id, "schedule_id": schedule.id, "monitor_type": "DataQuality",
                                 "feature_name": f"f{feature:03d}", "check_type": check,
                                 "description": f"Baseline drift distance: 0.{rng.randrange(100, 999)} exceeds "
                                                "threshold: 0.1", "window_start": end - timedelta(hours=1),
                                 "window_end": end, "created_at": end})
            session.execute(insert(Execution), runs)
            session.execute(insert(Violation), rows)
    refresh_statistics(engine)  # as the scheduler does every hour (SQLite)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
    print(f"loaded {SCHEDULES * EXECUTIONS * PER_EXECUTION:,} violations in {time.perf_counter() - started:.0f} s")
    engine.dispose()
    return [s.id for s in schedules], key


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=f"sqlite:///{Path(__file__).parent / 'out' / 'violations.db'}")
    parser.add_argument("--repeat", type=int, default=300, help="requests per query shape")
    args = parser.parse_args()
    settings = Settings(database_url=args.database_url, artifact_root=tempfile.mkdtemp(), page_size_max=1000)
    schedule_ids, key = load(settings)
    rng = random.Random(11)
    middle = (T0 + timedelta(hours=EXECUTIONS // 2)).isoformat()
    shapes = {
        "newest 100, no filter": lambda: {},
        "schedule": lambda: {"schedule_id": rng.choice(schedule_ids)},
        "feature": lambda: {"feature": f"f{rng.randrange(FEATURES):03d}"},
        "check_type": lambda: {"check_type": rng.choice(CHECKS)},
        "monitor_type + since": lambda: {"monitor_type": "DataQuality", "since": middle},
        "schedule + feature + check": lambda: {"schedule_id": rng.choice(schedule_ids),
                                               "feature": f"f{rng.randrange(FEATURES):03d}",
                                               "check_type": rng.choice(CHECKS)},
        "schedule + since/until (1 day)": lambda: {"schedule_id": rng.choice(schedule_ids), "since": middle,
                                                   "until": (T0 + timedelta(hours=EXECUTIONS // 2 + 24)).isoformat()},
        "page 2 via cursor": lambda: {"schedule_id": rng.choice(schedule_ids), "cursor": "CURSOR"},
        "no match (unknown feature)": lambda: {"feature": "nope"},
    }
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(settings)) as client:
        print(f"{'query':34} {'rows':>5} {'p50 ms':>8} {'p99 ms':>8}")
        for name, make in shapes.items():
            timings, rows = [], 0
            for _ in range(args.repeat):
                params = make()
                if params.get("cursor") == "CURSOR":
                    params["cursor"] = client.get("/api/v1/violations", headers=headers,
                                                  params={k: v for k, v in params.items() if k != "cursor"}
                                                  ).json()["next_cursor"]
                started = time.perf_counter()
                response = client.get("/api/v1/violations", headers=headers, params=params)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text
                rows = len(response.json()["items"])
            print(f"{name:34} {rows:>5} {percentile(timings, 0.5):>8.2f} {percentile(timings, 0.99):>8.2f}")
        print(f"(median of all: {statistics.median(timings):.2f} ms; {args.repeat} requests per shape, limit 100)")


if __name__ == "__main__":
    main()
