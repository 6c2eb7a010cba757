"""The native one-pass profiler and Amazon Deequ (`--engine deequ`) agree on the same data sets.

Counts, completeness, type counts, inferred types, histograms and moments agree exactly (moments
to 1e-9 relative: the engines sum in different orders); quantiles within the KLL sketches' rank
error; distinct counts exactly for few values (both HLLs count small sets exactly) and within
the sketches' error otherwise. Constraints agree except for the differences docs/deequ.md
explains, which are asserted here with their own formulas. A synthetic data set's numbers are
also checked against pandas / numpy directly.
"""

from __future__ import annotations

import json
import math
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from monitor_service.core.profile import ColumnProfile
from monitor_service.core.statistics import read_statistics
from monitor_service.monitors.data_quality.baseline_job import run_baseline
from monitor_service.monitors.data_quality.requests import BaselineRequest
from monitor_service.specs import DatasetConfig, InputSpec
from tests.engines.test_engine_parity import FIXTURES as PARITY_FIXTURES

pytestmark = [pytest.mark.spark, pytest.mark.deequ]

# The engine-parity fixtures with records to profile (the ground-truth file is all quarantined).
FIXTURES = {name: kind for name, kind in PARITY_FIXTURES.items() if not name.startswith("ground_truth")}
RANK_TOLERANCE = 0.01  # KLL with k=2048: a normalized rank error well under 1 % for both sketches
DISTINCT_TOLERANCE = 0.1  # two standard errors of Deequ's approximate distinct count


def _baselines(spark: Any, spec: InputSpec, root: Path) -> dict[str, Path]:
    out = {}
    for engine in ("spark", "deequ"):
        folder = root / engine
        summary = run_baseline(spark, BaselineRequest(input=spec, output_dir=str(folder), engine=engine))
        assert summary.status == "Completed", summary.failure_reason
        out[engine] = folder
    native, deequ = (json.loads((out[e] / "summary.json").read_text()) for e in ("spark", "deequ"))
    for field in ("records_read", "records_analyzed", "records_quarantined", "features"):
        assert deequ[field] == native[field], field
    assert deequ["engine"] == "deequ" and deequ["deequ_spark_jobs"] >= 3
    return out


def _retain_completeness(p: float, n: float) -> float:
    """Deequ's RetainCompletenessRule: the lower end of the 95 % interval of p, rounded toward 0 to 2 places."""
    bound = Decimal(p - 1.96 * math.sqrt(p * (1 - p) / n)).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    return max(0.0, float(bound))  # below 0 on tiny samples: written as 0 (a completeness is >= 0)


def assert_agree(folders: dict[str, Path]) -> None:
    native = read_statistics(str(folders["spark"] / "statistics.json")).profile
    deequ = read_statistics(str(folders["deequ"] / "statistics.json")).profile
    assert deequ.item_count == native.item_count
    assert [c.name for c in deequ.columns] == [c.name for c in native.columns]
    for n, d in zip(native.columns, deequ.columns, strict=True):
        _same_column(n, d)
    _same_constraints(json.loads((folders["spark"] / "constraints.json").read_text()),
                      json.loads((folders["deequ"] / "constraints.json").read_text()), native.item_count)


def _same_column(n: ColumnProfile, d: ColumnProfile) -> None:
    where = n.name
    assert (d.inferred_type, d.num_present, d.num_missing) == (n.inferred_type, n.num_present, n.num_missing), where
    assert d.type_counts == n.type_counts, where
    assert d.histogram == n.histogram, where
    assert n.distinct_count is not None and d.distinct_count is not None
    # Deequ's HLL++ (512 registers) vs DataSketches HLL: both near-exact for few values, ~5 % rsd above
    assert d.distinct_count == pytest.approx(n.distinct_count, rel=DISTINCT_TOLERANCE, abs=1), where
    assert (d.numeric is None) == (n.numeric is None), where
    if n.numeric is None or d.numeric is None:
        return
    assert d.numeric.count == n.numeric.count, where
    for field in ("sum", "mean", "std_dev", "min", "max"):
        expected = pytest.approx(getattr(n.numeric, field), rel=1e-9, abs=1e-12)
        assert getattr(d.numeric, field) == expected, (where, field)
    assert n.numeric.kll is not None and d.numeric.kll is not None
    assert (d.numeric.kll.k, d.numeric.kll.c) == (2048, 0.64)
    assert d.numeric.kll.n == n.numeric.kll.n, where
    if n.numeric.kll.n <= 2048:  # both sketches still hold every value
        assert sorted(v for lv in d.numeric.kll.levels for v in lv) == sorted(v for lv in n.numeric.kll.levels
                                                                             for v in lv), where


def _same_constraints(native: dict[str, Any], deequ: dict[str, Any], records: float) -> None:
    """Equal, but for Deequ's completeness suggestion (RetainCompletenessRule: a lower bound, and
    nothing at or below 20 % completeness) where SageMaker writes the observed completeness."""
    assert len(native["features"]) == len(deequ["features"])
    for n, d in zip(native["features"], deequ["features"], strict=True):
        n, d = dict(n), dict(d)
        observed = n.pop("completeness")
        suggested = d.pop("completeness", None)
        if observed == 1.0:
            assert suggested == 1.0, n["name"]
        elif observed > 0.2:
            assert suggested == pytest.approx(_retain_completeness(observed, records), abs=1e-12), n["name"]
        else:
            assert suggested is None, n["name"]
        assert d == n


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture(spark: Any, deequ_runtime: None, fixtures_dir: Path, tmp_path: Path, name: str) -> None:
    assert_agree(_baselines(spark, InputSpec(path=str(fixtures_dir / name), format=FIXTURES[name]), tmp_path))


def _synthetic(path: Path, rows: int = 6000) -> pd.DataFrame:
    rng = np.random.default_rng(13)
    frame = pd.DataFrame({
        "age": rng.integers(18, 90, rows).astype(str),
        "income": np.round(rng.normal(50_000, 20_000, rows), 2).astype(str),
        "score": np.round(rng.random(rows), 6).astype(str),
        "color": rng.choice(["red", "green", "blue", "black"], rows, p=[0.4, 0.3, 0.2, 0.1]),
        "flag": rng.choice(["true", "false"], rows),
        "note": [f"n{i}" for i in rng.integers(0, 10**9, rows)],
        "sparse": np.where(rng.random(rows) < 0.15, rng.integers(0, 5, rows).astype(str), ""),
    })
    frame.loc[rng.random(rows) < 0.07, "age"] = ""  # 7 % missing
    frame.to_csv(path, index=False)
    return frame


def test_synthetic_against_pandas(spark: Any, deequ_runtime: None, tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    frame = _synthetic(data).replace("", np.nan)
    spec = InputSpec(path=str(data), format="csv", dataset_config=DatasetConfig(header=True))
    folders = _baselines(spark, spec, tmp_path)
    assert_agree(folders)
    expected_types = {"age": "Integral", "income": "Fractional", "score": "Fractional", "color": "String",
                      "flag": "Boolean", "note": "String", "sparse": "Integral"}
    for engine, folder in folders.items():
        profile = read_statistics(str(folder / "statistics.json")).profile
        assert profile.item_count == len(frame)
        for column in profile.columns:
            values = frame[column.name]
            assert column.inferred_type.value == expected_types[column.name], (engine, column.name)
            assert column.num_present == values.notna().sum(), (engine, column.name)
            if column.numeric is None:
                continue
            numbers = pd.to_numeric(values.dropna()).to_numpy(float)
            assert column.numeric.mean == pytest.approx(numbers.mean(), rel=1e-12)
            assert column.numeric.std_dev == pytest.approx(numbers.std(ddof=0), rel=1e-9)
            assert (column.numeric.min, column.numeric.max) == (numbers.min(), numbers.max())
            assert column.numeric.sum == pytest.approx(numbers.sum(), rel=1e-12)
            kll = column.numeric.kll
            assert kll is not None and kll.n == len(numbers)
            ordered = np.sort(numbers)
            for q in np.linspace(0.05, 0.95, 19):
                # An integer column has ties: the answer's rank is an interval [below, up to and including].
                value = kll.quantile(q)
                below = np.searchsorted(ordered, value, side="left") / len(ordered)
                through = np.searchsorted(ordered, value, side="right") / len(ordered)
                assert below - RANK_TOLERANCE <= q <= through + RANK_TOLERANCE, (engine, column.name, q, below, through)
    deequ_constraints = json.loads((folders["deequ"] / "constraints.json").read_text())
    by_name = {f["name"]: f for f in deequ_constraints["features"]}
    assert by_name["color"]["string_constraints"]["domains"] == ["red", "green", "blue", "black"]
    assert by_name["score"]["num_constraints"]["is_non_negative"] is True
    assert by_name["income"]["num_constraints"]["is_non_negative"] is bool(frame["income"].astype(float).min() >= 0)
    assert "string_constraints" not in by_name["note"]
    assert "completeness" not in by_name["sparse"]  # 15 % complete: Deequ suggests no completeness
