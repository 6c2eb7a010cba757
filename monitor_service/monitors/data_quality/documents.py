"""Checking uploaded SageMaker data-quality `statistics.json` / `constraints.json` documents.

Documents are validated by the engine's own readers (`core.statistics`, `core.constraints`), so
the service accepts exactly what the analysis job can use.
"""

from __future__ import annotations

from typing import Any

from monitor_service.core.constraints import Constraints
from monitor_service.core.statistics import from_statistics_json
from monitor_service.deequ.checks import DeequChecks
from monitor_service.errors import FormatError


def validate_statistics(document: dict[str, Any]) -> dict[str, Any]:
    """Raise ValueError (a 422 on the field) unless the engine can read this statistics.json."""
    try:
        from_statistics_json(document, "statistics")
    except FormatError as exc:
        raise ValueError(str(exc)) from None
    return document


def validate_constraints(document: dict[str, Any]) -> dict[str, Any]:
    """Raise ValueError unless the engine can read this constraints.json."""
    try:
        Constraints.from_dict(document, "constraints")
    except FormatError as exc:
        raise ValueError(str(exc)) from None
    if not document.get("features"):
        raise ValueError("constraints has no features; a baseline needs at least one")
    try:
        DeequChecks.from_json(document.get("deequ_checks"), "constraints")
    except FormatError as exc:
        raise ValueError(str(exc)) from None
    return document
