"""Feature-attribution drift (SageMaker Clarify's ModelExplainability monitor), on Spark with `shap`.

A baseline job explains a dataset with SHAP and writes Clarify's `analysis.json` (global SHAP
values per label and the expected value); an analysis job explains one window the same way and
compares, per label, the window's feature ranking with the baseline's by nDCG
(`constraint_violations.json` below the threshold, 0.9 by default). Tree models are explained
exactly by `shap.TreeExplainer`, other models by `shap.KernelExplainer`; rows are spread over
Spark partitions with the model and background broadcast once.

Modules: `config` (the analysis config), `background` (SHAP background rows), `explainers`
(which explainer, and explaining a batch), `aggregation` and `ndcg` (pure numbers),
`documents` (analysis.json, violations, upload checks), `spark_explain` (distribution),
`report` (report.html), `requests` / `job` (the jobs), `settings` / `cli_args` / `plugin` (the
service's settings, command-line flags and the plugin registered as `PLUGIN`).
"""

from monitor_service.monitors.model_explainability.plugin import PLUGIN
from monitor_service.monitors.model_explainability.settings import MONITOR_TYPE

__all__ = ["MONITOR_TYPE", "PLUGIN"]
