"""The data of a schedule's page, gathered with bounded queries and drawn from the plugin's panels.

What the page charts per monitor type comes from `MonitorPlugin.dashboard_panels`; this module
only reads what those panels name (the newest N windows of each metric group, one query per
group), the executions timeline (newest N windows), and one page of executions and violations
through the keyset pagers. The number of stored violations never changes what a page reads.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from monitor_service.api.dashboard import charts
from monitor_service.api.dashboard.security import PREFIX
from monitor_service.api.deps import Resources
from monitor_service.errors import MonitorError
from monitor_service.monitors.panels import DashboardContext, FigurePanel, HistoryPanel, Panel
from monitor_service.service.baselines import get_baseline
from monitor_service.service.executions import list_executions
from monitor_service.service.history import group_history, latest_finished, recent_windows, run_metrics
from monitor_service.service.violations import list_violations
from monitor_service.store.models import Baseline, BaselineDocument, Execution, Schedule, Violation

log = logging.getLogger(__name__)
VIOLATIONS_PER_PAGE = 50
EXECUTIONS_PER_PAGE = 25


@dataclass
class Chart:
    id: str
    title: str
    figure: dict[str, Any]
    note: str = ""
    subject: str | None = None


@dataclass
class ScheduleView:
    schedule: Schedule
    baseline: Baseline
    latest: Execution | None
    timeline: dict[str, Any]
    windows: int
    charts: list[Chart]
    subjects: list[str]
    focus: str | None
    executions: list[Execution]
    executions_next: str | None
    violations: list[Violation]
    violations_next: str | None
    feature: str | None
    check: str | None
    check_types: list[str]
    problems: list[str] = field(default_factory=list)


class _Recent:
    """A small thread-safe LRU of decoded JSON documents that never change under their key: a
    baseline version's documents, a finished run's files. Pages then skip re-reading large
    statistics files on every view. Callers must not modify what they get."""

    def __init__(self, size: int) -> None:
        self.size, self._items, self._lock = size, OrderedDict[Hashable, Any](), threading.Lock()

    def get(self, key: Hashable, load: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = load()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


_DOCUMENTS, _FILES = _Recent(16), _Recent(16)


class _Documents(Mapping[str, dict[str, Any]]):
    """The baseline's documents, each read from the database only when a panel asks for it."""

    def __init__(self, session: Session, baseline: Baseline) -> None:
        rows = session.scalars(select(BaselineDocument).where(BaselineDocument.baseline_id == baseline.id)
                               .options(defer(BaselineDocument.document)))
        self._rows = {row.name: row for row in rows}
        self._version = (baseline.id, baseline.version)

    def __getitem__(self, name: str) -> dict[str, Any]:
        row = self._rows[name]
        document: dict[str, Any] = _DOCUMENTS.get((*self._version, name), lambda: row.document)
        return document

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


def _latest_file(resources: Resources, latest: Execution | None) -> Any:
    def read(name: str) -> Any:
        path = (latest.artifacts or {}).get(name) if latest is not None else None
        if latest is None or path is None:
            return None
        try:
            return _FILES.get((latest.id, path), lambda: resources.artifacts.read_json(path, name))
        except MonitorError:
            return None

    return read


def draw(session: Session, schedule_id: str, panels: list[Panel], windows: int) -> list[Chart]:
    """Each panel as a chart; history panels read the newest `windows` rows of each group they name once."""
    groups = {line.group for p in panels if isinstance(p, HistoryPanel) for line in p.lines}
    rows = {group: group_history(session, schedule_id=schedule_id, group=group, limit=windows)
            for group in sorted(groups)}
    out = []
    for index, panel in enumerate(panels):
        if isinstance(panel, HistoryPanel):
            figure = charts.history(panel, rows)
            if not figure["data"]:
                continue
            out.append(Chart(f"panel-{index}", panel.title, figure, subject=panel.subject))
        elif isinstance(panel, FigurePanel):
            out.append(Chart(f"panel-{index}", panel.title, dict(panel.figure), panel.note, panel.subject))
    return out


def schedule_view(session: Session, resources: Resources, schedule: Schedule, *, focus: str | None,
                  feature: str | None, check: str | None, violations_cursor: str | None,
                  executions_cursor: str | None, windows: int) -> ScheduleView:
    plugin = resources.monitors.get(schedule.monitor_type)
    baseline = get_baseline(session, schedule.baseline_id)
    latest = latest_finished(session, schedule_id=schedule.id)
    context = DashboardContext(schedule_name=schedule.name, documents=_Documents(session, baseline),
                               settings=schedule.monitor_settings,
                               latest=run_metrics(session, execution_id=latest.id) if latest else {},
                               latest_file=_latest_file(resources, latest), focus=focus)
    problems: list[str] = []
    try:
        subjects = plugin.dashboard_subjects(context)
        panels = plugin.dashboard_panels(context)
    except MonitorError as exc:  # e.g. baseline documents the type cannot read: say so, show the rest
        log.warning("dashboard panels of schedule %s: %s", schedule.name, exc)
        subjects, panels = [], []
        problems.append(f"The {plugin.title} panels could not be drawn: {exc}")
    recent = recent_windows(session, schedule_id=schedule.id, limit=windows)
    executions, executions_next = list_executions(session, schedule_id=schedule.id, status=None, since=None,
                                                  until=None, cursor=executions_cursor, limit=EXECUTIONS_PER_PAGE)
    violations, violations_next = list_violations(session, schedule_id=schedule.id, feature=feature or None,
                                                  check_type=check or None, cursor=violations_cursor,
                                                  limit=VIOLATIONS_PER_PAGE)
    seen_checks = {name for e in recent for name in (e.violations_by_check or {})}
    check_types = sorted(seen_checks | ({check} if check else set()))
    return ScheduleView(
        schedule=schedule, baseline=baseline, latest=latest,
        timeline=charts.timeline(recent, PREFIX + "/runs/{id}"), windows=len(recent),
        charts=draw(session, schedule.id, panels, windows), subjects=subjects, focus=focus,
        executions=executions, executions_next=executions_next, violations=violations,
        violations_next=violations_next, feature=feature, check=check, check_types=check_types, problems=problems)
