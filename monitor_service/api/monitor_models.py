"""Request and response models built from the monitor registry, so a new monitor type needs no route edits.

- `request_union` makes one variant of a request body per monitor type (its settings field, its
  baseline documents) and joins them into a union keyed by `monitor_type` (default: the first
  registered type, DataQuality), so the OpenAPI document shows what each type needs.
- `settings_fields` / `document_fields` are the per-type fields of flat models (schedule updates,
  responses): one optional field per type that has settings, one per baseline document name.
- `normalize_errors` rewrites pydantic's union errors into the service's own wording and
  locations (`unknown monitor type 'X'` on `monitor_type`, `ModelQuality monitors need
  model_quality settings` on the field), as if the body were one model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Discriminator, Field, Tag, create_model

from monitor_service.core.registry import Registry
from monitor_service.monitors.base import MonitorPlugin

JsonDocument = dict[str, Any]


def default_type(monitors: Registry[MonitorPlugin]) -> str:
    return monitors.names()[0]


def settings_fields(monitors: Registry[MonitorPlugin]) -> dict[str, tuple[Any, Any]]:
    """`{settings_field: (Model | None, Field(None))}` for every type that has settings."""
    fields: dict[str, tuple[Any, Any]] = {}
    for plugin in monitors:
        if plugin.settings_field is not None and plugin.settings_model is not None:
            need = "Required" if plugin.settings_required else "Optional"
            fields[plugin.settings_field] = (plugin.settings_model | None, Field(
                default=None, description=f"{need} for monitor_type {plugin.monitor_type} (and refused for "
                                          f"others): its {plugin.title} settings"))
    return fields


def document_names(monitors: Registry[MonitorPlugin]) -> list[str]:
    """Every baseline document name of every type, in registration order."""
    names: list[str] = []
    for plugin in monitors:
        names.extend(d.name for d in plugin.documents if d.name not in names)
    return names


def _tag_of(default: str) -> Any:
    def tag(value: Any) -> str | None:
        if isinstance(value, dict):
            given = value.get("monitor_type", default)
            return given if isinstance(given, str) else None
        return getattr(value, "monitor_type", None)

    return tag


def request_union(monitors: Registry[MonitorPlugin], base: type[BaseModel], suffix: str, *,
                  settings: bool = False, documents: bool = False,
                  only: Iterable[str] | None = None) -> Any:
    """A body type: one variant of `base` per monitor type, keyed by `monitor_type`.

    `settings` adds the type's settings field (required when the type has settings); `documents`
    adds each of its baseline documents (required or optional as the type declares).
    """
    default = default_type(monitors)
    wanted = set(only) if only is not None else None
    setting_owners = {p.settings_field: p.monitor_type for p in monitors if p.settings_field is not None}
    variants = []
    for plugin in monitors:
        if wanted is not None and plugin.monitor_type not in wanted:
            continue
        name = plugin.monitor_type
        fields: dict[str, Any] = {"monitor_type": (Literal[name], Field(  # type: ignore[valid-type]
            default=name if name == default else ..., description="The monitor type"))}
        if settings:
            if plugin.settings_field is not None:
                fields[plugin.settings_field] = ((plugin.settings_model, Field(
                    description=f"The {plugin.title} settings")) if plugin.settings_required else
                    (plugin.settings_model | None, Field(default=None, description=f"The {plugin.title} settings "
                                                                                  "(optional)")))
            for other, owner in setting_owners.items():  # another type's settings: only null is accepted
                if other != plugin.settings_field:
                    fields[other] = (None, Field(default=None, description=f"{owner} only: must be null here"))
        if documents:
            for document in plugin.documents:
                fields[document.name] = ((JsonDocument, Field(description=document.description))
                                         if document.required else
                                         (JsonDocument | None, Field(default=None, description=document.description)))
            own = {d.name for d in plugin.documents}
            for other in document_names(monitors):  # another type's documents: only null is accepted
                if other not in own:
                    fields[other] = (None, Field(default=None, description="must be null for this monitor type"))
        model = create_model(f"{name}{suffix}", __base__=base, **fields)  # type: ignore[call-overload]
        variants.append(Annotated[model, Tag(name)])
    if len(variants) == 1:
        return variants[0]
    return Annotated[Union[tuple(variants)], Discriminator(_tag_of(default))]  # noqa: UP007


def normalize_errors(errors: Sequence[Mapping[str, Any]], monitors: Registry[MonitorPlugin]) -> list[dict[str, Any]]:
    """pydantic's errors of a union body, in the words and places of a plain one (see the module docstring)."""
    types = set(monitors.names())
    setting_owner = {p.settings_field: p.monitor_type for p in monitors if p.settings_field}
    document_owners: dict[str, list[str]] = {}
    for plugin in monitors:
        for document in plugin.documents:
            document_owners.setdefault(document.name, []).append(plugin.monitor_type)
    out = []
    for error in errors:
        entry = dict(error)
        loc = list(entry.get("loc", ()))
        kind = entry.get("type")
        if kind == "union_tag_invalid":
            tag = (entry.get("ctx") or {}).get("tag")
            entry.update(loc=[*loc, "monitor_type"], type="value_error",
                         msg=f"unknown monitor type {tag!r}; use one of {monitors.names()}")
            entry.pop("ctx", None)
            out.append(entry)
            continue
        if kind == "union_tag_not_found":
            entry.update(loc=[*loc, "monitor_type"], msg="monitor_type must be a string naming a monitor type")
            out.append(entry)
            continue
        monitor_type = None
        if len(loc) > 1 and loc[0] == "body" and loc[1] in types:
            monitor_type = str(loc[1])
            loc = [loc[0], *loc[2:]]
            entry["loc"] = loc
        if monitor_type is not None and len(loc) == 2:
            field = str(loc[1])
            message = _reworded(monitor_type, field, kind, entry.get("input"), setting_owner, document_owners)
            if message is not None:
                entry["msg"] = message
        out.append(entry)
    return out


def _reworded(monitor_type: str, field: str, kind: Any, given: Any, setting_owner: Mapping[str, str],
              document_owners: Mapping[str, list[str]]) -> str | None:
    missing = kind == "missing" or (given is None and kind in ("model_type", "model_attributes_type", "dict_type"))
    refused = kind in ("extra_forbidden", "none_required")
    if field in setting_owner:
        if setting_owner[field] == monitor_type and missing:
            return f"{monitor_type} monitors need {field} settings"
        if refused:
            return f"{monitor_type} monitors take no {field} settings"
    if field in document_owners:
        if monitor_type in document_owners[field] and missing:
            return f"a {monitor_type} baseline needs {field}"
        if refused:
            others = [t for t in document_owners[field] if t != monitor_type]
            return f"{monitor_type} baselines have no {field} document; only {', '.join(others)} baselines have one"
    return None
