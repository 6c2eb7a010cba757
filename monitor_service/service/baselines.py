"""Baselines: uploaded SageMaker files or the output of a baseline job, versioned on every edit.

The database row is the source of truth; each version is also written to the artifact store
(`{root}/baselines/{id}/v{n}/`) because the analysis job reads files, and an execution records
the version it used, so old reports stay explainable after the constraints change. A baseline
has a monitor type: its `MonitorKind` says which files it holds (DataQuality: statistics and
constraints; ModelQuality: constraints, optional statistics and CBPE calibration).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, defer

from monitor_service.core.registry import Registry
from monitor_service.errors import ConfigError, ConflictError, FormatError, InputError, InvalidField, NotFoundError
from monitor_service.runner.summary import RunSummary
from monitor_service.service.baseline_files import ConstraintsPatch, apply_patch
from monitor_service.service.common import new_id
from monitor_service.service.monitors import BaselineJob, Monitor, MonitorKind, monitor_settings, resolve_monitor
from monitor_service.specs import InputSpec
from monitor_service.store.artifacts import ArtifactStore
from monitor_service.store.db import affected
from monitor_service.store.models import Baseline, Execution, Schedule


def get_baseline(session: Session, baseline_id: str) -> Baseline:
    baseline = session.get(Baseline, baseline_id)
    if baseline is None:
        raise NotFoundError(f"baseline {baseline_id} does not exist")
    return baseline


def list_baselines(session: Session) -> list[Baseline]:
    """Every baseline without its documents (the list shows `feature_count`; reading them raises)."""
    documents = (defer(c, raiseload=True) for c in (Baseline.statistics, Baseline.constraints, Baseline.calibration))
    return list(session.scalars(select(Baseline).options(*documents)
                                .order_by(Baseline.created_at.desc(), Baseline.id)))


def _check_name_free(session: Session, name: str) -> None:
    if session.scalar(select(Baseline.id).where(Baseline.name == name)) is not None:
        raise ConflictError(f"a baseline named {name!r} already exists", hint="pick another name")


def _write_version(artifacts: ArtifactStore, baseline: Baseline) -> None:
    """Write the version's files (those the baseline has) and point the row at them."""
    folder = ("baselines", baseline.id, f"v{baseline.version}")
    paths = {}
    for name in ("statistics", "constraints", "calibration"):
        document = getattr(baseline, name)
        paths[name] = None if document is None else artifacts.path(*folder, f"{name}.json")
        if document is not None:
            artifacts.write_json(paths[name], document)
    baseline.statistics_path, baseline.constraints_path = paths["statistics"], paths["constraints"]
    baseline.calibration_path = paths["calibration"]


def _kind(monitors: Registry[Monitor], baseline: Baseline) -> MonitorKind:
    return monitors.get(baseline.monitor_type).kind


def create_baseline(session: Session, artifacts: ArtifactStore, monitors: Registry[Monitor], *, name: str,
                    monitor_type: str, statistics: dict[str, Any] | None, constraints: dict[str, Any],
                    calibration: dict[str, Any] | None, now: datetime) -> Baseline:
    """Check uploaded files against the monitor type and register them as version 1."""
    monitor_type, monitor = resolve_monitor(monitors, monitor_type)
    monitor.kind.check_files(statistics=statistics, constraints=constraints, calibration=calibration)
    _check_name_free(session, name)
    baseline = Baseline(id=new_id(), name=name, status="Ready", monitor_type=monitor_type, version=1,
                        source="upload", statistics=statistics, feature_count=feature_count(statistics),
                        constraints=constraints, calibration=calibration, created_at=now, updated_at=now)
    _write_version(artifacts, baseline)
    session.add(baseline)
    session.flush()
    return baseline


def _editable(session: Session, baseline_id: str) -> Baseline:
    baseline = get_baseline(session, baseline_id)
    if baseline.status != "Ready" or baseline.constraints is None:
        raise ConflictError(f"baseline {baseline_id} is {baseline.status}; only Ready baselines can be edited")
    return baseline


def replace_constraints(session: Session, artifacts: ArtifactStore, monitors: Registry[Monitor], *,
                        baseline_id: str, constraints: dict[str, Any], now: datetime) -> Baseline:
    baseline = _editable(session, baseline_id)
    _kind(monitors, baseline).check_files(statistics=baseline.statistics, constraints=constraints,
                                          calibration=baseline.calibration)
    return _new_version(session, artifacts, baseline, constraints, now)


def patch_constraints(session: Session, artifacts: ArtifactStore, monitors: Registry[Monitor], *,
                      baseline_id: str, patch: ConstraintsPatch, now: datetime) -> Baseline:
    baseline = _editable(session, baseline_id)
    assert baseline.constraints is not None
    if not _kind(monitors, baseline).patchable_constraints:
        raise ConflictError(f"baseline {baseline_id} is a {baseline.monitor_type} baseline; PATCH edits "
                            "data-quality constraints", hint="replace its constraints.json with PUT")
    return _new_version(session, artifacts, baseline, apply_patch(baseline.constraints, patch), now)


def _new_version(session: Session, artifacts: ArtifactStore, baseline: Baseline, constraints: dict[str, Any],
                 now: datetime) -> Baseline:
    """Store `constraints` as the next version, unless another edit took that version first.

    The version moves by compare-and-set (`UPDATE ... WHERE version = :seen`) before any file is
    written: of two concurrent edits of version n, one gets n+1 and the other a 409 (on PostgreSQL
    its UPDATE waits for the first to commit, on SQLite for the write lock, then matches no row).
    """
    seen = baseline.version
    claimed = affected(session.execute(
        update(Baseline).where(Baseline.id == baseline.id, Baseline.version == seen).values(version=seen + 1)
        .execution_options(synchronize_session=False)))
    if claimed != 1:
        raise ConflictError(f"baseline {baseline.id} was edited by another request meanwhile (version {seen} is "
                            "no longer the latest)", hint="read the baseline again and repeat the edit")
    baseline.constraints, baseline.version, baseline.updated_at = constraints, seen + 1, now
    _write_version(artifacts, baseline)
    return baseline


def delete_baseline(session: Session, baseline_id: str) -> None:
    baseline = get_baseline(session, baseline_id)
    used = session.scalars(select(Schedule.name).where(Schedule.baseline_id == baseline_id)).all()
    if used:
        raise ConflictError(f"baseline {baseline_id} is used by schedules {sorted(used)}",
                            hint="delete those schedules or point them at another baseline first")
    session.delete(baseline)


def start_baseline_job(session: Session, artifacts: ArtifactStore, monitors: Registry[Monitor], *, name: str,
                       input_spec: InputSpec, monitor_type: str, settings: dict[str, dict[str, Any]],
                       now: datetime) -> tuple[Baseline, Execution]:
    """Create a Pending baseline and the execution that will profile `input_spec` into it.

    `settings` holds the request's monitor-settings objects by body field (see `monitor_settings`).
    """
    monitor_type, monitor = resolve_monitor(monitors, monitor_type)
    own_settings = monitor_settings(monitor, monitor_type, settings)
    if monitor.baseline is None:
        raise InvalidField("monitor_type", f"{monitor_type} monitors have no baseline job",
                           hint="upload the baseline files with POST /api/v1/baselines")
    _check_name_free(session, name)
    baseline = Baseline(id=new_id(), name=name, status="Pending", monitor_type=monitor_type, version=0,
                        source="job", job_input=input_spec.model_dump(mode="json"), created_at=now, updated_at=now)
    output_dir = artifacts.path("baselines", baseline.id, "job")
    request = monitor.kind.baseline_request(BaselineJob(input=input_spec, output_dir=output_dir,
                                                        settings=own_settings))
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


def finish_baseline_job(session: Session, artifacts: ArtifactStore, monitors: Registry[Monitor], *,
                        execution: Execution, summary: RunSummary, now: datetime) -> None:
    """Turn a finished baseline job into version 1 of its baseline (or mark it Failed)."""
    baseline = session.get(Baseline, execution.baseline_id)
    if baseline is None:  # deleted while the job ran
        return
    baseline.updated_at = now
    if summary.status == "Failed":
        baseline.status, baseline.failure_reason = "Failed", summary.failure_reason
        return
    folder = execution.artifact_dir
    try:
        statistics = artifacts.read_json(f"{folder}/statistics.json", "statistics file")
        constraints = artifacts.read_json(f"{folder}/constraints.json", "constraints file")
        calibration_path = f"{folder}/calibration.json"
        calibration = artifacts.read_json(calibration_path, "calibration file") \
            if artifacts.exists(calibration_path) else None
        _kind(monitors, baseline).check_files(statistics=statistics, constraints=constraints, calibration=calibration)
    except (FormatError, InputError, NotFoundError, ConfigError) as exc:
        baseline.status = "Failed"
        baseline.failure_reason = f"the baseline job wrote unusable files: {exc}"
        return
    baseline.statistics, baseline.constraints, baseline.calibration = statistics, constraints, calibration
    baseline.feature_count = feature_count(statistics)
    baseline.status, baseline.version = "Ready", 1
    _write_version(artifacts, baseline)


def fail_baseline_job(session: Session, *, execution: Execution, reason: str, now: datetime) -> None:
    baseline = session.get(Baseline, execution.baseline_id)
    if baseline is not None:
        baseline.status, baseline.failure_reason, baseline.updated_at = "Failed", reason, now


def feature_count(statistics: dict[str, Any] | None) -> int:
    """The features a statistics document describes (stored with the baseline for its list)."""
    features = (statistics or {}).get("features")
    return len(features) if isinstance(features, list) else 0

