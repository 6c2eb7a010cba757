"""`report.html` of a model-quality run: each metric against its constraint, measured and estimated.

The measured value comes from the labelled records, the CBPE estimate (where present) from the
records still waiting for a label; the estimate is drawn as an open marker and never changes the
run's status. Metrics that break their constraint come first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from monitor_service.monitors.model_quality.constraints import Constraint
from monitor_service.monitors.model_quality.settings import ESTIMATED, REALIZED
from monitor_service.reports.html import (
    Section,
    badge,
    figure,
    key_values,
    paragraph,
    render_page,
    status_badge,
    table,
    write_report,
)
from monitor_service.runner.summary import RunSummary

MEASURED_COLOR, ESTIMATED_COLOR, LIMIT_COLOR = "#102a43", "#d9480f", "#829ab1"


def _rows(summary: RunSummary, constraints: Sequence[Constraint] | None,
          violated: set[str]) -> list[tuple[str, float | None, float | None, Constraint | None]]:
    measured: Mapping[str, float | None] = summary.feature_metrics.get(REALIZED, {})
    estimated: Mapping[str, float | None] = summary.feature_metrics.get(ESTIMATED, {})
    limits = {c.metric: c for c in constraints or ()}
    names = list(dict.fromkeys([*limits, *measured, *estimated]))
    rows = [(name, measured.get(name), estimated.get(name), limits.get(name)) for name in names]
    return sorted(rows, key=lambda r: (r[0] not in violated, r[3] is None, r[0]))


def _chart(rows: Sequence[tuple[str, float | None, float | None, Constraint | None]]) -> str | None:
    import plotly.graph_objects as go

    shown = [r for r in rows if r[3] is not None and (r[1] is not None or r[2] is not None)]
    if not shown:
        return None
    names = [r[0] for r in shown]
    fig = go.Figure([
        go.Scatter(x=names, y=[r[1] for r in shown], mode="markers", name="measured",
                   marker={"size": 12, "color": MEASURED_COLOR}),
        go.Scatter(x=names, y=[r[2] for r in shown], mode="markers", name="estimated (CBPE)",
                   marker={"size": 12, "color": ESTIMATED_COLOR, "symbol": "circle-open", "line": {"width": 2}}),
        go.Scatter(x=names, y=[r[3].threshold for r in shown if r[3] is not None], mode="markers",
                   name="constraint threshold", customdata=[r[3].operator for r in shown if r[3] is not None],
                   marker={"symbol": "line-ew-open", "size": 26, "color": LIMIT_COLOR, "line": {"width": 3}},
                   hovertemplate="%{x}: violated when %{customdata} %{y}<extra></extra>"),
    ])
    fig.update_layout(legend={"orientation": "h", "y": 1.12}, yaxis={"title": {"text": "value"}})
    return figure(fig, height=340)


def write_model_quality_report(out: str, summary: RunSummary, constraints: Sequence[Constraint] | None,
                               violations: Sequence[Mapping[str, str]], problem_type: str) -> str:
    """Write `{out}/report.html` and list it among the run's artifacts; returns its path."""
    violated = {str(v.get("metric_name")) for v in violations}
    rows = _rows(summary, constraints, violated)
    counts = summary.feature_metrics.get("records", {})
    run = Section("Run", [f"<p>{status_badge(summary.status)}</p>", key_values([
        ("problem type", problem_type),
        ("window", f"{summary.window_start} to {summary.window_end}" if summary.window_start else "whole input"),
        ("records read", summary.records_read),
        ("labelled records", int(counts.get("labelled", summary.records_analyzed) or 0)),
        ("records without a label yet", int(counts.get("unlabelled", 0) or 0)),
        ("records quarantined", summary.records_quarantined.total), ("violations", len(violations))])])

    def state(name: str, limit: Constraint | None) -> str:
        if name in violated:
            return badge("violated", "bad")
        return badge("ok", "ok") if limit is not None else badge("no constraint", "warn")

    metrics = Section("Metrics against constraints", [table(
        ["metric", "state", "measured", "estimated (CBPE)", "violated when"],
        [[name, state(name, limit), "" if value is None else value, "" if estimate is None else estimate,
          f"{limit.operator} {limit.threshold:.4g}" if limit else ""] for name, value, estimate, limit in rows],
        raw_columns=[1])], anchor="metrics")
    chart = _chart(rows)
    if chart is not None:
        metrics.add(chart)
    if not rows:
        metrics.add(paragraph("No labelled record yet: no metric could be measured.", muted=True))
    listing = Section(f"Violations ({len(violations)})", [
        table(["metric", "check", "description"], [[v.get("metric_name", ""), v.get("constraint_check_type", ""),
                                                    v.get("description", "")] for v in violations])
        if violations else paragraph("No constraint was violated.")], anchor="violations")
    title = f"Model-quality {'baseline ' if summary.job == 'baseline' else ''}report: {summary.status}"
    page = render_page(title, f"{problem_type} · window {summary.window_start or ''} to {summary.window_end or ''}",
                       [run, listing, metrics])
    summary.artifacts["report"] = write_report(out, page)
    return summary.artifacts["report"]
