"""Baseline against window, per feature: the distributions a person compares, and the drift summary.

Both the per-run `report.html` and the dashboard draw these, so they are computed once here, as
plain plotly JSON (no plotly import): numeric features as the fraction of each sketch's weight in
equal-width bins over the range both profiles span (read from the KLL sketches, the same state
the drift methods use), categorical features as relative frequencies of their buckets.
`feature_summaries` gives each feature's drift distance against its configured threshold and
its completeness against the constraint, ordered worst first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from monitor_service.core.constraints import Constraints
from monitor_service.core.drift.distributions import present_counts
from monitor_service.core.drift.registry import column_kind
from monitor_service.core.drift.registry import get as get_method
from monitor_service.core.profile import ColumnProfile

HISTOGRAM_BINS = 20
TOP_CATEGORIES = 30
BASELINE_COLOR, WINDOW_COLOR = "#829ab1", "#d9480f"


@dataclass(frozen=True)
class Bins:
    """Equal-width bins [edges[i], edges[i+1]) (the last one closed) with each side's weight fraction."""

    edges: list[float]
    baseline: list[float] | None
    window: list[float] | None


def _range(*columns: ColumnProfile | None) -> tuple[float, float] | None:
    states = [c.numeric for c in columns if c is not None and c.numeric is not None and c.numeric.kll is not None
              and not c.numeric.kll.is_empty()]
    if not states:
        return None
    low, high = min(s.min for s in states), max(s.max for s in states)
    return (low - 0.5, high + 0.5) if high <= low else (low, high)


def numeric_bins(baseline: ColumnProfile | None, window: ColumnProfile | None,
                 bins: int = HISTOGRAM_BINS) -> Bins | None:
    """Both sketches binned on one grid spanning both ranges; None when neither has a sketch."""
    span = _range(baseline, window)
    if span is None:
        return None
    low, high = span

    def fractions(column: ColumnProfile | None) -> list[float] | None:
        kll = column.numeric.kll if column is not None and column.numeric is not None else None
        if kll is None or kll.is_empty():
            return None
        return [b["count"] / kll.n for b in kll.buckets(low, high, bins)]

    edges = [low + (high - low) * i / bins for i in range(bins + 1)]
    return Bins(edges=edges, baseline=fractions(baseline), window=fractions(window))


def category_frequencies(baseline: ColumnProfile | None, window: ColumnProfile | None,
                         top: int = TOP_CATEGORIES) -> tuple[list[str], list[float] | None, list[float] | None] | None:
    """The `top` most frequent categories of either side (by their larger share) and each side's shares."""
    counts = {side: present_counts(c.histogram) if c is not None else None
              for side, c in (("baseline", baseline), ("window", window))}
    shares: dict[str, dict[str, float] | None] = {}
    for side, histogram in counts.items():
        total = sum(histogram.values()) if histogram else 0.0
        shares[side] = {k: v / total for k, v in histogram.items()} if histogram and total else None
    present = [s for s in shares.values() if s is not None]
    if not present:
        return None
    keys = sorted({k for s in present for k in s}, key=lambda k: (-max(s.get(k, 0.0) for s in present), k))[:top]

    def pick(side: str) -> list[float] | None:
        values = shares[side]
        return None if values is None else [values.get(k, 0.0) for k in keys]

    return keys, pick("baseline"), pick("window")


def distribution_figure(name: str, baseline: ColumnProfile | None,
                        window: ColumnProfile | None) -> dict[str, Any] | None:
    """A plotly figure (JSON) of the feature's baseline and window distributions; None if nothing to draw."""
    column = baseline or window
    if column is None:
        return None
    traces: list[dict[str, Any]] = []
    if column.inferred_type.is_numeric:
        binned = numeric_bins(baseline, window)
        if binned is None:
            return None
        centers = [(a + b) / 2 for a, b in zip(binned.edges, binned.edges[1:], strict=False)]
        ranges = [f"[{a:.4g}, {b:.4g})" for a, b in zip(binned.edges, binned.edges[1:], strict=False)]
        width = binned.edges[1] - binned.edges[0]
        for label, values, color in (("baseline", binned.baseline, BASELINE_COLOR),
                                     ("window", binned.window, WINDOW_COLOR)):
            if values is not None:
                traces.append({"type": "bar", "name": label, "x": centers, "y": values, "width": width * 0.45,
                               "offset": -width * 0.45 if label == "baseline" else 0.0, "customdata": ranges,
                               "marker": {"color": color},
                               "hovertemplate": "%{customdata}: %{y:.3f}<extra>" + label + "</extra>"})
        x_title = name
    else:
        found = category_frequencies(baseline, window)
        if found is None:
            return None
        keys, base, current = found
        for label, values, color in (("baseline", base, BASELINE_COLOR), ("window", current, WINDOW_COLOR)):
            if values is not None:
                traces.append({"type": "bar", "name": label, "x": keys, "y": values, "marker": {"color": color},
                               "hovertemplate": "%{x}: %{y:.3f}<extra>" + label + "</extra>"})
        x_title = f"{name} (top {len(keys)} values)"
    return {"data": traces, "layout": {"barmode": "group", "bargap": 0.1, "xaxis": {"title": {"text": x_title}},
                                       "yaxis": {"title": {"text": "fraction of values"}},
                                       "legend": {"orientation": "h", "y": 1.12}}}


@dataclass(frozen=True)
class FeatureSummary:
    """One feature of a window against the baseline, as the report table and the dashboard list it."""

    name: str
    inferred_type: str
    violations: int
    drift_method: str | None
    drift_distance: float | None
    drift_threshold: float | None
    completeness: float | None
    baseline_completeness: float | None
    completeness_constraint: float | None

    @property
    def drift_ratio(self) -> float:
        """Distance over threshold (1 = at the threshold); 0 when there is no distance."""
        if self.drift_distance is None or not self.drift_threshold:
            return 0.0 if self.drift_distance is None else float("inf")
        return self.drift_distance / self.drift_threshold

    @property
    def completeness_shortfall(self) -> float:
        if self.completeness is None or self.completeness_constraint is None:
            return 0.0
        return max(0.0, self.completeness_constraint - self.completeness)


def drift_setting(constraints: Constraints, baseline: ColumnProfile | None, name: str) -> tuple[str, float] | None:
    """(canonical method name, threshold) in force for the feature; None when it is not compared."""
    kind = column_kind(baseline.inferred_type) if baseline is not None else None
    if kind is None:
        return None
    method, threshold = constraints.settings_for(name).drift(kind)
    return get_method(method).name, threshold


def feature_summaries(baseline: Sequence[ColumnProfile], window: Sequence[ColumnProfile] | None,
                      constraints: Constraints, drift_metrics: Mapping[str, Mapping[str, float | None]],
                      violations: Mapping[str, int]) -> list[FeatureSummary]:
    """Every feature of either profile, worst first: most violations, then drift over its
    threshold, then completeness below its constraint, then name."""
    base = {c.name: c for c in baseline}
    current = {c.name: c for c in window} if window is not None else {}
    names = list(dict.fromkeys([*base, *current]))
    rows = []
    for name in names:
        reference, column = base.get(name), current.get(name)
        setting = drift_setting(constraints, reference, name)
        constraint = constraints.feature(name)
        rows.append(FeatureSummary(
            name=name, inferred_type=str((reference or column).inferred_type),  # type: ignore[union-attr]
            violations=violations.get(name, 0), drift_method=setting[0] if setting else None,
            drift_distance=drift_metrics.get(name, {}).get(setting[0]) if setting else None,
            drift_threshold=setting[1] if setting else None,
            completeness=column.completeness if column is not None else None,
            baseline_completeness=reference.completeness if reference is not None else None,
            completeness_constraint=constraint.completeness if constraint is not None else None))
    return sorted(rows, key=lambda r: (-r.violations, -r.drift_ratio, -r.completeness_shortfall, r.name))


def drift_figure(rows: Sequence[FeatureSummary]) -> dict[str, Any] | None:
    """Each compared feature's drift distance (bars) against its threshold (markers), worst first."""
    compared = [r for r in rows if r.drift_distance is not None]
    if not compared:
        return None
    names = [r.name for r in compared]
    colors = [WINDOW_COLOR if r.drift_ratio > 1 else BASELINE_COLOR for r in compared]
    return {"data": [
        {"type": "bar", "name": "drift distance", "x": names, "y": [r.drift_distance for r in compared],
         "marker": {"color": colors}, "customdata": [r.drift_method for r in compared],
         "hovertemplate": "%{x}: %{y:.4f} (%{customdata})<extra></extra>"},
        {"type": "scatter", "mode": "markers", "name": "threshold", "x": names,
         "y": [r.drift_threshold for r in compared], "marker": {"symbol": "line-ew-open", "size": 26,
                                                                "color": "#102a43", "line": {"width": 3}},
         "hovertemplate": "%{x}: threshold %{y}<extra></extra>"},
    ], "layout": {"yaxis": {"title": {"text": "distance"}}, "legend": {"orientation": "h", "y": 1.12}}}
