"""The plugin contract of a monitor type: everything the rest of the system needs to know about it.

A monitor type (DataQuality, ModelQuality, ...) is one package under `monitor_service/monitors/`
that registers one `MonitorPlugin`. The CLI, the REST API, the store, the scheduler, the artifact
links and the Prometheus metrics only ever iterate the registry and call these hooks, so adding a
monitor type means adding a package, never editing the service:

- requests: `analyze_model` / `baseline_model` are the job requests (pydantic, stored as the
  execution's request and validated again by the worker); `settings_model` is what a schedule or
  baseline job of the type carries in the request body field `settings_field`;
- baseline `documents`: the JSON files a baseline keeps, by name (statistics, constraints, ...),
  checked by `check_documents` before they are stored;
- `artifacts`: the file names a run may write into its folder (linked and downloadable);
- jobs: `run_analysis` / `run_baseline` (Spark is imported inside them, never by the API); by
  default they call `run_analysis` / `run_baseline` of the module named by `jobs_module` (and
  `baseline_jobs_module`, where the baseline job lives apart), imported on the first run;
  `engines` / `job_engine` say whether a job needs a SparkSession at all (a DuckDB job gets None);
- CLI: `cli_arguments` (argparse flags; a flag several monitors share is declared alike by each)
  and `cli_request`, which turns parsed arguments into the job request; by default they are
  `ARGUMENTS` and `request_from_args` of the module named by `cli_args_module`;
- results: `violation_rows` maps the job's own violations file onto store rows, `metric_families`
  turns the newest stored metrics into Prometheus families, `metric_series` names the metric groups
  that the model-metric history combines;
- dashboard: `dashboard_panels` says what a schedule's page draws (history lines with their
  constraint, estimates dashed, ready figures from the baseline and the newest run's files) and
  `dashboard_subjects` what it can focus on; `constraints_form` / `constraints_patch_from_form`
  let admins edit constraints in the browser (`monitor_service/monitors/panels.py` has the
  vocabulary and the contract; the defaults draw every stored metric and offer no form).

Nothing here imports the API, the service layer or Spark, so every layer above can import it. Every
hook may be overridden; a plugin that overrides `run_analysis` and `cli_request` needs no modules.
"""

from __future__ import annotations

import argparse
import copy
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import import_module
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel

from monitor_service.errors import ConflictError, InvalidField
from monitor_service.monitors.panels import (
    MAX_PANELS,
    DashboardContext,
    FormField,
    FormValues,
    HistoryPanel,
    Line,
    Panel,
)
from monitor_service.runner.common import Progress, no_progress
from monitor_service.runner.summary import RunSummary
from monitor_service.specs import InputSpec

if TYPE_CHECKING:
    from prometheus_client.core import Metric

    from monitor_service.store.artifacts import ArtifactStore

Command = Literal["baseline", "analyze"]
# Files every run writes, whatever its monitor type.
COMMON_ARTIFACTS: tuple[str, ...] = ("summary.json",)
JobFn = Callable[[Any, Any], RunSummary]


@dataclass(frozen=True)
class Document:
    """A JSON document a baseline of this type keeps, stored by name and written as `{name}.json`."""

    name: str
    description: str
    required: bool = True
    # PUT /baselines/{id}/documents/{name} may replace it (a new baseline version).
    replaceable: bool = False

    @property
    def file_name(self) -> str:
        return f"{self.name}.json"


@dataclass(frozen=True)
class CliArgument:
    """One argparse argument: `parser.add_argument(*flags, **options)`."""

    flags: tuple[str, ...]
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def dest(self) -> str:
        explicit = self.options.get("dest")
        return str(explicit) if explicit else self.flags[0].lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class WindowJob:
    """One window to analyse, as the service knows it before any monitor-specific choice."""

    input: InputSpec  # the schedule's input with the window set
    output_dir: str
    documents: Mapping[str, str]  # baseline document name -> path of the version this run uses
    settings: dict[str, Any] | None
    # Labels collected up to this moment count: the scheduled time, or when a manual run was asked for.
    execution_time: datetime
    artifacts: ArtifactStore
    # The stored per-window metrics of earlier windows of the schedule (window end before this
    # window's end), newest HISTORY_WINDOWS, per feature name asked for: (window_end, metrics) oldest
    # first. None outside the service (e.g. tests building a WindowJob by hand).
    metric_history: Callable[[Sequence[str]], Mapping[str, list[tuple[datetime, Mapping[str, float | None]]]]] | None \
        = None


@dataclass(frozen=True)
class BaselineJob:
    input: InputSpec
    output_dir: str
    settings: dict[str, Any] | None


@dataclass(frozen=True)
class ViolationRow:
    """A violation as the store keeps it; `feature_name` is what it is about (a feature, a metric, a facet)."""

    feature_name: str
    check_type: str
    description: str
    metric_name: str | None = None
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class LatestMetrics:
    """One metric group (a feature, a facet value, ...) of a schedule's newest analysed window."""

    schedule: str
    group: str
    metrics: Mapping[str, float | None]


def uses_spark(engine: str) -> bool:
    """Whether a job on `engine` is given a SparkSession: spark, and deequ (our Spark reads the
    records Deequ profiles and checks); duckdb runs without a JVM."""
    return engine != "duckdb"


class MonitorPlugin(ABC):
    """What one monitor type declares; see the module docstring for who uses each part."""

    monitor_type: ClassVar[str]
    title: ClassVar[str]  # plain words, e.g. "data quality"
    settings_field: ClassVar[str | None] = None
    settings_model: ClassVar[type[BaseModel] | None] = None
    # A request may leave the settings out when every field of `settings_model` has a default.
    settings_required: ClassVar[bool] = True
    # The engines this type's jobs run on, the default first: "spark" and "deequ" are given a
    # SparkSession (`uses_spark`), "duckdb" runs in-process without one (no JVM is started for it).
    engines: ClassVar[tuple[str, ...]] = ("spark",)
    analyze_model: ClassVar[type[BaseModel]]
    baseline_model: ClassVar[type[BaseModel] | None] = None
    documents: ClassVar[tuple[Document, ...]]
    artifacts: ClassVar[tuple[str, ...]]
    # The one-line summary of a run names how many features it profiled.
    counts_features: ClassVar[bool] = False
    # The edit model of PATCH /baselines/{id}/constraints, if the type supports partial edits.
    constraints_patch_model: ClassVar[type[BaseModel] | None] = None
    # Model-metric history: series name -> the stored metric group it reads (e.g. value -> model_quality).
    metric_series: ClassVar[Mapping[str, str]] = {}
    # Dotted module names behind the default job and CLI hooks, imported only when a hook is called
    # (importing the registry stays cheap and Spark-free). `jobs_module` has `run_analysis(spark,
    # request, progress)` and, with a `baseline_model`, `run_baseline(...)` (or it is in
    # `baseline_jobs_module`); `cli_args_module` has `ARGUMENTS` (CliArgument sequence) and
    # `request_from_args(command, args, spec)`.
    jobs_module: ClassVar[str | None] = None
    baseline_jobs_module: ClassVar[str | None] = None
    cli_args_module: ClassVar[str | None] = None

    # --- baseline documents -------------------------------------------------------------------------
    @abstractmethod
    def check_documents(self, documents: Mapping[str, dict[str, Any]]) -> None:
        """Raise InvalidField naming the document (by name) a job of this type could not use."""

    def feature_count(self, documents: Mapping[str, dict[str, Any]]) -> int:
        """How many features the baseline describes (shown in baseline lists without loading documents)."""
        return 0

    def patch_constraints(self, documents: Mapping[str, dict[str, Any]], patch: BaseModel) -> dict[str, Any]:
        """The edited constraints document for PATCH /baselines/{id}/constraints."""
        raise ConflictError(f"{self.monitor_type} baselines have no partial constraint edits",
                            hint="replace the document with PUT /api/v1/baselines/{id}/documents/{name}")

    def document(self, name: str) -> Document | None:
        return next((d for d in self.documents if d.name == name), None)

    # --- schedules and baseline jobs ----------------------------------------------------------------
    def check_pairing(self, settings: dict[str, Any] | None, documents: Mapping[str, dict[str, Any]],
                      baseline_id: str) -> None:
        """Raise InvalidField unless a schedule with `settings` can use this baseline (of the same type)."""
        return None

    def input_files(self, request: BaseModel) -> list[tuple[str, str]]:
        """(field, path) of files a job of this request reads beyond its `InputPath` fields (those
        are found by type): the worker checks both against the input roots before it runs."""
        return []

    @abstractmethod
    def analyze_request(self, job: WindowJob) -> BaseModel:
        """The request of one scheduled or manual window."""

    def baseline_request(self, job: BaselineJob) -> BaseModel:
        raise InvalidField("monitor_type", f"{self.monitor_type} monitors have no baseline job",
                           hint="upload the baseline files with POST /api/v1/baselines")

    @property
    def has_baseline_job(self) -> bool:
        return self.baseline_model is not None

    # --- jobs ---------------------------------------------------------------------------------------
    def run_analysis(self, spark: Any, request: Any, progress: Progress = no_progress) -> RunSummary:
        """Analyse one window (the request is `analyze_model`): `jobs_module`'s `run_analysis`."""
        if self.jobs_module is None:
            raise NotImplementedError(f"{type(self).__name__} names no jobs_module and does not override run_analysis")
        summary: RunSummary = import_module(self.jobs_module).run_analysis(spark, request, progress)
        return summary

    def run_baseline(self, spark: Any, request: Any, progress: Progress = no_progress) -> RunSummary:
        """Profile a baseline (the request is `baseline_model`): `run_baseline` of `baseline_jobs_module`,
        else of `jobs_module`."""
        module = self.baseline_jobs_module or self.jobs_module
        if self.baseline_model is None or module is None:
            raise InvalidField("monitor_type", f"{self.monitor_type} monitors have no baseline job")
        summary: RunSummary = import_module(module).run_baseline(spark, request, progress)
        return summary

    def job_engine(self, request: BaseModel, default: str) -> str:
        """The engine a job of `request` runs on: the request's `engine` if it names one, else
        `default` (the service's MONITOR_ENGINE), and the type's first engine if it has not that one."""
        chosen = getattr(request, "engine", None) or default
        return chosen if chosen in self.engines else self.engines[0]

    def with_jobs(self, *, analyze: JobFn | None = None, baseline: JobFn | None = None) -> MonitorPlugin:
        """A copy whose jobs are the given functions (tests and demos run the service without Spark)."""
        clone = copy.copy(self)
        if analyze is not None:
            clone.run_analysis = lambda spark, request, progress=no_progress: analyze(spark, request)  # type: ignore[method-assign]
        if baseline is not None:
            clone.run_baseline = lambda spark, request, progress=no_progress: baseline(spark, request)  # type: ignore[method-assign]
        return clone

    # --- command line -------------------------------------------------------------------------------
    def cli_arguments(self) -> Sequence[CliArgument]:
        """This type's own flags: `cli_args_module`'s `ARGUMENTS`, none without one."""
        if self.cli_args_module is None:
            return ()
        arguments: Sequence[CliArgument] = import_module(self.cli_args_module).ARGUMENTS
        return arguments

    def cli_request(self, command: Command, args: argparse.Namespace, spec: InputSpec) -> BaseModel:
        """The job request from parsed arguments (raise ConfigError naming the flag on bad ones):
        `cli_args_module`'s `request_from_args`."""
        if self.cli_args_module is None:
            raise NotImplementedError(f"{type(self).__name__} names no cli_args_module and does not override "
                                      "cli_request")
        request: BaseModel = import_module(self.cli_args_module).request_from_args(command, args, spec)
        return request

    # --- results ------------------------------------------------------------------------------------
    def violation_rows(self, entries: Sequence[Mapping[str, Any]]) -> list[ViolationRow]:
        """Store rows of the job's violations file (SageMaker's data-quality shape by default)."""
        return [ViolationRow(feature_name=str(e.get("feature_name", "")),
                             check_type=str(e.get("constraint_check_type", "")),
                             description=str(e.get("description", ""))) for e in entries]

    def metric_families(self, latest: Sequence[LatestMetrics]) -> list[Metric]:
        """Prometheus families from the newest window's stored metrics of each schedule of this type."""
        return []

    # --- dashboard ----------------------------------------------------------------------------------
    def dashboard_subjects(self, context: DashboardContext) -> list[str]:
        """What a schedule's page can focus on (features, metrics, facets), worst first; by default the
        metric groups of the newest window."""
        return sorted(context.latest)

    def dashboard_panels(self, context: DashboardContext) -> list[Panel]:
        """The charts of a schedule's page (see `monitors/panels.py`). The default draws every metric of
        the focused group, or of the first groups, over time; monitor types override it to add their
        constraints and figures."""
        groups = [context.focus] if context.focus in context.latest else self.dashboard_subjects(context)
        return [HistoryPanel(title=str(group), subject=str(group),
                             lines=tuple(Line(str(group), metric, metric) for metric in context.latest[str(group)]))
                for group in groups[:MAX_PANELS] if group in context.latest]

    def constraints_form(self, documents: Mapping[str, dict[str, Any]]) -> list[FormField]:
        """The constraint inputs an admin may edit in the dashboard; none by default."""
        return []

    def constraints_patch_from_form(self, documents: Mapping[str, dict[str, Any]], form: FormValues) -> BaseModel:
        """The `constraints_patch_model` edit a submitted `constraints_form` asks for (only what changed);
        raise InvalidField naming the form field for a bad value."""
        raise ConflictError(f"{self.monitor_type} constraints cannot be edited in the dashboard",
                            hint="replace the document with PUT /api/v1/baselines/{id}/documents/{name}")
