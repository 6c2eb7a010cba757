"""Clarify's bias-drift `constraint_violations.json`, in the shape SageMaker's monitor writes it.

```json
{"version": "1.0", "violations": [{"facet": "Sex", "facet_value": "0", "metric_name": "CDDPL",
  "constraint_check_type": "bias_drift_check",
  "description": "Metric value 0.37 doesn't meet the baseline constraint requirement 0.28"}]}
```
There is no `feature_name` field; `facet_value` is the window's `value_or_threshold`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitor_service.monitors.model_bias.drift import CHECK_TYPE, Check

SCHEMA_KIND = "clarify_bias_constraint_violations"


@dataclass(frozen=True)
class Violation:
    facet: str
    facet_value: str
    check: Check

    def to_json(self) -> dict[str, str]:
        return {
            "facet": self.facet,
            "facet_value": self.facet_value,
            "metric_name": self.check.metric,
            "constraint_check_type": CHECK_TYPE,
            "description": self.check.description(),
        }


def violations_document(violations: list[Violation]) -> dict[str, Any]:
    ordered = sorted(violations, key=lambda v: (v.facet, v.facet_value, v.check.metric))
    return {"version": "1.0", "violations": [v.to_json() for v in ordered]}
