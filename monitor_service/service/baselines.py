"""Baselines: uploaded SageMaker files or the output of a baseline job, versioned on every edit.

The database row is the source of truth; each version is also written to the artifact store
(`{root}/baselines/{id}/v{n}/`) because the analysis job reads files, and an execution records
the version it used, so old reports stay explainable after the constraints change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor_service.errors import FormatError, NotFoundError
from monitor_service.runner.requests import BaselineRequest
from monitor_service.runner.summary import RunSummary
from monitor_service.service.baseline_files import (
    ConstraintsPatch,
    apply_patch,
    validate_constraints,
    validate_statistics,
)
from monitor_service.service.common import ConflictError, new_id
from monitor_service.specs import InputSpec
from monitor_service.store.artifacts import ArtifactStore
from monitor_service.store.models import Baseline, Execution, Schedule


def get_baseline(session: Session, baseline_id: str) -> Baseline:
    baseline = session.get(Baseline, baseline_id)
    if baseline is None:
        raise NotFoundError(f"baseline {baseline_id} does not exist")
    return baseline


def list_baselines(session: Session) -> list[Baseline]:
    return list(session.scalars(select(Baseline).order_by(Baseline.created_at.desc(), Baseline.id)))


def _check_name_free(session: Session, name: str) -> None:
    if session.scalar(select(Baseline.id).where(Baseline.name == name)) is not None:
        raise ConflictError(f"a baseline named {name!r} already exists", hint="pick another name")


def _write_version(artifacts: ArtifactStore, baseline: Baseline) -> None:
    folder = ("baselines", baseline.id, f"v{baseline.version}")
    baseline.statistics_path = artifacts.path(*folder, "statistics.json")
    baseline.constraints_path = artifacts.path(*folder, "constraints.json")
    artifacts.write_json(baseline.statistics_path, baseline.statistics)
    artifacts.write_json(baseline.constraints_path, baseline.constraints)


def create_baseline(session: Session, artifacts: ArtifactStore, *, name: str, statistics: dict[str, Any],
                    constraints: dict[str, Any], now: datetime) -> Baseline:
    """Register uploaded files (already validated by the API schema) as version 1."""
    _check_name_free(session, name)
    baseline = Baseline(id=new_id(), name=name, status="Ready", version=1, source="upload",
                        statistics=statistics, constraints=constraints, created_at=now, updated_at=now)
    _write_version(artifacts, baseline)
    session.add(baseline)
    session.flush()
    return baseline


def _editable(session: Session, baseline_id: str) -> Baseline:
    baseline = get_baseline(session, baseline_id)
    if baseline.status != "Ready" or baseline.constraints is None:
        raise ConflictError(f"baseline {baseline_id} is {baseline.status}; only Ready baselines can be edited")
    return baseline


def replace_constraints(session: Session, artifacts: ArtifactStore, *, baseline_id: str,
                        constraints: dict[str, Any], now: datetime) -> Baseline:
    baseline = _editable(session, baseline_id)
    return _new_version(artifacts, baseline, constraints, now)


def patch_constraints(session: Session, artifacts: ArtifactStore, *, baseline_id: str,
                      patch: ConstraintsPatch, now: datetime) -> Baseline:
    baseline = _editable(session, baseline_id)
    assert baseline.constraints is not None
    return _new_version(artifacts, baseline, apply_patch(baseline.constraints, patch), now)


def _new_version(artifacts: ArtifactStore, baseline: Baseline, constraints: dict[str, Any],
                 now: datetime) -> Baseline:
    baseline.constraints = constraints
    baseline.version += 1
    baseline.updated_at = now
    _write_version(artifacts, baseline)
    return baseline


def delete_baseline(session: Session, baseline_id: str) -> None:
    baseline = get_baseline(session, baseline_id)
    used = session.scalars(select(Schedule.name).where(Schedule.baseline_id == baseline_id)).all()
    if used:
        raise ConflictError(f"baseline {baseline_id} is used by schedules {sorted(used)}",
                            hint="delete those schedules or point them at another baseline first")
    session.delete(baseline)


def start_baseline_job(session: Session, artifacts: ArtifactStore, *, name: str, input_spec: InputSpec,
                       monitor_type: str, now: datetime) -> tuple[Baseline, Execution]:
    """Create a Pending baseline and the execution that will profile `input_spec` into it."""
    _check_name_free(session, name)
    baseline = Baseline(id=new_id(), name=name, status="Pending", version=0, source="job",
                        job_input=input_spec.model_dump(mode="json"), created_at=now, updated_at=now)
    output_dir = artifacts.path("baselines", baseline.id, "job")
    request = BaselineRequest(input=input_spec, output_dir=output_dir)
    execution = Execution(
        id=new_id(), job="baseline", monitor_type=monitor_type, trigger="Manual", baseline_id=baseline.id,
        status="Pending", request=request.model_dump(mode="json"), artifact_dir=output_dir, created_at=now,
        attempts=0, stop_requested=False,
    )
    session.add(baseline)
    session.flush()
    session.add(execution)
    session.flush()
    return baseline, execution


def finish_baseline_job(session: Session, artifacts: ArtifactStore, *, execution: Execution,
                        summary: RunSummary, now: datetime) -> None:
    """Turn a finished baseline job into version 1 of its baseline (or mark it Failed)."""
    baseline = session.get(Baseline, execution.baseline_id)
    if baseline is None:  # deleted while the job ran
        return
    baseline.updated_at = now
    if summary.status == "Failed":
        baseline.status, baseline.failure_reason = "Failed", summary.failure_reason
        return
    try:
        statistics = artifacts.read_json(f"{execution.artifact_dir}/statistics.json", "statistics file")
        constraints = artifacts.read_json(f"{execution.artifact_dir}/constraints.json", "constraints file")
        validate_statistics(statistics)
        validate_constraints(constraints)
    except (FormatError, NotFoundError, ValueError) as exc:
        baseline.status = "Failed"
        baseline.failure_reason = f"the baseline job wrote unusable files: {exc}"
        return
    baseline.statistics, baseline.constraints = statistics, constraints
    baseline.status, baseline.version = "Ready", 1
    _write_version(artifacts, baseline)


def fail_baseline_job(session: Session, *, execution: Execution, reason: str, now: datetime) -> None:
    baseline = session.get(Baseline, execution.baseline_id)
    if baseline is not None:
        baseline.status, baseline.failure_reason, baseline.updated_at = "Failed", reason, now


def feature_count(baseline: Baseline) -> int:
    return len((baseline.statistics or {}).get("features", []))

