"""Drift methods: one module per method, each registered when this package is imported.

The import order below is the registration order: SageMaker's own methods first, then the
others. It fixes the order of `names()` and of the keys in `drift_metrics`.
"""

# isort: off
from monitor_service.core.drift import linf_simple, linf_robust, chi_squared  # noqa: F401
from monitor_service.core.drift import psi, jensen_shannon, wasserstein, ks  # noqa: F401

# isort: on
from monitor_service.core.drift.registry import (
    DRIFT_METHODS,
    ColumnKind,
    DriftMethod,
    NumericPair,
    column_kind,
    get,
    methods_for,
    names,
)

__all__ = [
    "DRIFT_METHODS",
    "ColumnKind",
    "DriftMethod",
    "NumericPair",
    "column_kind",
    "get",
    "methods_for",
    "names",
]
