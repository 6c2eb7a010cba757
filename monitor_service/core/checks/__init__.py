"""Data-quality checks, one module each, registered on import under SageMaker's check type names.

The import order below is the registration order, i.e. the order of SageMaker's documented
`constraint_check_type` list (sagemaker_formats.md §5.1).
"""

# isort: off
from monitor_service.core.checks import data_type_check, completeness_check, baseline_drift_check  # noqa: F401
from monitor_service.core.checks import missing_column_check, extra_column_check  # noqa: F401
from monitor_service.core.checks import categorical_values_check  # noqa: F401

# isort: on
from monitor_service.core.checks.registry import CHECKS, Check, FeatureContext, Finding, get, names, run_check

__all__ = ["CHECKS", "Check", "FeatureContext", "Finding", "get", "names", "run_check"]
