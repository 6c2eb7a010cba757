"""A monitor type that exists only in tests: proof that a new type plugs in without touching the service.

`ToyQuality` keeps one baseline document (`rules`), carries settings in the request field `toy`,
writes its own violations format and gauges. `scenario(workdir)` registers it, then drives the
real API, scheduler and CLI parser with it and prints what they did as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from monitor_service.errors import InvalidField
from monitor_service.monitors.base import (
    CliArgument,
    Command,
    Document,
    LatestMetrics,
    MonitorPlugin,
    ViolationRow,
    WindowJob,
)
from monitor_service.runner.common import Progress, no_progress
from monitor_service.runner.summary import RunSummary
from monitor_service.specs import InputSpec


class ToySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(ge=0, le=1)


class ToyAnalyzeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: InputSpec
    output_dir: str
    rules: str
    threshold: float


class ToyMonitor(MonitorPlugin):
    monitor_type = "ToyQuality"
    title = "toy quality"
    settings_field = "toy"
    settings_model = ToySettings
    analyze_model = ToyAnalyzeRequest
    documents = (Document("rules", "the toy rules", replaceable=True),)
    artifacts = ("constraint_violations.json", "report.txt")

    def check_documents(self, documents: Mapping[str, dict[str, Any]]) -> None:
        if not isinstance(documents["rules"].get("score_floor"), int | float):
            raise InvalidField("rules", "rules need a numeric score_floor")

    def analyze_request(self, job: WindowJob) -> ToyAnalyzeRequest:
        assert job.settings is not None
        return ToyAnalyzeRequest(input=job.input, output_dir=job.output_dir, rules=job.documents["rules"],
                                 threshold=job.settings["threshold"])

    def run_analysis(self, spark: Any, request: Any, progress: Progress = no_progress) -> RunSummary:
        out = Path(request.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        floor = json.loads(Path(request.rules).read_text())["score_floor"]
        score = 0.25
        violations = [{"toy_metric": "score", "where": "everywhere", "kind": "toy_floor_check",
                       "text": f"score {score} below {floor}"}] if score < floor else []
        (out / "constraint_violations.json").write_text(json.dumps({"violations": violations}))
        (out / "report.txt").write_text("toy report")
        summary = RunSummary(job="analyze", monitor_type=self.monitor_type,
                             status="CompletedWithViolations" if violations else "Completed",
                             violations=len(violations), records_analyzed=7,
                             artifacts={"constraint_violations": str(out / "constraint_violations.json"),
                                        "report": str(out / "report.txt")},
                             feature_metrics={"overall": {"score": score}})
        (out / "summary.json").write_text(summary.model_dump_json())
        return summary

    def cli_arguments(self) -> Sequence[CliArgument]:
        return (CliArgument(("--toy-threshold",), {"type": float, "help": "toy threshold"}),)

    def cli_request(self, command: Command, args: argparse.Namespace, spec: InputSpec) -> BaseModel:
        return ToyAnalyzeRequest(input=spec, output_dir=args.output, rules=args.baseline_constraints,
                                 threshold=args.toy_threshold)

    def violation_rows(self, entries: Sequence[Mapping[str, Any]]) -> list[ViolationRow]:
        return [ViolationRow(feature_name=str(e["where"]), metric_name=str(e["toy_metric"]),
                             check_type=str(e["kind"]), description=str(e["text"])) for e in entries]

    def metric_families(self, latest: Sequence[LatestMetrics]) -> list[Any]:
        from prometheus_client.core import GaugeMetricFamily

        gauge = GaugeMetricFamily("toy_score", "The toy score", labels=["schedule"])
        for row in latest:
            gauge.add_metric([row.schedule], float(row.metrics["score"] or 0))
        return [gauge]


PLUGIN = ToyMonitor()


def scenario(workdir: Path) -> dict[str, Any]:
    """Register the toy type, then use it through the API, the scheduler and the CLI parser."""
    import httpx
    from fastapi.testclient import TestClient

    from monitor_service.monitors import MONITORS

    MONITORS.register(PLUGIN.monitor_type, PLUGIN)  # before the API builds its models from the registry
    from monitor_service.api import create_app
    from monitor_service.cli.main import build_parser
    from monitor_service.scheduler.service import MonitorScheduler
    from monitor_service.service.apikeys import create_key
    from monitor_service.settings import Settings
    from monitor_service.store.artifacts import ArtifactStore
    from monitor_service.store.db import make_engine, make_sessionmaker, transaction, upgrade

    class Clock:
        def __init__(self) -> None:
            self.current = datetime(2024, 5, 1, tzinfo=UTC)

        def now(self) -> datetime:
            return self.current

    clock, results = Clock(), {}
    settings = Settings(database_url=f"sqlite:///{workdir}/toy.db", artifact_root=str(workdir / "artifacts"),
                        input_roots=str(workdir))  # the toy reads its own folder
    engine = make_engine(settings)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        key = create_key(session, role="admin", name="toy", now=clock.now())[1]
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(settings, clock=clock)) as api, httpx.Client() as http:
        results["bad_rules"] = api.post("/api/v1/baselines", headers=headers, json={
            "name": "toy-bad", "monitor_type": "ToyQuality", "rules": {"score_floor": "high"}}).json()
        results["missing_rules"] = api.post("/api/v1/baselines", headers=headers, json={
            "name": "toy-missing", "monitor_type": "ToyQuality"}).json()
        baseline = api.post("/api/v1/baselines", headers=headers, json={
            "name": "toy", "monitor_type": "ToyQuality", "rules": {"score_floor": 0.5}}).json()
        results["baseline"] = baseline
        body = {"name": "toy-hourly", "monitor_type": "ToyQuality", "baseline_id": baseline["id"],
                "input": {"path": str(workdir)}, "schedule_expression": "cron(0 * ? * * *)"}
        results["no_settings"] = api.post("/api/v1/schedules", headers=headers, json=body).json()
        schedule = api.post("/api/v1/schedules", headers=headers, json={**body, "toy": {"threshold": 0.3}}).json()
        results["schedule"] = schedule
        clock.current += timedelta(hours=1, minutes=1)
        scheduler = MonitorScheduler(factory=make_sessionmaker(engine), artifacts=ArtifactStore(settings.artifact_root),
                                     settings=settings, monitors=MONITORS, clock=clock, spark=lambda: None, http=http)
        results["ticks"] = scheduler.tick()
        results["violations"] = api.get("/api/v1/violations", headers=headers,
                                        params={"schedule_id": schedule["id"], "metric": "score"}).json()
        execution = api.get(f"/api/v1/executions/{next(iter(results['ticks']))}", headers=headers).json()
        results["execution"] = execution
        results["report"] = api.get(f"/api/v1/executions/{execution['id']}/artifacts/report.txt",
                                    headers=headers).text
        results["metrics"] = api.get("/metrics", headers=headers).text
        results["history"] = api.get(f"/api/v1/schedules/{schedule['id']}/features/overall/history",
                                     headers=headers).json()
        results["openapi_has_toy"] = "ToyQualityScheduleCreate" in json.dumps(api.get("/openapi.json").json())
    results["cli_help"] = build_parser().format_help() + build_parser()._subparsers._group_actions[0] \
        .choices["analyze"].format_help()  # type: ignore[union-attr]
    engine.dispose()
    return results


if __name__ == "__main__":
    print(json.dumps(scenario(Path(sys.argv[1])), default=str))
