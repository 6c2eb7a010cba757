"""Dashboard page latency with one million stored violations (p50 / p99 per page).

Loads 20 data-quality schedules x 1,000 hourly windows, each window with 50 violations (1,000,000
rows over 100 features and 6 checks) and 20 features' stored metrics (400,000 metric rows); the
newest window of every schedule also has its statistics.json on disk (the distribution panel reads
it). Then signs in once and times the dashboard's pages through the whole app in-process (session
check, bounded queries, the plugin's panels, template rendering; FastAPI TestClient, no network).

    .venv/bin/python bench/dashboard_pages.py                      # SQLite file in bench/out/
    .venv/bin/python bench/dashboard_pages.py --database-url postgresql://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import random
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from monitor_service.api import create_app
from monitor_service.core.constraints import suggest_constraints
from monitor_service.core.kll import KllSketch
from monitor_service.core.profile import ColumnProfile, DatasetProfile, NumericState
from monitor_service.core.statistics import to_statistics_json, write_statistics
from monitor_service.core.types import InferredType
from monitor_service.service.apikeys import create_key
from monitor_service.settings import Settings
from monitor_service.store.db import make_engine, make_sessionmaker, refresh_statistics, transaction, upgrade
from monitor_service.store.models import Baseline, BaselineDocument, Execution, FeatureMetric, Schedule, Violation

SCHEDULES, WINDOWS, PER_WINDOW, FEATURES, CHARTED = 20, 1000, 50, 100, 20
CHECKS = ("baseline_drift_check", "completeness_check", "data_type_check", "categorical_values_check",
          "missing_column_check", "extra_column_check")
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _profile(rng: np.random.Generator, shift: float) -> DatasetProfile:
    columns = []
    for i in range(CHARTED):
        x = rng.normal(shift, 1.0, 2000)
        columns.append(ColumnProfile(name=f"f{i:03d}", inferred_type=InferredType.FRACTIONAL, num_present=2000.0,
                                     num_missing=0.0, numeric=NumericState(
                                         count=2000.0, sum=float(x.sum()), mean=float(x.mean()),
                                         std_dev=float(x.std()), min=float(x.min()), max=float(x.max()),
                                         kll=KllSketch.from_values(x))))
    return DatasetProfile(2000.0, columns)


def load(settings: Settings) -> tuple[list[str], str, str]:
    """Schedule ids, an admin key and a run id; reuses an already loaded database."""
    engine = make_engine(settings)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    with transaction(factory) as session:
        if session.scalar(select(func.count()).select_from(Violation)) == SCHEDULES * WINDOWS * PER_WINDOW:
            ids = list(session.scalars(select(Schedule.id).order_by(Schedule.name)))
            run = session.scalars(select(Execution.id).where(Execution.schedule_id == ids[0])
                                  .order_by(Execution.window_end.desc()).limit(1)).one()
            return ids, create_key(session, role="admin", name="bench", now=T0)[1], run
    rng = np.random.default_rng(3)
    pick = random.Random(7)
    started = time.perf_counter()
    baseline_profile = _profile(rng, 0.0)
    root = Path(settings.artifact_root)
    with transaction(factory) as session:
        baseline = Baseline(id=str(uuid.uuid4()), name="bench", status="Ready", monitor_type="DataQuality", version=1,
                            source="upload", feature_count=CHARTED, created_at=T0, updated_at=T0)
        baseline.documents["statistics"] = BaselineDocument(name="statistics",
                                                            document=to_statistics_json(baseline_profile))
        baseline.documents["constraints"] = BaselineDocument(name="constraints",
                                                             document=suggest_constraints(baseline_profile).to_dict())
        session.add(baseline)
        session.flush()
        schedules = [Schedule(id=str(uuid.uuid4()), name=f"bench-{i:02d}", monitor_type="DataQuality",
                              input_spec={"path": "/x", "format": "capture"}, baseline_id=baseline.id,
                              schedule_expression="rate(1 hour)", status="Stopped", planned_until=T0,
                              skipped_windows=0, created_at=T0, updated_at=T0) for i in range(SCHEDULES)]
        session.add_all(schedules)
        session.flush()
        key = create_key(session, role="admin", name="bench", now=T0)[1]
    newest = ""
    window_stats = to_statistics_json(_profile(rng, 0.3))
    for schedule in schedules:
        runs, rows, metrics = [], [], []
        for hour in range(WINDOWS):
            end = T0 + timedelta(hours=hour + 1)
            run_id = str(uuid.uuid4())
            folder = root / schedule.name / f"{end:%Y/%m/%d/%H}"
            artifacts = None
            if hour == WINDOWS - 1:
                write_statistics(str(folder / "statistics.json"), _profile(rng, 0.3))
                artifacts = {"statistics.json": str(folder / "statistics.json")}
                newest = newest or run_id
            runs.append({"id": run_id, "job": "analyze", "monitor_type": "DataQuality", "trigger": "Scheduled",
                         "schedule_id": schedule.id, "dedup_key": end.isoformat(), "scheduled_time": end,
                         "window_start": end - timedelta(hours=1), "window_end": end, "baseline_version": 1,
                         "status": "CompletedWithViolations", "request": {}, "artifact_dir": str(folder),
                         "created_at": end, "started_at": end, "finished_at": end, "duration_seconds": 2.0,
                         "attempts": 1, "stop_requested": False, "violation_count": PER_WINDOW,
                         "violations_by_check": {c: PER_WINDOW // len(CHECKS) for c in CHECKS},
                         "artifacts": artifacts, "records_read": 1000, "records_analyzed": 1000,
                         "records_quarantined": 0})
            for feature in pick.sample(range(FEATURES), PER_WINDOW):
                rows.append({"execution_id": run_id, "schedule_id": schedule.id, "monitor_type": "DataQuality",
                             "feature_name": f"f{feature:03d}", "check_type": CHECKS[pick.randrange(len(CHECKS))],
                             "description": f"Baseline drift distance: 0.{pick.randrange(100, 999)} exceeds "
                                            "threshold: 0.1", "window_start": end - timedelta(hours=1),
                             "window_end": end, "created_at": end})
            for feature in range(CHARTED):
                metrics.append({"execution_id": run_id, "schedule_id": schedule.id, "feature_name": f"f{feature:03d}",
                                "window_start": end - timedelta(hours=1), "window_end": end,
                                "metrics": {"drift_distance": pick.random() * 0.3, "completeness": 1.0,
                                            "mean": pick.random()}})
        with transaction(factory) as session:
            session.execute(insert(Execution), runs)
            session.execute(insert(Violation), rows)
            session.execute(insert(FeatureMetric), metrics)
    del window_stats
    refresh_statistics(engine)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
    print(f"loaded {SCHEDULES * WINDOWS * PER_WINDOW:,} violations and {SCHEDULES * WINDOWS * CHARTED:,} metric rows "
          f"in {time.perf_counter() - started:.0f} s")
    engine.dispose()
    return [s.id for s in schedules], key, newest


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def sign_in(client: TestClient, key: str) -> None:
    form = client.get("/ui/login").text
    token = re.search(r'name="login_token" value="([^"]+)"', form)
    assert token is not None
    response = client.post("/ui/login", data={"key": key, "login_token": token.group(1), "next": "/ui/"},
                           follow_redirects=False)
    assert response.status_code == 303, response.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    out = Path(__file__).parent / "out"
    parser.add_argument("--database-url", default=f"sqlite:///{out / 'dashboard.db'}")
    parser.add_argument("--artifact-root", default=str(out / "dashboard-artifacts"))
    parser.add_argument("--repeat", type=int, default=60, help="requests per page")
    args = parser.parse_args()
    settings = Settings(database_url=args.database_url, artifact_root=args.artifact_root)
    schedule_ids, key, run_id = load(settings)
    rng = random.Random(11)
    pages = {
        "overview (20 schedules, sparklines)": lambda: "/ui/",
        "schedule (200 windows, 6 drift panels)": lambda: f"/ui/schedules/{rng.choice(schedule_ids)}",
        "schedule, 2000 windows": lambda: f"/ui/schedules/{rng.choice(schedule_ids)}?windows=2000",
        "schedule focused on a feature": lambda: f"/ui/schedules/{rng.choice(schedule_ids)}?focus=f007",
        "schedule + feature + check filter": lambda: (f"/ui/schedules/{rng.choice(schedule_ids)}?feature="
                                                      f"f{rng.randrange(FEATURES):03d}&check={rng.choice(CHECKS)}"),
        "schedule, violations page 2 (cursor)": lambda: "CURSOR",
        "run page": lambda: f"/ui/runs/{run_id}",
        "baseline page (constraints form)": lambda: "BASELINE",
    }
    with TestClient(create_app(settings)) as client:
        sign_in(client, key)
        schedule_page = client.get(f"/ui/schedules/{schedule_ids[0]}").text
        baseline_path = re.search(r'href="(/ui/baselines/[^"]+)" id="baseline-link"', schedule_page)
        cursor = re.search(r'id="violations-next" href="([^"]+)"', schedule_page)
        assert baseline_path is not None and cursor is not None
        print(f"{'page':42} {'KB':>6} {'p50 ms':>8} {'p99 ms':>8}")
        for name, make in pages.items():
            timings, size = [], 0
            for _ in range(args.repeat):
                path = make()
                path = {"CURSOR": cursor.group(1).replace("&amp;", "&"), "BASELINE": baseline_path.group(1)}.get(
                    path, path)
                started = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (path, response.text[:500])
                size = len(response.content)
            print(f"{name:42} {size / 1024:>6.0f} {percentile(timings, 0.5):>8.1f} {percentile(timings, 0.99):>8.1f}")
        print(f"({args.repeat} requests per page; {SCHEDULES * WINDOWS * PER_WINDOW:,} violations stored)")


if __name__ == "__main__":
    main()
