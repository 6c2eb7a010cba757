"""Baselines: uploaded documents or the output of a baseline job, versioned on every edit.

A baseline has a monitor type, whose plugin says which documents it keeps (DataQuality:
statistics and constraints; ModelQuality: constraints, optional statistics and calibration; ...)
and checks them. The database rows are the source of truth; each version's documents are also
written to the artifact store (`{root}/baselines/{id}/v{n}/{name}.json`) because the jobs read
files, and an execution records the version it used, so old reports stay explainable after an edit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session, defer, selectinload

from monitor_service.core.registry import Registry
from monitor_service.errors import ConfigError, ConflictError, FormatError, InputError, InvalidField, NotFoundError
from monitor_service.monitors.base import BaselineJob, MonitorPlugin
from monitor_service.runner.summary import RunSummary
from monitor_service.service.common import new_id
from monitor_service.service.monitor_settings import monitor_settings, resolve_monitor
from monitor_service.specs import InputSpec
from monitor_service.store.artifacts import ArtifactStore
from monitor_service.store.db import affected
from monitor_service.store.models import Baseline, BaselineDocument, Execution, Schedule


def get_baseline(session: Session, baseline_id: str) -> Baseline:
    baseline = session.get(Baseline, baseline_id)
    if baseline is None:
        raise NotFoundError(f"baseline {baseline_id} does not exist")
    return baseline


def list_baselines(session: Session) -> list[Baseline]:
    """Every baseline with its documents' names and paths but not their contents (reading one raises)."""
    documents = selectinload(Baseline.documents).options(defer(BaselineDocument.document, raiseload=True))
    return list(session.scalars(select(Baseline).options(documents)
                                .order_by(Baseline.created_at.desc(), Baseline.id)))


def _check_name_free(session: Session, name: str) -> None:
    if session.scalar(select(Baseline.id).where(Baseline.name == name)) is not None:
        raise ConflictError(f"a baseline named {name!r} already exists", hint="pick another name")


def _store_version(artifacts: ArtifactStore, baseline: Baseline, documents: Mapping[str, dict[str, Any]]) -> None:
    """Make `documents` the baseline's current version: rows and `{root}/baselines/{id}/v{n}/` files."""
    folder = ("baselines", baseline.id, f"v{baseline.version}")
    for name in list(baseline.documents):
        if name not in documents:
            del baseline.documents[name]
    for name, document in documents.items():
        path = artifacts.path(*folder, f"{name}.json")
        artifacts.write_json(path, document)
        row = baseline.documents.get(name)
        if row is None:
            baseline.documents[name] = BaselineDocument(name=name, document=document, path=path)
        else:
            row.document, row.path = document, path


def _plugin(monitors: Registry[MonitorPlugin], baseline: Baseline) -> MonitorPlugin:
    return monitors.get(baseline.monitor_type)


def _known_documents(plugin: MonitorPlugin, documents: Mapping[str, dict[str, Any] | None]) -> dict[str, Any]:
    """The given documents that are not None, after checking each name is one of the type's documents."""
    given = {name: doc for name, doc in documents.items() if doc is not None}
    for name in given:
        if plugin.document(name) is None:
            raise InvalidField(name, f"{plugin.monitor_type} baselines have no {name} document",
                               hint=f"use {[d.name for d in plugin.documents]}")
    for document in plugin.documents:
        if document.required and document.name not in given:
            raise InvalidField(document.name, f"a {plugin.monitor_type} baseline needs {document.name}")
    return given


def create_baseline(session: Session, artifacts: ArtifactStore, monitors: Registry[MonitorPlugin], *, name: str,
                    monitor_type: str, documents: Mapping[str, dict[str, Any] | None], now: datetime) -> Baseline:
    """Check uploaded documents against the monitor type and register them as version 1."""
    monitor_type, plugin = resolve_monitor(monitors, monitor_type)
    given = _known_documents(plugin, documents)
    plugin.check_documents(given)
    _check_name_free(session, name)
    baseline = Baseline(id=new_id(), name=name, status="Ready", monitor_type=monitor_type, version=1,
                        source="upload", feature_count=plugin.feature_count(given), created_at=now, updated_at=now)
    session.add(baseline)
    _store_version(artifacts, baseline, given)
    session.flush()
    return baseline


def _editable(session: Session, baseline_id: str) -> Baseline:
    baseline = get_baseline(session, baseline_id)
    if baseline.status != "Ready" or not baseline.documents:
        raise ConflictError(f"baseline {baseline_id} is {baseline.status}; only Ready baselines can be edited")
    return baseline


def replace_document(session: Session, artifacts: ArtifactStore, monitors: Registry[MonitorPlugin], *,
                     baseline_id: str, name: str, document: dict[str, Any], now: datetime) -> Baseline:
    """Store a new version in which the document `name` (one its type lets users replace) is `document`."""
    baseline = _editable(session, baseline_id)
    plugin = _plugin(monitors, baseline)
    spec = plugin.document(name)
    if spec is None or not spec.replaceable:
        replaceable = [d.name for d in plugin.documents if d.replaceable]
        raise InvalidField("name", f"{baseline.monitor_type} baselines cannot replace a {name} document",
                           hint=f"replaceable documents: {replaceable}", location="path")
    documents = {**baseline.contents(), name: document}
    plugin.check_documents(documents)
    return _new_version(session, artifacts, baseline, documents, now)


def patch_constraints(session: Session, artifacts: ArtifactStore, monitors: Registry[MonitorPlugin], *,
                      baseline_id: str, patch: BaseModel, now: datetime) -> Baseline:
    """Apply the type's partial constraint edit (its `constraints_patch_model`) as a new version."""
    baseline = _editable(session, baseline_id)
    plugin = _plugin(monitors, baseline)
    if plugin.constraints_patch_model is None:
        raise ConflictError(f"{baseline.monitor_type} baselines have no partial constraint edits",
                            hint="replace its constraints.json with PUT")
    if not isinstance(patch, plugin.constraints_patch_model):
        try:
            patch = plugin.constraints_patch_model.model_validate(patch.model_dump(exclude_unset=True))
        except ValidationError as exc:
            error = exc.errors()[0]
            raise InvalidField(".".join(str(p) for p in error["loc"]) or "body",
                               f"not an edit of {baseline.monitor_type} constraints: {error['msg']}") from None
    documents = baseline.contents()
    documents["constraints"] = plugin.patch_constraints(documents, patch)
    return _new_version(session, artifacts, baseline, documents, now)


def _new_version(session: Session, artifacts: ArtifactStore, baseline: Baseline,
                 documents: Mapping[str, dict[str, Any]], now: datetime) -> Baseline:
    """Store `documents` as the next version, unless another edit took that version first.

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
    baseline.version, baseline.updated_at = seen + 1, now
    _store_version(artifacts, baseline, documents)
    return baseline


def delete_baseline(session: Session, baseline_id: str) -> None:
    baseline = get_baseline(session, baseline_id)
    used = session.scalars(select(Schedule.name).where(Schedule.baseline_id == baseline_id)).all()
    if used:
        raise ConflictError(f"baseline {baseline_id} is used by schedules {sorted(used)}",
                            hint="delete those schedules or point them at another baseline first")
    session.delete(baseline)


def start_baseline_job(session: Session, artifacts: ArtifactStore, monitors: Registry[MonitorPlugin], *, name: str,
                       input_spec: InputSpec, monitor_type: str, settings: dict[str, dict[str, Any]],
                       now: datetime) -> tuple[Baseline, Execution]:
    """Create a Pending baseline and the execution that will profile `input_spec` into it.

    `settings` holds the request's monitor-settings objects by body field (see `monitor_settings`).
    """
    monitor_type, plugin = resolve_monitor(monitors, monitor_type)
    own_settings = monitor_settings(plugin, monitor_type, settings)
    if not plugin.has_baseline_job:
        raise InvalidField("monitor_type", f"{monitor_type} monitors have no baseline job",
                           hint="upload the baseline files with POST /api/v1/baselines")
    _check_name_free(session, name)
    baseline = Baseline(id=new_id(), name=name, status="Pending", monitor_type=monitor_type, version=0,
                        source="job", job_input=input_spec.model_dump(mode="json"), created_at=now, updated_at=now)
    output_dir = artifacts.path("baselines", baseline.id, "job")
    request = plugin.baseline_request(BaselineJob(input=input_spec, output_dir=output_dir, settings=own_settings))
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


def finish_baseline_job(session: Session, artifacts: ArtifactStore, monitors: Registry[MonitorPlugin], *,
                        execution: Execution, summary: RunSummary, now: datetime) -> None:
    """Turn a finished baseline job into version 1 of its baseline (or mark it Failed)."""
    baseline = session.get(Baseline, execution.baseline_id)
    if baseline is None:  # deleted while the job ran
        return
    baseline.updated_at = now
    if summary.status == "Failed":
        baseline.status, baseline.failure_reason = "Failed", summary.failure_reason
        return
    plugin = _plugin(monitors, baseline)
    folder = execution.artifact_dir
    documents: dict[str, dict[str, Any]] = {}
    try:
        for spec in plugin.documents:
            path = f"{folder}/{spec.file_name}"
            if spec.required or artifacts.exists(path):
                documents[spec.name] = artifacts.read_json(path, f"{spec.name} file")
        plugin.check_documents(documents)
    except (FormatError, InputError, NotFoundError, ConfigError) as exc:
        baseline.status = "Failed"
        baseline.failure_reason = f"the baseline job wrote unusable files: {exc}"
        return
    baseline.feature_count = plugin.feature_count(documents)
    baseline.status, baseline.version = "Ready", 1
    _store_version(artifacts, baseline, documents)


def fail_baseline_job(session: Session, *, execution: Execution, reason: str, now: datetime) -> None:
    baseline = session.get(Baseline, execution.baseline_id)
    if baseline is not None:
        baseline.status, baseline.failure_reason, baseline.updated_at = "Failed", reason, now
