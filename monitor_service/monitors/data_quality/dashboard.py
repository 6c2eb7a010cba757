"""What a data-quality schedule's page shows, and the constraints form (see `monitors/panels.py`).

Features are ordered worst first by the newest window's drift distance over its threshold, then by
how far completeness fell below its constraint. Without a focus the page shows the newest window's
drift against the thresholds, the drift history of the worst features and the worst feature's
distribution against the baseline; focused on one feature, its drift, completeness and mean over
time and its distribution.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from monitor_service.core.checks import CHECKS
from monitor_service.core.constraints import Constraints, FeatureSettings
from monitor_service.core.drift import DRIFT_METHODS, ColumnKind, column_kind, methods_for
from monitor_service.core.drift.registry import get as get_method
from monitor_service.core.profile import ColumnProfile
from monitor_service.core.statistics import EXTENSION_KEY, from_statistics_json
from monitor_service.errors import FormatError, InvalidField
from monitor_service.monitors.data_quality.constraints_patch import ConstraintsPatch
from monitor_service.monitors.data_quality.distributions import FeatureSummary, distribution_figure, drift_figure
from monitor_service.monitors.panels import (
    MAX_PANELS,
    PRESENT,
    DashboardContext,
    FigurePanel,
    FormField,
    FormValues,
    HistoryPanel,
    Limit,
    Line,
    Panel,
)

DRIFT_HISTORY_PANELS = 6
DRIFT_CHECK = "baseline_drift_check"
LINFINITY = "LInfinity"  # categorical: L-infinity following the numeric Simple/Robust choice
_GLOBAL = "\x00global"  # a name no feature has: settings_for() of it is the global configuration


def _constraints(documents: Mapping[str, dict[str, Any]]) -> Constraints:
    return Constraints.from_dict(documents.get("constraints") or {}, "the baseline constraints")


def _kinds(constraints: Constraints) -> dict[str, ColumnKind]:
    return {f.name: kind for f in constraints.features if (kind := column_kind(f.inferred_type)) is not None}


def _summaries(context: DashboardContext) -> list[FeatureSummary]:
    constraints = _constraints(context.documents)
    kinds = _kinds(constraints)
    rows = []
    for name in dict.fromkeys([*(f.name for f in constraints.features), *context.latest]):
        latest = context.latest.get(name, {})
        kind = kinds.get(name)
        method, threshold = constraints.settings_for(name).drift(kind) if kind else (None, None)
        feature = constraints.feature(name)
        rows.append(FeatureSummary(
            name=name, inferred_type=str(feature.inferred_type) if feature else "", violations=0,
            drift_method=get_method(method).name if method else None, drift_distance=latest.get("drift_distance"),
            drift_threshold=threshold, completeness=latest.get("completeness"), baseline_completeness=None,
            completeness_constraint=feature.completeness if feature else None))
    return sorted(rows, key=lambda r: (-r.drift_ratio, -r.completeness_shortfall, r.name))


def subjects(context: DashboardContext) -> list[str]:
    return [r.name for r in _summaries(context)]


def _drift_panel(row: FeatureSummary) -> HistoryPanel:
    limit = None
    if row.drift_threshold is not None and row.drift_method is not None:
        p_value = not get_method(row.drift_method).larger_is_drift
        limit = Limit(row.drift_threshold, f"threshold {row.drift_threshold:g} ({row.drift_method})",
                      "below" if p_value else "above")
    return HistoryPanel(title=f"Drift distance: {row.name}", subject=row.name, limit=limit,
                        y_title=row.drift_method or "distance",
                        lines=(Line(row.name, "drift_distance", "drift distance"),))


def _profile_of(document: Any, name: str) -> ColumnProfile | None:
    """One feature of a statistics document, reading only its own entry (files can hold hundreds)."""
    if not isinstance(document, dict) or not isinstance(document.get("features"), list):
        return None
    entries = [f for f in document["features"] if isinstance(f, dict) and f.get("name") == name]
    if not entries:
        return None
    extension = document.get(EXTENSION_KEY)
    sliced: dict[str, Any] = {"features": entries[:1]}
    if isinstance(extension, dict) and isinstance(extension.get("features"), dict):
        sliced[EXTENSION_KEY] = {**extension, "features": {k: v for k, v in extension["features"].items()
                                                           if k == name}}
    try:
        return from_statistics_json(sliced).profile.columns[0]
    except FormatError:
        return None


def _distribution_panel(context: DashboardContext, name: str) -> FigurePanel | None:
    latest = context.latest_file("statistics.json")
    figure = distribution_figure(name, _profile_of(context.documents.get("statistics"), name),
                                 _profile_of(latest, name))
    if figure is None:
        return None
    return FigurePanel(title=f"Latest window against the baseline: {name}", figure=figure, subject=name,
                       note="fraction of values per bin (numeric) or per value (categorical)")


def panels(context: DashboardContext) -> list[Panel]:
    rows = _summaries(context)
    by_name = {r.name: r for r in rows}
    out: list[Panel] = []
    focus = by_name.get(context.focus or "")
    if focus is not None:
        out.append(_drift_panel(focus))
        limit = None
        if focus.completeness_constraint is not None:
            limit = Limit(focus.completeness_constraint, f"constraint {focus.completeness_constraint:g}", "below")
        out.append(HistoryPanel(title=f"Completeness: {focus.name}", subject=focus.name, limit=limit,
                                y_title="non-null fraction", lines=(Line(focus.name, "completeness", "completeness"),)))
        out.append(HistoryPanel(title=f"Mean: {focus.name}", subject=focus.name, y_title="mean",
                                lines=(Line(focus.name, "mean", "mean"),)))
        distribution = _distribution_panel(context, focus.name)
        return out + ([distribution] if distribution else [])
    drift = drift_figure([r for r in rows if r.name in context.latest])
    if drift is not None:
        out.append(FigurePanel(title="Newest window: drift distance against threshold (worst first)", figure=drift))
    compared = [r for r in rows if r.drift_method is not None]
    out.extend(_drift_panel(r) for r in compared[:min(DRIFT_HISTORY_PANELS, MAX_PANELS)])
    if compared:
        distribution = _distribution_panel(context, compared[0].name)
        if distribution is not None:
            out.append(distribution)
    return out


# --- the constraints form ---------------------------------------------------------------------------
_PREFERRED = {canonical: alias for alias, canonical in DRIFT_METHODS.aliases().items() if alias != LINFINITY}


def _display(method: str) -> str:
    """The SageMaker spelling where one exists (Robust, Simple, ChiSquared), else the registry name."""
    if method == LINFINITY:
        return method
    canonical = DRIFT_METHODS.canonical(method)
    return _PREFERRED.get(canonical, canonical)


def _method_options(kind: ColumnKind) -> tuple[str, ...]:
    return tuple(_display(m) for m in methods_for(kind))


def _disabled(settings: FeatureSettings) -> tuple[str, ...]:
    return tuple(c for c in CHECKS.names()
                 if not settings.check_enabled(c) or (c == DRIFT_CHECK and not settings.perform_comparison))


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def form(documents: Mapping[str, dict[str, Any]]) -> list[FormField]:
    constraints = _constraints(documents)
    glob = constraints.settings_for(_GLOBAL)
    dist = constraints.monitoring_config.distribution_constraints
    checks = tuple(CHECKS.names())
    fields = [
        FormField("drift.method", "numeric drift method", "select", _display(dist.comparison_method),
                  _method_options(ColumnKind.NUMERIC)),
        FormField("drift.threshold", "numeric drift threshold", "number", _number(dist.comparison_threshold)),
        FormField("drift.categorical_method", "categorical drift method", "select",
                  _display(dist.categorical_drift_method or LINFINITY),
                  (LINFINITY, *(m for m in _method_options(ColumnKind.CATEGORICAL) if m not in ("Simple", "Robust"))),
                  help="LInfinity follows the numeric Simple/Robust choice"),
        FormField("drift.categorical_threshold", "categorical drift threshold", "number",
                  _number(glob.categorical_threshold)),
        FormField("checks.disabled", "disabled checks", "checkboxes", _disabled(glob), checks),
    ]
    for feature in constraints.features:
        kind = column_kind(feature.inferred_type)
        settings = constraints.settings_for(feature.name)
        prefix, section = f"features.{feature.name}", feature.name
        if kind is not None:
            method, threshold = settings.drift(kind)
            fields += [FormField(f"{prefix}.drift_method", "drift method", "select", _display(method),
                                 _method_options(kind), section=section),
                       FormField(f"{prefix}.drift_threshold", "drift threshold", "number", _number(threshold),
                                 section=section)]
        fields += [FormField(f"{prefix}.completeness", "minimum completeness", "number",
                             _number(feature.completeness), section=section, help="empty: no constraint"),
                   FormField(f"{prefix}.disabled", "disabled checks", "checkboxes", _disabled(settings), checks,
                             section=section)]
    return fields


def _one(form_values: FormValues, name: str) -> str | None:
    values = form_values.get(name)
    return None if not values else values[-1].strip()


def _changed_number(form_values: FormValues, name: str, current: float | None) -> tuple[bool, float | None]:
    raw = _one(form_values, name)
    if raw is None:
        return False, None
    if raw == "":
        return current is not None, None
    try:
        value = float(raw)
    except ValueError:
        raise InvalidField(name, f"{raw!r} is not a number", location="form") from None
    return current is None or value != current, value


def _changed_method(form_values: FormValues, name: str, current: str) -> str | None:
    raw = _one(form_values, name)
    if not raw:
        return None
    same = raw == current or (raw in DRIFT_METHODS and current in DRIFT_METHODS
                              and DRIFT_METHODS.canonical(raw) == DRIFT_METHODS.canonical(current))
    return None if same else raw


def _check_changes(form_values: FormValues, name: str, current: Sequence[str], everything_off: bool,
                   present: bool) -> dict[str, bool]:
    if not present:
        return {}
    wanted = set(form_values.get(name, ()))
    unknown = sorted(wanted - set(CHECKS.names()))
    if unknown:
        raise InvalidField(name, f"unknown checks {unknown}", hint=f"use {CHECKS.names()}", location="form")
    changes: dict[str, bool] = {}
    if everything_off and len(wanted) < len(CHECKS.names()):
        changes["all"] = True  # evaluate_constraints was Disabled: switch on, then off what stays ticked
        return changes | {c: False for c in CHECKS.names() if c in wanted}
    changes.update({c: c not in wanted for c in CHECKS.names() if (c in wanted) != (c in current)})
    return changes


def patch_from_form(documents: Mapping[str, dict[str, Any]], form_values: FormValues) -> ConstraintsPatch:
    """Only what the form changed, as the PATCH body would say it; a form field in every error."""
    constraints = _constraints(documents)
    glob = constraints.settings_for(_GLOBAL)
    dist = constraints.monitoring_config.distribution_constraints
    body: dict[str, Any] = {}
    drift: dict[str, Any] = {}
    if (method := _changed_method(form_values, "drift.method", dist.comparison_method)) is not None:
        drift["method"] = method
    changed, value = _changed_number(form_values, "drift.threshold", dist.comparison_threshold)
    if changed:
        drift["threshold"] = value
    if (method := _changed_method(form_values, "drift.categorical_method",
                                  dist.categorical_drift_method or LINFINITY)) is not None:
        drift["categorical_method"] = method
    changed, value = _changed_number(form_values, "drift.categorical_threshold", glob.categorical_threshold)
    if changed:
        drift["categorical_threshold"] = value
    if drift:
        body["drift"] = drift
    checks = _check_changes(form_values, "checks.disabled", _disabled(glob), not glob.evaluate,
                            "checks.disabled" + PRESENT in form_values)
    if checks:
        body["checks"] = checks
    features: dict[str, Any] = {}
    for feature in constraints.features:
        prefix, edit = f"features.{feature.name}", {}
        settings = constraints.settings_for(feature.name)
        kind = column_kind(feature.inferred_type)
        if kind is not None:
            method, threshold = settings.drift(kind)
            if (new_method := _changed_method(form_values, f"{prefix}.drift_method", method)) is not None:
                edit["drift_method"] = new_method
            changed, value = _changed_number(form_values, f"{prefix}.drift_threshold", threshold)
            if changed:
                edit["drift_threshold"] = value
        changed, value = _changed_number(form_values, f"{prefix}.completeness", feature.completeness)
        if changed:
            edit["completeness"] = value
        feature_checks = _check_changes(form_values, f"{prefix}.disabled", _disabled(settings), not settings.evaluate,
                                        f"{prefix}.disabled{PRESENT}" in form_values)
        if feature_checks:
            edit["checks"] = feature_checks
        if edit:
            features[feature.name] = edit
    if features:
        body["features"] = features
    try:
        return ConstraintsPatch.model_validate(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        raise InvalidField(field, str(error["msg"]), location="form") from None
