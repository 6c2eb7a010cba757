"""What a monitor type shows on the dashboard, and which of its constraints a person may edit there.

The dashboard (`monitor_service/dashboard/`) never branches on a monitor type. It asks the
schedule's plugin for its panels (`MonitorPlugin.dashboard_panels`) and draws them:

- `HistoryPanel`: lines over the schedule's windows, each line one stored metric of one metric
  group (`RunSummary.feature_metrics[group][metric]`, kept per window by the service), with an
  optional `Limit` (the constraint, drawn as a horizontal line). The dashboard reads the history
  itself with bounded, indexed queries (the newest N windows), so a plugin only names what to draw;
  an estimate (e.g. model quality's CBPE) is a line with `dashed=True`.
- `FigurePanel`: a ready plotly figure (JSON: `{"data": [...], "layout": {...}}`) that the plugin
  builds from the baseline documents and the newest run's files (e.g. the latest window's
  distribution against the baseline, or baseline against latest attributions).

`DashboardContext` is everything a plugin gets: the baseline's documents, the schedule's
settings, the stored metrics of the newest analysed window, a reader for the newest finished run's
JSON files, and the subject the user picked (`focus`: a feature, a metric, a facet, ...). Plugins
list the subjects a page can focus on with `dashboard_subjects`, worst first.

Constraint editing: `constraints_form` lists `FormField`s built from the documents and
`constraints_patch_from_form` turns the submitted form back into the type's
`constraints_patch_model` (a form posts each field under its `name`; a checkboxes field posts
its ticked options and `name + PRESENT`), which the service applies exactly as `PATCH
/api/v1/baselines/{id}/constraints` does (same validation, a new baseline version).

Nothing here imports the web framework, the store or plotly, so plugins stay independent of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

# How many panels of one kind a page draws at most when nothing is focused (pages stay light).
MAX_PANELS = 12


@dataclass(frozen=True)
class Line:
    """One series of a history chart: `metric` of the stored metric group `group`."""

    group: str
    metric: str
    name: str
    dashed: bool = False  # estimates and other not-measured series


@dataclass(frozen=True)
class Limit:
    """A constraint drawn across a history chart; `violated_when` says which side breaks it."""

    value: float
    label: str
    violated_when: Literal["above", "below"] = "above"


@dataclass(frozen=True)
class HistoryPanel:
    title: str
    lines: tuple[Line, ...]
    limit: Limit | None = None
    y_title: str = ""
    subject: str | None = None  # the feature / metric / facet the panel is about (links focus on it)


@dataclass(frozen=True)
class FigurePanel:
    title: str
    figure: Mapping[str, Any]  # plotly JSON: {"data": [...], "layout": {...}}
    note: str = ""
    subject: str | None = None


Panel = HistoryPanel | FigurePanel


@dataclass(frozen=True)
class DashboardContext:
    """What a plugin knows when it describes a schedule's page."""

    schedule_name: str
    documents: Mapping[str, dict[str, Any]]  # the baseline's current documents by name
    settings: Mapping[str, Any] | None  # the schedule's monitor settings
    # Stored metric groups of the newest analysed window: group -> metric -> value.
    latest: Mapping[str, Mapping[str, float | None]]
    # The JSON of a file the newest finished run wrote (e.g. "statistics.json"), None if it has none.
    latest_file: Callable[[str], Any] = field(default=lambda name: None)
    focus: str | None = None


@dataclass(frozen=True)
class FormField:
    """One input of a constraints form; `name` is what the form posts back."""

    name: str
    label: str
    kind: Literal["number", "select", "checkboxes"]
    value: str | tuple[str, ...]  # current value (checkboxes: the checked options)
    options: tuple[str, ...] = ()
    section: str = "All features"
    help: str = ""


FormValues = Mapping[str, Sequence[str]]  # name -> submitted values (checkboxes post several)
# A checkboxes field also posts `name + PRESENT`, so "none ticked" differs from "not on the form".
PRESENT = "!present"
