"""Which code runs each monitor type: the one place a new monitor plugs into schedules.

The runners are imported lazily so that the API process never imports Spark. A ModelQuality
monitor (or bias, attribution) registers its own pair here and every schedule, execution,
violation and alert feature works for it unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from monitor_service.core.registry import Registry
from monitor_service.runner.requests import AnalyzeRequest, BaselineRequest
from monitor_service.runner.summary import RunSummary

AnalyzeFn = Callable[[Any, AnalyzeRequest], RunSummary]
BaselineFn = Callable[[Any, BaselineRequest], RunSummary]


@dataclass(frozen=True)
class Monitor:
    """How to analyse a window (and optionally baseline a dataset) for one monitor type."""

    analyze: AnalyzeFn
    baseline: BaselineFn | None = None


def _data_quality_analyze(spark: Any, request: AnalyzeRequest) -> RunSummary:
    from monitor_service.runner.analyze import run_analysis

    return run_analysis(spark, request)


def _data_quality_baseline(spark: Any, request: BaselineRequest) -> RunSummary:
    from monitor_service.runner.baseline import run_baseline

    return run_baseline(spark, request)


MONITORS: Registry[Monitor] = Registry("monitor type")
MONITORS.register("DataQuality", Monitor(analyze=_data_quality_analyze, baseline=_data_quality_baseline))

