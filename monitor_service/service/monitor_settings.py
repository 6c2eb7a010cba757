"""Finding a request's monitor type in the registry and the settings that type carries.

A schedule or baseline-job request names its `monitor_type` and may carry settings objects in
body fields named after the types (`model_quality`, ...); exactly the type's own field is allowed,
and required when the type has settings that must be given (`settings_required`).
"""

from __future__ import annotations

from typing import Any

from monitor_service.core.registry import Registry
from monitor_service.errors import InvalidField
from monitor_service.monitors.base import MonitorPlugin


def resolve_monitor(monitors: Registry[MonitorPlugin], monitor_type: str) -> tuple[str, MonitorPlugin]:
    """The canonical name and the plugin of `monitor_type`; an unknown type is a 422 on `monitor_type`."""
    if monitor_type not in monitors:
        raise InvalidField("monitor_type", f"unknown monitor type {monitor_type!r}",
                           hint=f"use one of {monitors.names()}")
    return monitors.canonical(monitor_type), monitors.get(monitor_type)


def monitor_settings(plugin: MonitorPlugin, monitor_type: str,
                     given: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The settings of `monitor_type` among the settings objects of a request (one body field per type)."""
    wanted = plugin.settings_field
    for name in given:
        if name != wanted:
            raise InvalidField(name, f"{monitor_type} monitors take no {name} settings")
    if wanted is None:
        return None
    assert plugin.settings_model is not None
    if wanted not in given or given[wanted] is None:
        if not plugin.settings_required:
            return None
        raise InvalidField(wanted, f"{monitor_type} monitors need {wanted} settings",
                           hint="see the request schema at /docs")
    return plugin.settings_model.model_validate(given[wanted]).model_dump(mode="json")
