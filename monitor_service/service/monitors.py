"""Which code runs each monitor type: the one place a new monitor plugs into schedules.

A `Monitor` pairs the runners with a `MonitorKind`: the settings a schedule of that type carries,
the baseline files it accepts, and how the request of an execution is built from a schedule
window or a baseline job. Every schedule, execution, violation, metric and alert feature then
works for it unchanged. The data-quality runners are imported lazily so that the API process
never imports Spark (the model-quality runner module imports Spark only inside its functions).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel

from monitor_service.core.registry import Registry
from monitor_service.errors import InvalidField
from monitor_service.runner.model_quality import (
    ModelQualityAnalyzeRequest,
    ModelQualityBaselineRequest,
    run_model_quality_analysis,
    run_model_quality_baseline,
)
from monitor_service.runner.requests import AnalyzeRequest, BaselineRequest
from monitor_service.runner.summary import RunSummary
from monitor_service.service import model_quality
from monitor_service.service.baseline_files import validate_constraints, validate_statistics
from monitor_service.specs import InputSpec
from monitor_service.store.artifacts import ArtifactStore
from monitor_service.store.models import Baseline

AnalyzeFn = Callable[[Any, Any], RunSummary]
BaselineFn = Callable[[Any, Any], RunSummary]


@dataclass(frozen=True)
class WindowJob:
    """One window to analyse, as the service knows it before any monitor-specific choice."""

    input: InputSpec  # the schedule's input with the window set
    output_dir: str
    baseline: Baseline
    settings: dict[str, Any] | None
    # Labels collected up to this moment count: the scheduled time, or when a manual run was asked for.
    execution_time: datetime
    artifacts: ArtifactStore


@dataclass(frozen=True)
class BaselineJob:
    input: InputSpec
    output_dir: str
    settings: dict[str, Any] | None


class MonitorKind(ABC):
    """What the service must know about a monitor type besides the code that runs it."""

    # The request-body field holding the type's settings (schedules, baseline jobs); None: no settings.
    settings_field: ClassVar[str | None] = None
    analyze_model: ClassVar[type[BaseModel]]
    baseline_model: ClassVar[type[BaseModel]]
    # Whether PATCH /baselines/{id}/constraints (the data-quality edit helpers) applies.
    patchable_constraints: ClassVar[bool] = False

    @abstractmethod
    def check_files(self, *, statistics: dict[str, Any] | None, constraints: dict[str, Any],
                    calibration: dict[str, Any] | None) -> None:
        """Raise InvalidField naming the baseline file the job could not use."""

    def check_pairing(self, settings: dict[str, Any] | None, baseline: Baseline) -> None:  # noqa: B027
        """Raise InvalidField unless a schedule with `settings` can use `baseline` (of the same type)."""

    @abstractmethod
    def analyze_request(self, job: WindowJob) -> BaseModel: ...

    @abstractmethod
    def baseline_request(self, job: BaselineJob) -> BaseModel: ...


class DataQualityKind(MonitorKind):
    analyze_model = AnalyzeRequest
    baseline_model = BaselineRequest
    patchable_constraints = True

    def check_files(self, *, statistics: dict[str, Any] | None, constraints: dict[str, Any],
                    calibration: dict[str, Any] | None) -> None:
        if statistics is None:
            raise InvalidField("statistics", "a DataQuality baseline needs statistics")
        if calibration is not None:
            raise InvalidField("calibration", "only ModelQuality baselines have a calibration")
        for name, check, document in (("statistics", validate_statistics, statistics),
                                      ("constraints", validate_constraints, constraints)):
            try:
                check(document)
            except ValueError as exc:
                raise InvalidField(name, str(exc)) from None

    def analyze_request(self, job: WindowJob) -> AnalyzeRequest:
        assert job.baseline.statistics_path is not None and job.baseline.constraints_path is not None
        return AnalyzeRequest(input=job.input, baseline_statistics=job.baseline.statistics_path,
                              baseline_constraints=job.baseline.constraints_path, output_dir=job.output_dir)

    def baseline_request(self, job: BaselineJob) -> BaselineRequest:
        return BaselineRequest(input=job.input, output_dir=job.output_dir)


class ModelQualityKind(MonitorKind):
    settings_field = "model_quality"
    analyze_model = ModelQualityAnalyzeRequest
    baseline_model = ModelQualityBaselineRequest

    def check_files(self, *, statistics: dict[str, Any] | None, constraints: dict[str, Any],
                    calibration: dict[str, Any] | None) -> None:
        model_quality.check_files(statistics=statistics, constraints=constraints, calibration=calibration)

    def check_pairing(self, settings: dict[str, Any] | None, baseline: Baseline) -> None:
        assert settings is not None
        model_quality.check_pairing(settings, baseline.id, baseline.constraints or {})

    def analyze_request(self, job: WindowJob) -> ModelQualityAnalyzeRequest:
        settings = model_quality.ModelQualitySettings.model_validate(job.settings)
        return ModelQualityAnalyzeRequest(
            input=job.input, attributes=settings.attributes(), output_dir=job.output_dir,
            ground_truth=settings.ground_truth or model_quality.ground_truth_folder(job.artifacts),
            baseline_constraints=job.baseline.constraints_path, calibration=job.baseline.calibration_path,
            execution_time=job.execution_time)

    def baseline_request(self, job: BaselineJob) -> ModelQualityBaselineRequest:
        settings = model_quality.ModelQualitySettings.model_validate(job.settings)
        return ModelQualityBaselineRequest(input=job.input, attributes=settings.attributes(),
                                           output_dir=job.output_dir, ground_truth=settings.ground_truth)


DATA_QUALITY = DataQualityKind()
MODEL_QUALITY = ModelQualityKind()


@dataclass(frozen=True)
class Monitor:
    """How to analyse a window (and optionally baseline a dataset) for one monitor type."""

    analyze: AnalyzeFn
    baseline: BaselineFn | None = None
    kind: MonitorKind = field(default=DATA_QUALITY)


def resolve_monitor(monitors: Registry[Monitor], monitor_type: str) -> tuple[str, Monitor]:
    """The canonical name and the monitor of `monitor_type`; an unknown type is a 422 on `monitor_type`."""
    if monitor_type not in monitors:
        raise InvalidField("monitor_type", f"unknown monitor type {monitor_type!r}",
                           hint=f"use one of {monitors.names()}")
    return monitors.canonical(monitor_type), monitors.get(monitor_type)


def monitor_settings(monitor: Monitor, monitor_type: str, given: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The settings of `monitor_type` among the settings objects of a request (one body field per type)."""
    wanted = monitor.kind.settings_field
    for name in given:
        if name != wanted:
            raise InvalidField(name, f"{monitor_type} monitors take no {name} settings")
    if wanted is None:
        return None
    if wanted not in given:
        raise InvalidField(wanted, f"{monitor_type} monitors need {wanted} settings",
                           hint="see the request schema at /docs")
    return given[wanted]


def _data_quality_analyze(spark: Any, request: AnalyzeRequest) -> RunSummary:
    from monitor_service.runner.analyze import run_analysis

    return run_analysis(spark, request)


def _data_quality_baseline(spark: Any, request: BaselineRequest) -> RunSummary:
    from monitor_service.runner.baseline import run_baseline

    return run_baseline(spark, request)


MONITORS: Registry[Monitor] = Registry("monitor type")
MONITORS.register("DataQuality", Monitor(analyze=_data_quality_analyze, baseline=_data_quality_baseline))
MONITORS.register(model_quality.MONITOR_TYPE, Monitor(
    analyze=run_model_quality_analysis, baseline=run_model_quality_baseline, kind=MODEL_QUALITY))
