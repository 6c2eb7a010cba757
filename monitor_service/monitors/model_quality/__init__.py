"""The model-quality monitor: metrics, statistics, constraints and the CBPE estimate.

The metric code is pure Python (no Spark): the Spark job in `spark_metrics` reduces a window to
small aggregates and hands them to the metric registry here. Importing the package registers
every metric family, in SageMaker's key order, and the monitor's plugin (`PLUGIN`).
"""

from monitor_service.monitors.model_quality import binary, multiclass, regression
from monitor_service.monitors.model_quality.metrics import METRICS
from monitor_service.monitors.model_quality.plugin import PLUGIN
from monitor_service.monitors.model_quality.problem import BLOCKS, PROBLEM_TYPES, ModelQualityAttributes, ProblemType

__all__ = ["BLOCKS", "METRICS", "PLUGIN", "PROBLEM_TYPES", "ModelQualityAttributes", "ProblemType",
           "binary", "multiclass", "regression"]
