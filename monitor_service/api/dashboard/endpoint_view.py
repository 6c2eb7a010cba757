"""What the endpoint pages show: each endpoint's variants with weights (from the database) beside
the live counters of the gateways that serve them (from their `/metrics`), and the weight history.

Stored state and live figures are joined by endpoint and variant name. An endpoint that only a
gateway reports (one started from a configuration file, not `--database`) is still listed, marked
as not stored; a variant the database holds but no gateway reports shows its weights without
counters, so a stopped gateway is visible rather than hidden.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from monitor_service.api.dashboard.charts import LINE_COLORS
from monitor_service.service import gateway as stored
from monitor_service.service.gateway_live import GatewayLive, LiveFigures, VariantLive, read_gateways
from monitor_service.settings import Settings
from monitor_service.store.gateway_models import GatewayVariantState, GatewayWeightChange

WEIGHT_HISTORY = 200


@dataclass
class VariantRow:
    name: str
    model: str | None
    weight: float | None
    desired_weight: float | None
    share: float | None  # weight / sum of the endpoint's weights
    instances: int | None
    live: VariantLive | None


@dataclass
class EndpointRow:
    name: str
    stored: bool
    variants: list[VariantRow]
    capture: dict[str, Any] | None = None
    updated_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def invocations(self) -> float:
        return sum(v.live.invocations for v in self.variants if v.live)

    @property
    def errors(self) -> float:
        return sum(v.live.errors_4xx + v.live.errors_5xx for v in self.variants if v.live)

    @property
    def dropped(self) -> float:
        return sum(v.live.dropped + v.live.rejected for v in self.variants if v.live)


@dataclass
class EndpointsView:
    endpoints: list[EndpointRow]
    gateways: list[GatewayLive]
    configured: bool  # MONITOR_GATEWAY_URLS names at least one gateway


def _capture_configs(session: Session) -> dict[str, dict[str, Any]]:
    """Each stored endpoint's DataCaptureConfig with its defaults filled in (the stored form omits them)."""
    row = stored.current_config(session)
    if row is None:
        return {}
    return {e.EndpointName: e.DataCaptureConfig.model_dump(mode="json") for e in stored.stored_config(row).Endpoints
            if e.DataCaptureConfig is not None}


def _variant_rows(states: list[GatewayVariantState], live: dict[str, VariantLive]) -> list[VariantRow]:
    total = sum(s.current_weight for s in states)
    rows = [VariantRow(s.variant_name, s.model_name, s.current_weight, s.desired_weight,
                       (s.current_weight / total) if total > 0 else None, s.current_instance_count,
                       live.get(s.variant_name)) for s in states]
    known = {s.variant_name for s in states}
    rows += [VariantRow(name, None, None, None, None, None, figures) for name, figures in sorted(live.items())
             if name not in known]
    return rows


def endpoints_view(session: Session, settings: Settings, *, only: str | None = None) -> EndpointsView:
    urls = settings.gateway_url_list()
    live = read_gateways(urls, settings.gateway_timeout_seconds) if urls else LiveFigures([], {})
    states: dict[str, list[GatewayVariantState]] = {}
    for state in stored.variant_states(session, only):
        states.setdefault(state.endpoint_name, []).append(state)
    names = set(states) | {endpoint for endpoint, _ in live.variants}
    if only is not None:
        names &= {only}
    captures = _capture_configs(session)
    rows = []
    for name in sorted(names):
        held = states.get(name, [])
        rows.append(EndpointRow(name, bool(held), _variant_rows(held, live.endpoint(name)), captures.get(name),
                                max((s.updated_at for s in held), default=None)))
    return EndpointsView(rows, live.gateways, bool(urls))


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def weight_history(changes: list[GatewayWeightChange], current: list[GatewayVariantState],
                   since: datetime | None, now: datetime) -> dict[str, Any]:
    """A step line per variant from `since` (when the configuration in force was stored): its weight
    before and after each recorded change, then now.

    `changes` come newest first (as stored queries return them)."""
    points: dict[str, list[tuple[str, float]]] = {}
    if since is not None:
        first = {p["VariantName"]: float(p["CurrentWeight"]) for p in (changes[-1].previous if changes else [])}
        for state in current:
            points[state.variant_name] = [(_when(since), first.get(state.variant_name, state.current_weight))]
    for change in reversed(changes):
        before = {p["VariantName"]: float(p["CurrentWeight"]) for p in change.previous}
        after = dict(before)
        after.update({c["VariantName"]: float(c["DesiredWeight"]) for c in change.changes
                      if c.get("DesiredWeight") is not None})
        at = _when(change.created_at)
        for name in sorted(set(before) | set(after)):
            series = points.setdefault(name, [])
            if not series and name in before:  # a variant the configuration in force no longer has
                series.append((at, before[name]))
            if name in after:
                series.append((at, after[name]))
    for state in current:
        points.setdefault(state.variant_name, []).append((_when(now), state.current_weight))
    traces = [{"type": "scatter", "mode": "lines+markers", "name": name, "x": [x for x, _ in series],
               "y": [y for _, y in series], "line": {"shape": "hv", "width": 2,
                                                     "color": LINE_COLORS[i % len(LINE_COLORS)]}}
              for i, (name, series) in enumerate(sorted(points.items()))]
    return {"data": traces, "layout": {"xaxis": {"title": {"text": "time (UTC)"}, "type": "date"},
                                       "yaxis": {"title": {"text": "weight"}, "rangemode": "tozero"},
                                       "legend": {"orientation": "h", "y": 1.15}}}


def shares(row: EndpointRow) -> dict[str, Any]:
    """Weight share beside the observed share of invocations, per variant (a bar pair each)."""
    names = [v.name for v in row.variants]
    total = row.invocations
    observed = [(v.live.invocations / total) if (v.live and total) else 0.0 for v in row.variants]
    return {"data": [
        {"type": "bar", "name": "weight share", "x": names, "y": [v.share or 0.0 for v in row.variants],
         "marker": {"color": LINE_COLORS[0]}},
        {"type": "bar", "name": "share of invocations", "x": names, "y": observed, "marker": {"color": LINE_COLORS[1]}},
    ], "layout": {"barmode": "group", "yaxis": {"title": {"text": "share"}, "tickformat": ".0%", "range": [0, 1]},
                  "legend": {"orientation": "h", "y": 1.15}}}
