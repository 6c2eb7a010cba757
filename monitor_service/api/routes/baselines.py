"""Baselines: upload a monitor type's documents, start a baseline job, read them, edit them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Response, status
from pydantic import BaseModel, ConfigDict, Field, create_model

from monitor_service.api.deps import AdminAccess, ReadAccess, ResourcesDep, SessionDep
from monitor_service.api.monitor_models import document_names, request_union
from monitor_service.api.routes.inputs import InputIn, settings_given
from monitor_service.errors import InvalidField, NotFoundError
from monitor_service.monitors import MONITORS
from monitor_service.security.text import JsonDocument, RequestModel
from monitor_service.service import baselines as service
from monitor_service.store.models import Baseline

router = APIRouter(prefix="/api/v1", tags=["baselines"], dependencies=[ReadAccess])
NAME = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
DOCUMENTS: tuple[str, ...] = tuple(document_names(MONITORS))
# The partial constraint edits of the types that have them (the baseline's own type's model applies).
_PATCHABLE = [p for p in MONITORS if p.constraints_patch_model is not None]
_PATCH_TYPES = [p.monitor_type for p in _PATCHABLE]


class _PatchBase(RequestModel):
    model_config = ConfigDict(extra="forbid")


def _merged_patch_model() -> Any:
    """One body with every type's edit fields (all optional), so errors keep plain `body.<field>` places;
    the route then refuses the fields the baseline's own type does not have."""
    models = [p.constraints_patch_model for p in _PATCHABLE if p.constraints_patch_model is not None]
    if len(models) == 1:
        return models[0]
    fields: dict[str, Any] = {}
    for model in models:
        for name, info in model.model_fields.items():
            if name not in fields:
                fields[name] = (info.annotation | None, Field(default=None, description=info.description))
    return create_model("ConstraintsPatch", __base__=_PatchBase, **fields)


ConstraintsPatch: Any = _merged_patch_model()


class _BaselineCreateBase(RequestModel):
    """The monitor type's documents (SageMaker's / Clarify's files as they are), checked by its readers."""

    model_config = ConfigDict(extra="forbid")

    name: str = NAME


class _BaselineJobCreateBase(RequestModel):
    model_config = ConfigDict(extra="forbid")

    name: str = NAME
    input: InputIn


# One variant per monitor type, keyed by `monitor_type`: its documents, or its settings for a job.
BaselineCreate = request_union(MONITORS, _BaselineCreateBase, "BaselineCreate", documents=True)
BaselineJobCreate = request_union(MONITORS, _BaselineJobCreateBase, "BaselineJobCreate", settings=True,
                                  only=[p.monitor_type for p in MONITORS if p.has_baseline_job])


class _BaselineOutBase(BaseModel):
    id: str
    name: str
    monitor_type: str
    status: str = Field(description="Pending (baseline job running) | Ready | Failed")
    version: int
    source: str
    features: int
    failure_reason: str | None
    documents: dict[str, str] = Field(description="The current version's documents: name -> file")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def fields_of(cls, baseline: Baseline) -> dict[str, Any]:
        paths = baseline.paths()
        return {"id": baseline.id, "name": baseline.name, "monitor_type": baseline.monitor_type,
                "status": baseline.status, "version": baseline.version, "source": baseline.source,
                "features": baseline.feature_count, "failure_reason": baseline.failure_reason, "documents": paths,
                "created_at": baseline.created_at, "updated_at": baseline.updated_at,
                **{f"{name}_path": paths.get(name) for name in DOCUMENTS}}

    @classmethod
    def of(cls, baseline: Baseline) -> BaselineOut:
        return BaselineOut(**cls.fields_of(baseline))


# Plus `{name}_path` for every document name of every monitor type (null where the baseline has none).
BaselineOut = create_model(  # type: ignore[call-overload]
    "BaselineOut", __base__=_BaselineOutBase,
    **{f"{name}_path": (str | None, Field(description=f"The {name}.json of the current version, if any"))
       for name in DOCUMENTS})

# Plus each document's content by name.
BaselineDetail = create_model(  # type: ignore[call-overload]
    "BaselineDetail", __base__=BaselineOut,
    **{name: (dict[str, Any] | None, Field(description=f"{name}.json, if the baseline has one"))
       for name in DOCUMENTS})


class BaselineJobOut(BaseModel):
    id: str = Field(description="The baseline's id")
    execution_id: str
    status: str


def _detail(baseline: Baseline) -> Any:
    contents = baseline.contents()
    return BaselineDetail(**_BaselineOutBase.fields_of(baseline), **{name: contents.get(name) for name in DOCUMENTS})


@router.post("/baselines", status_code=status.HTTP_201_CREATED, dependencies=[AdminAccess])
def create_baseline(body: BaselineCreate, session: SessionDep, resources: ResourcesDep) -> BaselineOut:
    documents = {name: getattr(body, name, None) for name in DOCUMENTS}
    baseline = service.create_baseline(session, resources.artifacts, resources.monitors, name=body.name,
                                       monitor_type=body.monitor_type, documents=documents,
                                       now=resources.clock.now())
    return _BaselineOutBase.of(baseline)


@router.post("/baseline-jobs", status_code=status.HTTP_202_ACCEPTED, dependencies=[AdminAccess],
             summary="Profile a dataset into a new baseline (runs on the scheduler's Spark session)")
def start_baseline_job(body: BaselineJobCreate, session: SessionDep, resources: ResourcesDep) -> BaselineJobOut:
    resources.settings.path_policy().check_model(body)
    baseline, execution = service.start_baseline_job(
        session, resources.artifacts, resources.monitors, name=body.name, input_spec=body.input.spec(),
        monitor_type=body.monitor_type, settings=settings_given(body), now=resources.clock.now())
    return BaselineJobOut(id=baseline.id, execution_id=execution.id, status=baseline.status)


@router.get("/baselines")
def list_baselines(session: SessionDep) -> list[BaselineOut]:
    return [_BaselineOutBase.of(b) for b in service.list_baselines(session)]


@router.get("/baselines/{baseline_id}")
def get_baseline(baseline_id: str, session: SessionDep) -> BaselineDetail:
    return _detail(service.get_baseline(session, baseline_id))


def _document(baseline: Baseline, name: str) -> dict[str, Any]:
    document = baseline.document(name)
    if document is None:
        raise NotFoundError(f"baseline {baseline.id} has no {name} document",
                            hint=f"it has {sorted(baseline.documents)}")
    return document


@router.get("/baselines/{baseline_id}/documents/{name}", summary="One document of the current version")
def get_document(baseline_id: str, name: str, session: SessionDep) -> dict[str, Any]:
    return _document(service.get_baseline(session, baseline_id), name)


@router.put("/baselines/{baseline_id}/documents/{name}", dependencies=[AdminAccess],
            summary="Replace one document (constraints.json, a Clarify analysis.json, ...): a new baseline version")
def replace_document(baseline_id: str, name: str, body: Annotated[JsonDocument, Body()], session: SessionDep,
                     resources: ResourcesDep) -> BaselineOut:
    baseline = service.replace_document(session, resources.artifacts, resources.monitors, baseline_id=baseline_id,
                                        name=name, document=body, now=resources.clock.now())
    return _BaselineOutBase.of(baseline)


@router.get("/baselines/{baseline_id}/constraints", summary="The current constraints.json")
def get_constraints(baseline_id: str, session: SessionDep) -> dict[str, Any]:
    return service.get_baseline(session, baseline_id).document("constraints") or {}


@router.get("/baselines/{baseline_id}/statistics", summary="The baseline statistics.json")
def get_statistics(baseline_id: str, session: SessionDep) -> dict[str, Any]:
    return service.get_baseline(session, baseline_id).document("statistics") or {}


@router.put("/baselines/{baseline_id}/constraints", dependencies=[AdminAccess],
            summary="Replace the whole constraints.json (a new baseline version)")
def replace_constraints(baseline_id: str, body: JsonDocument, session: SessionDep,
                        resources: ResourcesDep) -> BaselineOut:
    baseline = service.replace_document(session, resources.artifacts, resources.monitors, baseline_id=baseline_id,
                                        name="constraints", document=body, now=resources.clock.now())
    return _BaselineOutBase.of(baseline)


@router.patch("/baselines/{baseline_id}/constraints", dependencies=[AdminAccess],
              summary=f"Edit thresholds, methods, per-feature overrides; enable or disable checks ({_PATCH_TYPES})")
def patch_constraints(baseline_id: str, body: ConstraintsPatch, session: SessionDep,
                      resources: ResourcesDep) -> BaselineOut:
    """Each edit creates a new baseline version (executions record the version they used):

    - `datatype_check_threshold`, `domain_content_threshold`: global thresholds (0..1);
    - `drift`: global `method` / `threshold` (numeric) and `categorical_method` / `categorical_threshold`,
      any method of the drift registry (SageMaker's Robust, Simple, LInfinity, ChiSquared or psi, ...);
    - `checks`: `{check name or "all": true|false}` switches checks on or off everywhere;
    - `features.{name}`: `completeness`, `is_non_negative`, `domains` (null removes the constraint),
      `drift_method` / `drift_threshold` (per-feature override), `checks` (for this feature only) and
      `clear_overrides`;
    - `deequ_checks`: the whole block of Deequ checks and anomaly checks (docs/deequ.md; null removes it),
      refused with the entry and the reason when a check is unknown or its arguments are bad.

    ModelQuality baselines take `metrics.{metric}`: `threshold`, `comparison_operator`
    (`LessThanThreshold`, ...) and `enabled: false` to drop the metric's constraint.
    """
    own = resources.monitors.get(service.get_baseline(session, baseline_id).monitor_type).constraints_patch_model
    foreign = sorted(body.model_fields_set - set(own.model_fields)) if own is not None else []
    if foreign:
        raise InvalidField(foreign[0], f"this baseline's constraint edits have no {foreign[0]!r}",
                           hint=f"its edits are {sorted(own.model_fields) if own else []}")
    baseline = service.patch_constraints(session, resources.artifacts, resources.monitors, baseline_id=baseline_id,
                                         patch=body, now=resources.clock.now())
    return _BaselineOutBase.of(baseline)


@router.delete("/baselines/{baseline_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[AdminAccess])
def delete_baseline(baseline_id: str, session: SessionDep) -> Response:
    service.delete_baseline(session, baseline_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
