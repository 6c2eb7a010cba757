"""`report.html` of a bias run: metrics per facet, baseline against window, violations; one self-contained page."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from monitor_service.monitors.model_bias.catalog import DESCRIPTIONS
from monitor_service.reports.html import (
    Section,
    badge,
    figure,
    format_number,
    key_values,
    paragraph,
    render_page,
    status_badge,
    table,
    write_report,
)

if TYPE_CHECKING:
    from monitor_service.monitors.model_bias.checking import CheckedEntry, CheckOutcome
    from monitor_service.monitors.model_bias.config import AnalysisConfig
    from monitor_service.monitors.model_bias.drift import DriftSettings
    from monitor_service.monitors.model_bias.evaluate import Evaluation
    from monitor_service.runner.summary import RunSummary

_STAGE_TITLES = {"pre_training": "Pre-training bias metrics", "post_training": "Post-training bias metrics"}


def _shown(value: float | None) -> object:
    if value is None:
        return "—"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _interval(bounds: tuple[float, float]) -> str:
    return f"[{format_number(_shown(bounds[0]))}, {format_number(_shown(bounds[1]))}]"


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _chart(facet: str, value: str, window: dict[str, float | None], check_entry: CheckedEntry | None,
           label: str) -> str:
    """Grouped bars per finite metric of one facet entry: the baseline (if any) and this run, with its interval."""
    import plotly.graph_objects as go

    names = [n for n, v in window.items() if _finite(v) is not None]
    fig = go.Figure()
    if check_entry is not None and check_entry.baseline is not None:
        fig.add_trace(go.Bar(name="baseline", x=names, y=[_finite(check_entry.baseline.get(n)) for n in names]))
    values = [window[n] for n in names]
    bar = go.Bar(name=label, x=names, y=values)
    if check_entry is not None and check_entry.checks:
        intervals = [check_entry.checks[n].interval if n in check_entry.checks else (v, v)
                     for n, v in zip(names, values, strict=True)]
        bar.error_y = {
            "type": "data", "symmetric": False,
            "array": [(_finite(hi) or v) - v for (_, hi), v in zip(intervals, values, strict=True)],
            "arrayminus": [v - (_finite(lo) or v) for (lo, _), v in zip(intervals, values, strict=True)],
        }
    fig.add_trace(bar)
    title = f"{facet} = {value}: baseline vs window" if check_entry is not None else f"{facet} = {value}"
    fig.update_layout(barmode="group", title=title, legend={"orientation": "h"})
    return figure(fig, height=340)


def write_bias_report(
    out: str,
    summary: RunSummary,
    config: AnalysisConfig,
    evaluation: Evaluation | None,
    outcome: CheckOutcome | None,
    drift: DriftSettings | None,
) -> str:
    """Write `{out}/report.html`; returns its path."""
    overview = Section("Run", [key_values([
        ("job", summary.job), ("records read", summary.records_read), ("records analyzed", summary.records_analyzed),
        ("label", config.label_name),
        ("label values / threshold", ", ".join(map(str, config.label_values_or_threshold))),
        ("facets", ", ".join(config.column(f.name_or_index) for f in config.facet)),
        ("group variable", config.column(config.group_variable) if config.group_variable is not None else "—"),
        ("window", f"{summary.window_start} – {summary.window_end}" if summary.window_start else "all records"),
    ]), status_badge(summary.status)])
    sections = [overview]
    if evaluation is None:
        sections.append(Section("Metrics", [paragraph("No record with a label yet: no metrics for this window.")]))
    checked = {(c.stage, c.facet, c.value_or_threshold): c for c in (outcome.entries if outcome else [])}
    for stage, block in (evaluation.stages.items() if evaluation else []):
        positive = block.label_value_or_threshold
        section = Section(f"{_STAGE_TITLES[stage]}: label column {block.label}, positive {positive}")
        rows = []
        for facet, entries in block.facets.items():
            for entry in entries:
                check_entry = checked.get((stage, facet, entry.value_or_threshold))
                for metric in entry.metrics:
                    check = check_entry.checks.get(metric.name) if check_entry else None
                    base = check_entry.baseline.get(metric.name) if check_entry and check_entry.baseline else None
                    verdict = (badge("violation", "bad") if check.violated else badge("ok", "ok")) if check else ""
                    rows.append([facet, entry.value_or_threshold, metric.name, DESCRIPTIONS[metric.name],
                                 _shown(metric.value), _shown(base) if check_entry else "",
                                 _interval(check.interval) if check else "", _interval(check.allowed) if check else "",
                                 verdict, metric.error or ""])
                values = {m.name: m.value for m in entry.metrics}
                section.add(_chart(facet, entry.value_or_threshold, values, check_entry,
                                   "window" if outcome is not None else "value"))
        columns = ["facet", "value", "metric", "description", "window" if outcome else "value", "baseline",
                   "confidence interval", "allowed range", "check", "error"]
        section.parts.insert(0, table(columns, rows, raw_columns=[8]))
        sections.append(section)
    if outcome is not None:
        violations = outcome.violations
        rows = [[v.facet, v.facet_value, v.check.metric, v.check.description()] for v in violations]
        part = table(["facet", "value", "metric", "description"], rows) if rows else paragraph("No violations.")
        sections.append(Section(f"Violations ({len(violations)})", [part], anchor="violations"))
        if outcome.unmatched:
            missing = "; ".join(outcome.unmatched)
            sections[-1].add(paragraph(f"Not in the baseline (not checked): {missing}", muted=True))
    if drift is not None:
        sections.append(Section("Drift rule", [paragraph(
            f"A metric violates when it lies outside the allowed range (|baseline| around the ideal 0; "
            f"[min(b, 1/b), max(b, 1/b)] for DI) and its {drift.confidence_level:.0%} normal-bootstrap "
            f"interval ({drift.bootstrap_samples} resamples, seed {drift.seed}) lies wholly outside it too."
            + (f" Thresholds: {drift.thresholds}." if drift.thresholds else "")
        )]))
    flip = summary.feature_metrics.get("flip_test")
    if flip:
        sections.append(Section("Flip test sample", [paragraph(
            f"FT was computed on {int(flip['sample_rows'] or 0)} records (at most {int(flip['sample_limit'] or 0)}, "
            "picked by a seeded hash of their content).", muted=True)]))
    title = "Bias drift report" if summary.job == "analyze" else "Bias baseline report"
    page = render_page(title, f"ModelBias {summary.job} · {summary.output_path}", sections)
    return write_report(out, page)
