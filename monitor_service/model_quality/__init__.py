"""Model-quality monitoring: metrics, statistics, constraints, CBPE and the label store.

Pure Python (no Spark): the Spark job in `monitor_service.spark.model_metrics` reduces a window
to small aggregates and hands them to the metric registry here. Importing the package
registers every metric family, in SageMaker's key order.
"""

from monitor_service.model_quality import binary, multiclass, regression
from monitor_service.model_quality.metrics import METRICS
from monitor_service.model_quality.problem import BLOCKS, PROBLEM_TYPES, ModelQualityAttributes, ProblemType

__all__ = ["BLOCKS", "METRICS", "PROBLEM_TYPES", "ModelQualityAttributes", "ProblemType",
           "binary", "multiclass", "regression"]
