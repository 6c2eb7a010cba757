"""The pure core must not pull in Spark, the web stack or the database layer (aesthetics §8 rule 2)."""

from __future__ import annotations

import subprocess
import sys

import pytest

PURE_MODULES = [
    "monitor_service.core.analysis",
    "monitor_service.core.constraints",
    "monitor_service.core.constraint_edits",
    "monitor_service.core.merge",
    "monitor_service.core.statistics",
    "monitor_service.core.checks.registry",
    "monitor_service.core.drift.registry",
    "monitor_service.monitors.model_quality.metrics",
    "monitor_service.monitors.model_quality.constraints",
    "monitor_service.monitors.model_quality.statistics",
    "monitor_service.monitors.model_quality.cbpe",
    "monitor_service.specs",
    "monitor_service.predictor",
    "monitor_service.monitors.model_explainability.ndcg",
    "monitor_service.monitors.model_explainability.documents",
    "monitor_service.monitors.model_explainability.config",
    "monitor_service.monitors.model_explainability.plugin",
]
FORBIDDEN = ("pyspark", "fastapi", "starlette", "sqlalchemy", "alembic", "matplotlib", "plotly")


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_module_imports_no_framework(module: str) -> None:
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({FORBIDDEN!r})))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", f"{module} imports {result.stdout.strip()}"
