"""The bias-drift monitor (`ModelBias`): SageMaker Clarify's bias metrics, baselined and checked over time.

Modules, by what they hold:
- `config`: Clarify's `analysis_config.json` (validated as it is, unknown keys kept) and `load_config`.
- `attributes`: where the prediction, probability and label are in a record (job-input locators).
- `column_types`: Clarify's categorical / continuous typing of facet and label columns.
- `facets`: how a facet column is split into the sensitive group d and the rest a.
- `counts`: the count table (facet group x label x prediction x group variable) all metrics use.
- `conventions`: Clarify's division conventions (0/0 = 0, x/0 = +-Infinity).
- `pretraining`, `posttraining`, `flip_test`, `metrics`: the metric maths (numpy, no Spark).
- `analysis_document`: Clarify's `analysis.json`, written and read.
- `drift`: the bias-drift rule (bootstrap confidence interval against the baseline's allowed range).
- `violations`: Clarify's bias-drift `constraint_violations.json`.
- `spark_counts`: the Spark adapter (one profile and one count aggregation, the flip-test sample).
- `report`: the per-run `report.html`; `requests`, `job`, `checking`, `plan`, `evaluate`: the jobs;
  `cli_args` and `plugin`: the command line and the service (the registered `PLUGIN`).
"""

from monitor_service.monitors.model_bias.plugin import PLUGIN

__all__ = ["PLUGIN"]
