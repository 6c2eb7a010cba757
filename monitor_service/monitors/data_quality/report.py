"""`report.html` of a data-quality run: one self-contained page beside the run's JSON files.

An analysis report shows the run's status and counts, each violation, the drift distance of every
compared feature against its threshold, and per feature (worst first) the baseline against the
window distribution with its completeness. A baseline report shows the profile itself. Every
number comes from the same profiles the job wrote into `statistics.json`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from monitor_service.core.constraints import Constraints
from monitor_service.core.profile import ColumnProfile, DatasetProfile
from monitor_service.core.violations import Violation
from monitor_service.monitors.data_quality.distributions import (
    FeatureSummary,
    distribution_figure,
    drift_figure,
    feature_summaries,
)
from monitor_service.reports.html import (
    Section,
    badge,
    escape,
    figure,
    key_values,
    paragraph,
    render_page,
    status_badge,
    table,
    write_report,
)
from monitor_service.runner.summary import RunSummary

# Distribution charts per report; further features are in the tables only (large schemas stay light).
MAX_CHARTED_FEATURES = 40


def _run_section(summary: RunSummary, extra: Sequence[tuple[str, object]]) -> Section:
    pairs: list[tuple[str, object]] = [
        ("window", f"{summary.window_start} to {summary.window_end}" if summary.window_start else "whole input"),
        ("input", summary.input_path), ("records read", summary.records_read),
        ("records analyzed", summary.records_analyzed), ("records quarantined", summary.records_quarantined.total),
        ("features", summary.features), *extra]
    section = Section("Run", [f"<p>{status_badge(summary.status)}</p>", key_values(pairs)])
    if summary.records_quarantined.by_reason:
        section.add(table(["quarantine reason", "records"], sorted(summary.records_quarantined.by_reason.items())))
    return section


def _fmt(value: float | None) -> object:
    return "" if value is None else value


def _feature_table(rows: Sequence[FeatureSummary]) -> str:
    def state(row: FeatureSummary) -> str:
        if row.violations:
            return badge(f"{row.violations} violation{'s' if row.violations > 1 else ''}", "bad")
        return badge("drift" if row.drift_ratio > 1 else "ok", "warn" if row.drift_ratio > 1 else "ok")

    return table(["feature", "type", "state", "drift method", "distance", "threshold", "completeness",
                  "baseline completeness", "completeness constraint"],
                 [[r.name, r.inferred_type, state(r), r.drift_method or "", _fmt(r.drift_distance),
                   _fmt(r.drift_threshold), _fmt(r.completeness), _fmt(r.baseline_completeness),
                   _fmt(r.completeness_constraint)] for r in rows], raw_columns=[2])


def _feature_section(row: FeatureSummary, baseline: ColumnProfile | None, window: ColumnProfile | None,
                     violations: Sequence[Violation]) -> Section:
    pairs: list[tuple[str, object]] = [("type", row.inferred_type)]
    if row.drift_distance is not None:
        pairs.append(("drift", f"{row.drift_method} distance {row.drift_distance:.4g} "
                               f"(threshold {row.drift_threshold:.4g})"))
    if row.completeness is not None:
        pairs.append(("completeness", f"{row.completeness:.4g} (baseline {_text(row.baseline_completeness)}, "
                                      f"constraint {_text(row.completeness_constraint)})"))
    for label, column in (("baseline", baseline), ("window", window)):
        if column is not None and column.numeric is not None:
            pairs.append((f"{label} mean / std / min / max", " / ".join(
                f"{v:.4g}" for v in (column.numeric.mean, column.numeric.std_dev, column.numeric.min,
                                     column.numeric.max))))
    section = Section(row.name, [key_values(pairs)], anchor=f"feature-{row.name}")
    for violation in violations:
        section.add(f"<p>{badge(violation.constraint_check_type, 'bad')} {escape(violation.description)}</p>")
    return section.add(_distribution(distribution_figure(row.name, baseline, window)))


def _distribution(spec: Mapping[str, Any] | None) -> str:
    """A feature's distribution chart, or a note when its profile has nothing to draw."""
    return figure(spec, height=300) if spec is not None else paragraph("No sketch or histogram to draw.", muted=True)


def _text(value: float | None) -> str:
    return "none" if value is None else f"{value:.4g}"


def analysis_report(summary: RunSummary, baseline: DatasetProfile, window: DatasetProfile, constraints: Constraints,
                    drift_metrics: Mapping[str, Mapping[str, float | None]], violations: Sequence[Violation],
                    *, baseline_statistics: str, baseline_constraints: str) -> str:
    """The page of one analysed window."""
    counts = Counter(v.feature_name for v in violations)
    rows = feature_summaries(baseline.columns, window.columns, constraints, drift_metrics, counts)
    sections = [_run_section(summary, [("violations", len(violations)), ("check errors", summary.check_errors),
                                       ("baseline statistics", baseline_statistics),
                                       ("constraints", baseline_constraints)])]
    by_feature: dict[str, list[Violation]] = {}
    for violation in violations:
        by_feature.setdefault(violation.feature_name, []).append(violation)
    order = {r.name: i for i, r in enumerate(rows)}
    ordered = sorted(violations, key=lambda v: order.get(v.feature_name, len(order)))
    sections.append(Section(f"Violations ({len(violations)})", [
        table(["feature", "check", "description"],
              [[v.feature_name, v.constraint_check_type, v.description] for v in ordered])
        if violations else paragraph("No constraint was violated.")], anchor="violations"))
    drift = drift_figure(rows)
    if drift is not None:
        sections.append(Section("Drift distance against threshold", [figure(drift, height=340)], anchor="drift"))
    sections.append(Section("Features (worst first)", [_feature_table(rows)], anchor="features"))
    base, current = baseline.by_name(), window.by_name()
    for row in rows[:MAX_CHARTED_FEATURES]:
        sections.append(_feature_section(row, base.get(row.name), current.get(row.name), by_feature.get(row.name, [])))
    if len(rows) > MAX_CHARTED_FEATURES:
        sections.append(Section("More features", [paragraph(
            f"{len(rows) - MAX_CHARTED_FEATURES} more features are listed in the table above without charts.")]))
    title = f"Data-quality report: {summary.status}"
    return render_page(title, f"window {summary.window_start or ''} to {summary.window_end or ''}", sections)


def baseline_report(summary: RunSummary, profile: DatasetProfile, constraints: Constraints) -> str:
    """The page of a baseline job: each feature's profile and suggested constraints."""
    rows = feature_summaries(profile.columns, None, constraints, {}, {})
    rows = sorted(rows, key=lambda r: (r.baseline_completeness if r.baseline_completeness is not None else 1.0,
                                       r.name))
    columns = profile.by_name()
    table_rows = []
    for row in rows:
        column = columns[row.name]
        numeric = column.numeric
        table_rows.append([row.name, row.inferred_type, _fmt(row.baseline_completeness),
                           _fmt(column.distinct_count), _fmt(numeric.mean if numeric else None),
                           _fmt(numeric.std_dev if numeric else None), _fmt(numeric.min if numeric else None),
                           _fmt(numeric.max if numeric else None), row.drift_method or ""])
    sections = [_run_section(summary, []), Section("Features (least complete first)", [
        table(["feature", "type", "completeness", "distinct", "mean", "std dev", "min", "max", "drift method"],
              table_rows)], anchor="features")]
    for row in rows[:MAX_CHARTED_FEATURES]:
        sections.append(Section(row.name, [_distribution(distribution_figure(row.name, columns[row.name], None))],
                                anchor=f"feature-{row.name}"))
    return render_page("Data-quality baseline report", f"input {summary.input_path or ''}", sections)


def write(out: str, page: str, summary: RunSummary) -> None:
    """Write the page and list it among the run's artifacts (so executions link it)."""
    summary.artifacts["report"] = write_report(out, page)
