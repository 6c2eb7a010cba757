"""Clarify's bias `analysis.json`: written by every bias job, and read back as the baseline constraint.

```json
{"version": "1.0",
 "post_training_bias_metrics": {"label": "Target", "facets": {"Sex": [{"value_or_threshold": "0",
     "metrics": [{"name": "AD", "description": "Accuracy Difference (AD)", "value": -0.15}, ...]}]},
   "label_value_or_threshold": "1"},
 "pre_training_bias_metrics": {...}}
```
Values are JSON numbers, `null` with an `"error"` when not computable, and the strings
`"Infinity"` / `"-Infinity"` for infinite values (Clarify's `inf_as_str`). A baseline file is
validated against the `clarify_bias_analysis` JSON Schema and then read into `BaselineMetrics`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from monitor_service import schemas
from monitor_service.errors import FormatError
from monitor_service.monitors.model_bias.catalog import STAGE_KEYS, Stage
from monitor_service.monitors.model_bias.metrics import MetricResult

SCHEMA_KIND = "clarify_bias_analysis"
_INTERVAL = re.compile(r"^\((?P<lo>[^,]+), (?P<hi>[^\]]+)\]$")


@dataclass
class FacetEntry:
    """One `{"value_or_threshold": ..., "metrics": [...]}` element of a facet's list."""

    value_or_threshold: str
    metrics: list[MetricResult]

    def to_json(self) -> dict[str, Any]:
        return {"value_or_threshold": self.value_or_threshold, "metrics": [m.to_json() for m in self.metrics]}


@dataclass
class StageResult:
    """One stage's block: the label, its positive values or interval, and the entries per facet name."""

    label: str
    label_value_or_threshold: str
    facets: dict[str, list[FacetEntry]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "facets": {name: [e.to_json() for e in entries] for name, entries in self.facets.items()},
            "label_value_or_threshold": self.label_value_or_threshold,
        }


def analysis_document(stages: dict[Stage, StageResult]) -> dict[str, Any]:
    """The whole file, post-training block first as Clarify writes it; infinities become strings."""
    doc: dict[str, Any] = {"version": "1.0"}
    for stage in ("post_training", "pre_training"):
        if stage in stages:
            doc[STAGE_KEYS[stage]] = stages[stage].to_json()
    return _infinities_as_strings(doc)


def _infinities_as_strings(value: Any) -> Any:
    if isinstance(value, float) and math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, dict):
        return {k: _infinities_as_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_infinities_as_strings(v) for v in value]
    return value


def entry_key(value_or_threshold: str) -> tuple[str, str | float]:
    """How entries of a baseline and a window are matched: by value, or for an interval by its threshold.

    A continuous facet's entry is the interval (threshold, max of the data], whose upper end
    changes with every window, so intervals match on their lower end.
    """
    found = _INTERVAL.match(value_or_threshold)
    if found:
        try:
            return ("interval", float(found["lo"]))
        except ValueError:
            pass
    return ("value", value_or_threshold)


def metric_number(value: Any) -> float | None:
    """A metric value as read from analysis.json: a number, "Infinity" / "-Infinity", or None."""
    if value is None:
        return None
    if isinstance(value, str):
        return {"Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}[value]
    return float(value)


@dataclass
class BaselineMetrics:
    """A baseline analysis.json as a lookup: (stage, facet, entry key) -> {metric: value or None}."""

    entries: dict[tuple[Stage, str, tuple[str, str | float]], dict[str, float | None]]
    labels: dict[Stage, str]

    def lookup(self, stage: Stage, facet: str, value_or_threshold: str) -> dict[str, float | None] | None:
        return self.entries.get((stage, facet, entry_key(value_or_threshold)))

    def value_strings(self, stage: Stage, facet: str) -> list[str]:
        return [str(k[2][1]) for k in self.entries if k[0] == stage and k[1] == facet]


def read_baseline(doc: Any, where: str = "baseline analysis.json") -> BaselineMetrics:
    """Validate a Clarify bias analysis.json and index its metrics; `FormatError` names what is wrong."""
    try:
        schemas.validate(SCHEMA_KIND, doc)
    except FormatError as exc:
        raise FormatError(f"{where}: {exc}", hint="pass the analysis.json a bias baseline job wrote") from exc
    entries: dict[tuple[Stage, str, tuple[str, str | float]], dict[str, float | None]] = {}
    labels: dict[Stage, str] = {}
    for stage, key in STAGE_KEYS.items():
        block = doc.get(key)
        if block is None:
            continue
        labels[stage] = str(block.get("label"))
        for facet, facet_entries in block["facets"].items():
            for entry in facet_entries:
                values = {m["name"]: metric_number(m.get("value")) for m in entry["metrics"]}
                entries[(stage, facet, entry_key(str(entry["value_or_threshold"])))] = values
    if not entries:
        raise FormatError(f"{where} holds no facet metrics", hint="pass the analysis.json a bias baseline job wrote")
    return BaselineMetrics(entries, labels)
