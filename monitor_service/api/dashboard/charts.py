"""Chart data for the dashboard: plotly JSON the page draws with the served plotly.js, and sparklines.

Nothing is drawn on the server: a page carries each figure as JSON and `static/dashboard.js`
hands it to `Plotly.newPlot`, so the chart library is the installed plotly package's own bundle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from monitor_service.monitors.panels import HistoryPanel
from monitor_service.service.history import MetricPoint, WindowRun

STATUS_COLORS = {"Completed": "#2f9e44", "CompletedWithViolations": "#e8590c", "Failed": "#c92a2a",
                 "Stopped": "#868e96", "Pending": "#74c0fc", "InProgress": "#1c7ed6"}
LINE_COLORS = ("#102a43", "#d9480f", "#2f9e44", "#7048e8", "#c2255c", "#1098ad")
LIMIT_COLOR = "#c92a2a"


def _when(value: datetime | None) -> str | None:
    """UTC as plotly parses dates (it reads no zone offsets)."""
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def timeline(executions: Sequence[WindowRun], run_url: str) -> dict[str, Any]:
    """One marker per window (x: window end, y: violations), coloured by status; a click opens the run.

    `run_url` has `{id}` where the execution id goes."""
    traces = []
    for status, color in STATUS_COLORS.items():
        chosen = [e for e in executions if e.status == status]
        if not chosen:
            continue
        traces.append({"type": "scatter", "mode": "markers", "name": status,
                       "x": [_when(e.window_end) for e in chosen], "y": [e.violation_count or 0 for e in chosen],
                       "customdata": [run_url.format(id=e.id) for e in chosen],
                       "marker": {"color": color, "size": 9, "symbol": "x" if status == "Failed" else "circle"},
                       "hovertemplate": "%{x}<br>" + status + ": %{y} violations<extra>click to open</extra>"})
    return {"data": traces, "layout": {"xaxis": {"title": {"text": "window end (UTC)"}, "type": "date"},
                                       "yaxis": {"title": {"text": "violations"}, "rangemode": "tozero"},
                                       "legend": {"orientation": "h", "y": 1.15}, "showlegend": True,
                                       "hovermode": "closest"}}


def history(panel: HistoryPanel, rows_by_group: Mapping[str, Sequence[MetricPoint]]) -> dict[str, Any]:
    """The panel's lines over the windows of their groups, plus its limit as a dotted line."""
    traces: list[dict[str, Any]] = []
    xs: list[str] = []
    for index, line in enumerate(panel.lines):
        rows = [r for r in rows_by_group.get(line.group, ()) if line.metric in r.metrics]
        if not rows:
            continue
        x = [str(_when(r.window_end)) for r in rows]
        xs.extend(x)
        traces.append({"type": "scatter", "mode": "lines+markers", "name": line.name, "x": x,
                       "y": [r.metrics.get(line.metric) for r in rows],
                       "line": {"color": LINE_COLORS[index % len(LINE_COLORS)],
                                "dash": "dash" if line.dashed else "solid", "width": 2},
                       "marker": {"size": 5, "symbol": "circle-open" if line.dashed else "circle"},
                       "connectgaps": False})
    if panel.limit is not None and xs:
        span = [min(xs), max(xs)]
        traces.append({"type": "scatter", "mode": "lines", "name": panel.limit.label, "x": span,
                       "y": [panel.limit.value, panel.limit.value],
                       "line": {"color": LIMIT_COLOR, "dash": "dot", "width": 2},
                       "hovertemplate": f"violated {panel.limit.violated_when} %{{y}}<extra></extra>"})
    return {"data": traces, "layout": {"yaxis": {"title": {"text": panel.y_title}},
                                       "xaxis": {"title": {"text": "window end (UTC)"}, "type": "date"},
                                       "legend": {"orientation": "h", "y": 1.18}}}


def sparkline(values: Iterable[float], *, width: int = 160, height: int = 28) -> str:
    """SVG polyline points (x,y ...) of the values scaled into the box; empty when there are none."""
    data = list(values)
    if not data:
        return ""
    top = max(data) or 1.0
    step = width / max(1, len(data) - 1)
    return " ".join(f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(data))
