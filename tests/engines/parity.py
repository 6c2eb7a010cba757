"""Running one data-quality job on both engines and comparing everything they wrote.

The Spark engine is the reference (its own tests check it against independently computed
values); the DuckDB engine must write the same: equal counts, quarantine files, column names,
types, completeness, type counts, histograms, constraints and violations; numeric moments to
1e-9 relative; quantiles within the KLL sketches' rank error; distinct counts equal while the
HLL sketch counts exactly (few values) and within its error otherwise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from monitor_service.core.profile import ColumnProfile, DatasetProfile
from monitor_service.core.statistics import read_statistics
from monitor_service.monitors.data_quality.analysis_job import run_analysis
from monitor_service.monitors.data_quality.baseline_job import run_baseline
from monitor_service.monitors.data_quality.requests import AnalyzeRequest, BaselineRequest
from monitor_service.runner.summary import RunSummary
from monitor_service.specs import InputSpec

ENGINES = ("spark", "duckdb")
# KLL k=2048 keeps every value up to 2048 items (then both engines' quantiles are exact); above,
# DataSketches' normalized rank error for k=2048 is about 0.2 %, so 1 % is a safe bound.
RANK_TOLERANCE = 0.01
# DataSketches HLL lgK=12 counts exactly in its list/set modes (under ~380 distinct values);
# above, the relative standard error is 1.6 %.
EXACT_DISTINCT = 300


@dataclass
class Run:
    engine: str
    summary: RunSummary
    out: Path

    def json(self, name: str) -> Any:
        path = self.out / name
        return json.loads(path.read_text()) if path.exists() else None

    def samples(self) -> list[dict[str, Any]]:
        path = self.out / "quarantine" / "samples.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def baselines(spark: Any, spec: InputSpec, root: Path) -> dict[str, Run]:
    out = {}
    for engine in ENGINES:
        folder = root / f"baseline-{engine}"
        summary = run_baseline(spark if engine == "spark" else None,
                               BaselineRequest(input=spec, output_dir=str(folder), engine=engine))
        out[engine] = Run(engine, summary, folder)
    return out


def analyses(spark: Any, spec: InputSpec, statistics: Path, constraints: Path, root: Path) -> dict[str, Run]:
    out = {}
    for engine in ENGINES:
        folder = root / f"analysis-{engine}"
        request = AnalyzeRequest(input=spec, baseline_statistics=str(statistics),
                                 baseline_constraints=str(constraints), output_dir=str(folder), engine=engine)
        out[engine] = Run(engine, run_analysis(spark if engine == "spark" else None, request), folder)
    return out


def assert_same_runs(runs: dict[str, Run]) -> None:
    """Everything both engines wrote for one job agrees (see the module docstring)."""
    spark, duck = runs["spark"], runs["duckdb"]
    assert duck.summary.status == spark.summary.status, (duck.summary.failure_reason, spark.summary.failure_reason)
    for field in ("records_read", "records_analyzed", "records_quarantined", "columns_dropped", "features",
                  "violations", "violations_by_check", "check_errors"):
        assert getattr(duck.summary, field) == getattr(spark.summary, field), field
    if spark.summary.status == "Failed":
        assert duck.summary.failure_reason == spark.summary.failure_reason
        return
    assert duck.json("quarantine/counts.json") == spark.json("quarantine/counts.json")
    assert_same_samples(spark.samples(), duck.samples(), spark.json("quarantine/counts.json"))
    assert duck.json("constraints.json") == spark.json("constraints.json")
    if spark.json("constraint_violations.json") is not None:
        assert _violations(duck) == _violations(spark)
    assert_same_profiles(read_statistics(str(spark.out / "statistics.json")).profile,
                         read_statistics(str(duck.out / "statistics.json")).profile)


def _violations(run: Run) -> list[tuple[str, str, str]]:
    return sorted((v["feature_name"], v["constraint_check_type"], v["description"])
                  for v in run.json("constraint_violations.json")["violations"])


def assert_same_samples(spark: list[dict[str, Any]], duck: list[dict[str, Any]], counts: Any) -> None:
    by_reason: dict[str, int] = {}
    for sample in spark:
        by_reason[sample["reason"]] = by_reason.get(sample["reason"], 0) + 1
    assert sorted(s["reason"] for s in duck) == sorted(s["reason"] for s in spark)
    for reason, sampled in by_reason.items():
        if counts["by_reason"][reason] == sampled:  # every offending row was sampled: the same rows
            assert _rows(duck, reason) == _rows(spark, reason), reason


def _rows(samples: list[dict[str, Any]], reason: str) -> list[str]:
    return sorted(json.dumps(s, sort_keys=True) for s in samples if s["reason"] == reason)


def assert_same_profiles(spark: DatasetProfile, duck: DatasetProfile) -> None:
    assert duck.item_count == spark.item_count
    assert [c.name for c in duck.columns] == [c.name for c in spark.columns]
    for s, d in zip(spark.columns, duck.columns, strict=True):
        assert_same_column(s, d)


def assert_same_column(s: ColumnProfile, d: ColumnProfile) -> None:
    where = s.name
    assert (d.inferred_type, d.num_present, d.num_missing, d.completeness) == (
        s.inferred_type, s.num_present, s.num_missing, s.completeness), where
    assert d.type_counts == s.type_counts, where
    assert d.histogram == s.histogram, where
    if s.distinct_count is not None and s.distinct_count <= EXACT_DISTINCT:
        assert d.distinct_count == s.distinct_count, where
    elif s.distinct_count is not None:
        assert d.distinct_count == pytest.approx(s.distinct_count, rel=0.05), where
    assert (d.numeric is None) == (s.numeric is None), where
    if s.numeric is None or d.numeric is None:
        return
    sn, dn = s.numeric, d.numeric
    assert dn.count == sn.count, where
    for field in ("sum", "mean", "std_dev", "min", "max"):
        assert getattr(dn, field) == pytest.approx(getattr(sn, field), rel=1e-9, abs=1e-12), (where, field)
    assert sn.kll is not None and dn.kll is not None
    assert dn.kll.n == sn.kll.n, where
    if sn.kll.n <= 2048:
        assert sorted(v for level in dn.kll.levels for v in level) == sorted(v for level in sn.kll.levels
                                                                             for v in level), where
        return
    grid = np.quantile(np.concatenate([np.asarray(lv, float) for lv in sn.kll.levels if lv]), np.linspace(0, 1, 41))
    gap = np.max(np.abs(np.asarray(sn.kll.cdf(grid)) - np.asarray(dn.kll.cdf(grid))))
    assert gap <= RANK_TOLERANCE, (where, gap)
