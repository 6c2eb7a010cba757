"""What a model-quality schedule's page shows (see `monitors/panels.py`).

Each model metric over time against its constraint: the value measured on labelled records as a
solid line, the CBPE estimate for records still waiting for a label dashed (an estimate, never a
measurement). Metrics breaking their constraint in the newest window come first. A last panel
shows how many records were labelled and unlabelled per window.
"""

from __future__ import annotations

import math

from monitor_service.errors import MonitorError
from monitor_service.monitors.model_quality.constraints import OPERATORS, Constraint, parse_constraints
from monitor_service.monitors.model_quality.settings import ESTIMATED, REALIZED
from monitor_service.monitors.panels import MAX_PANELS, DashboardContext, HistoryPanel, Limit, Line, Panel

RECORDS = "records"


def _constraints(context: DashboardContext) -> dict[str, Constraint]:
    problem = (context.settings or {}).get("problem_type")
    document = context.documents.get("constraints")
    if not problem or document is None:
        return {}
    try:
        return {c.metric: c for c in parse_constraints(document, str(problem))}
    except MonitorError:
        return {}


def _violated(value: float | None, limit: Constraint | None) -> bool:
    return (value is not None and limit is not None and not math.isnan(value)
            and OPERATORS.get(limit.operator)(value, limit.threshold))


def subjects(context: DashboardContext) -> list[str]:
    limits = _constraints(context)
    measured = context.latest.get(REALIZED, {})
    names = dict.fromkeys([*measured, *context.latest.get(ESTIMATED, {}), *limits])
    return sorted(names, key=lambda m: (not _violated(measured.get(m), limits.get(m)), m not in limits, m))


def _panel(metric: str, limit: Constraint | None) -> HistoryPanel:
    bound = None
    if limit is not None:
        below = limit.operator.startswith("Less")
        bound = Limit(limit.threshold, f"{limit.operator} {limit.threshold:g}", "below" if below else "above")
    return HistoryPanel(title=metric, subject=metric, limit=bound, y_title=metric,
                        lines=(Line(REALIZED, metric, "measured"),
                               Line(ESTIMATED, metric, "estimated (CBPE)", dashed=True)))


def panels(context: DashboardContext) -> list[Panel]:
    limits = _constraints(context)
    names = subjects(context)
    chosen = [context.focus] if context.focus in names else names[:MAX_PANELS]
    out: list[Panel] = [_panel(str(m), limits.get(str(m))) for m in chosen]
    counts = context.latest.get(RECORDS)
    if counts:
        out.append(HistoryPanel(title="Records per window", y_title="records",
                                lines=tuple(Line(RECORDS, state, state) for state in sorted(counts))))
    return out
