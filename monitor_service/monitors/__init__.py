"""Monitor types as plugins: one package per type, registered here once.

`MONITORS` is the registry the CLI, the REST API, the store, the scheduler and the metrics
iterate; `monitor_service.monitors.base.MonitorPlugin` says what a plugin declares. To add a
monitor type, add a package `monitor_service/monitors/<type>/` whose `PLUGIN` is a
`MonitorPlugin`, and list it in `BUILTIN` below.
"""

from __future__ import annotations

from importlib import import_module

from monitor_service.core.registry import Registry
from monitor_service.monitors.base import MonitorPlugin

# The packages of the built-in monitor types, in the order the CLI and the docs list them.
BUILTIN: tuple[str, ...] = ("data_quality", "model_quality", "model_bias", "model_explainability")


def builtin_monitors() -> Registry[MonitorPlugin]:
    """A fresh registry of every built-in monitor type."""
    registry: Registry[MonitorPlugin] = Registry("monitor type")
    for package in BUILTIN:
        plugin = import_module(f"{__name__}.{package}").PLUGIN
        if not isinstance(plugin, MonitorPlugin):
            raise TypeError(f"{__name__}.{package}.PLUGIN is not a MonitorPlugin")
        registry.register(plugin.monitor_type, plugin)
    return registry


def replace_jobs(registry: Registry[MonitorPlugin], jobs: dict[str, tuple[object, object]]) -> Registry[MonitorPlugin]:
    """A copy of `registry` whose listed monitor types run the given (analyze, baseline) functions."""
    out: Registry[MonitorPlugin] = Registry(registry.what)
    for name in registry.names():
        plugin = registry.get(name)
        if name in jobs:
            analyze, baseline = jobs[name]
            plugin = plugin.with_jobs(analyze=analyze, baseline=baseline)  # type: ignore[arg-type]
        out.register(name, plugin)
    return out


MONITORS: Registry[MonitorPlugin] = builtin_monitors()

__all__ = ["BUILTIN", "MONITORS", "MonitorPlugin", "builtin_monitors", "replace_jobs"]
