"""report.html of an explainability run: per label, baseline vs window attributions as bars.

The page says how many records were explained of how many available (and why others were
skipped), which explainer ran and why, what the background was, and per label the nDCG against
the threshold. Features are ordered by baseline attribution, so a ranking change is visible as
bars out of order.
"""

from __future__ import annotations

from typing import Any

from monitor_service.monitors.model_explainability.documents import LabelAttributions
from monitor_service.monitors.model_explainability.window import WindowExplanation
from monitor_service.reports import html as H
from monitor_service.runner.summary import RunSummary

MAX_BARS = 40


def _bars(label: str, window: dict[str, float], baseline: dict[str, float] | None) -> str:
    import plotly.graph_objects as go

    order = sorted(baseline or window, key=lambda f: -(baseline or window).get(f, 0.0))[:MAX_BARS]
    fig = go.Figure()
    if baseline is not None:
        fig.add_bar(name="baseline", x=order, y=[baseline.get(f, 0.0) for f in order], marker_color="#829ab1")
    fig.add_bar(name="this run" if baseline is not None else "attribution", x=order,
                y=[window.get(f, 0.0) for f in order], marker_color="#2680c2")
    fig.update_layout(barmode="group", title=f"Global SHAP values: {label}", yaxis_title="attribution",
                      legend={"orientation": "h"})
    return H.figure(fig, height=380)


def render(summary: RunSummary, explanation: WindowExplanation, drift: dict[str, dict[str, Any]] | None,
           baseline: dict[str, LabelAttributions] | None) -> str:
    """The whole page; `drift` is the per-label nDCG block (None for a baseline job)."""
    plan = explanation.plan
    overview = H.Section("Run").add(H.key_values([
        ("status", summary.status),
        ("records available", explanation.available),
        ("records explained", explanation.explained),
        *[(f"skipped: {reason}", n) for reason, n in sorted(explanation.skipped.items())],
        ("explainer", plan.method),
        ("why", plan.reason),
        ("background", f"{len(explanation.background.rows)} rows ({explanation.background.source})"),
        ("features explained", len(explanation.explained_features)),
        ("seconds explaining", round(explanation.explain_seconds, 1)),
    ]))
    if explanation.explained < explanation.available:
        overview.add(H.paragraph(
            f"A seeded uniform sample of {explanation.explained:,} of the {explanation.available:,} usable records "
            "was explained (methods.shap.max_records).", muted=True))
    sections = [overview]
    if drift:
        rows = [(label, d["ndcg"], d["threshold"], H.badge("drift" if d["violation"] else "ok",
                                                           "bad" if d["violation"] else "ok"))
                for label, d in drift.items()]
        sections.append(H.Section("Feature attribution drift (nDCG)").add(
            H.table(["label", "nDCG", "threshold", "result"], rows, raw_columns=[3])))
    for label, entry in explanation.labels.items():
        base = baseline[label].global_values if baseline and label in baseline else None
        section = H.Section(f"Attributions: {label}").add(_bars(label, entry.global_values, base))
        features = sorted(entry.global_values, key=lambda f: -(base or entry.global_values).get(f, 0.0))
        if base is not None:
            table = [(f, entry.global_values.get(f), base.get(f), _change(entry.global_values.get(f), base.get(f)))
                     for f in features]
            section.add(H.table(["feature", "this run", "baseline", "change"], table))
        else:
            section.add(H.table(["feature", "attribution"], [(f, entry.global_values[f]) for f in features]))
        section.add(H.paragraph(f"expected value {H.format_number(entry.expected_value)}", muted=True))
        sections.append(section)
    title = "Feature attribution drift" if drift is not None else "Feature attribution baseline"
    return H.render_page(title, f"{summary.job} of {summary.input_path}", sections)


def _change(value: float | None, base: float | None) -> float | None:
    return None if value is None or base is None else value - base
