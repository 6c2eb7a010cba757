"""Deequ's anomaly strategies over a metric series (the sidecar's `detect`), against numpy arithmetic.

Each case is chosen so the expected answer follows from the strategy's definition with a wide
margin, computed here with numpy: a rate of change outside its bounds, a jump beyond a threshold,
a value many standard deviations from the history's mean.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from monitor_service.core.profile import ColumnProfile, DatasetProfile, NumericState
from monitor_service.core.types import InferredType
from monitor_service.deequ.checks import AnomalyCheck, DeequChecks
from monitor_service.deequ.client import Deequ
from monitor_service.deequ.engine import _anomalies
from monitor_service.deequ.history import MetricHistory

pytestmark = [pytest.mark.spark, pytest.mark.deequ]

RNG = np.random.default_rng(7)
STEADY = list(np.round(10 + RNG.normal(0, 0.1, 30), 4))


def _cases() -> list[tuple[list[float], dict[str, Any], bool]]:
    history = np.asarray(STEADY)
    spread = history.std(ddof=1)
    assert abs(50 - history.mean()) > 100 * spread and abs(10.05 - history.mean()) < 3 * spread
    last = STEADY[-1]
    return [
        ([*STEADY, 50.0], {"strategy": "RelativeRateOfChangeStrategy", "maxRateDecrease": 0.8,
                           "maxRateIncrease": 1.25}, 50.0 / last > 1.25),
        ([*STEADY, 10.05], {"strategy": "RelativeRateOfChangeStrategy", "maxRateDecrease": 0.8,
                            "maxRateIncrease": 1.25}, not 0.8 <= 10.05 / last <= 1.25),
        ([*STEADY, 7.0], {"strategy": "AbsoluteChangeStrategy", "maxRateDecrease": -1.0, "maxRateIncrease": 1.0},
         abs(7.0 - last) > 1.0),
        ([*STEADY, 12.0], {"strategy": "SimpleThresholdStrategy", "lowerBound": 0.0, "upperBound": 11.0}, 12.0 > 11.0),
        ([*STEADY, 50.0], {"strategy": "OnlineNormalStrategy"}, True),
        ([*STEADY, 10.05], {"strategy": "OnlineNormalStrategy"}, False),
        ([*STEADY, 50.0], {"strategy": "BatchNormalStrategy"}, True),
        ([*STEADY, 10.05], {"strategy": "BatchNormalStrategy"}, False),
    ]


def test_strategies_flag_the_newest_value(spark: Any, deequ_runtime: None) -> None:
    cases = _cases()
    found = Deequ(spark).run("detect", None, items=[{"series": s, "strategy": st} for s, st, _ in cases])
    for (series, strategy, expected), anomalies in zip(cases, found, strict=True):
        assert bool(anomalies) is bool(expected), (strategy, series[-1], anomalies)
        for anomaly in anomalies:  # only the newest point is asked about
            assert anomaly["index"] == len(series) - 1 and anomaly["value"] == series[-1]


def test_anomaly_checks_become_violations(spark: Any, deequ_runtime: None) -> None:
    """The window's metric is judged against the history; no history, no judgement; a missing
    deviation factor is no bound on that side."""
    block = DeequChecks.from_json([
        {"check": "anomaly", "column": "x", "metric": "mean", "strategy": {"strategy": "BatchNormalStrategy"},
         "severity": "error"},
        {"check": "anomaly", "column": "y", "metric": "mean", "strategy": {"strategy": "BatchNormalStrategy"}},
        # no upper bound: a rise is never an anomaly for this one
        {"check": "anomaly", "column": "x", "metric": "mean",
         "strategy": {"strategy": "OnlineNormalStrategy", "upperDeviationFactor": None}},
    ])
    assert all(isinstance(a, AnomalyCheck) for a in block.anomaly_checks)
    window = DatasetProfile(item_count=10, columns=[
        ColumnProfile(name=name, inferred_type=InferredType.FRACTIONAL, num_present=10, num_missing=0,
                      numeric=NumericState(count=10, sum=500, mean=50.0, std_dev=1, min=49, max=51))
        for name in ("x", "y")])
    history = MetricHistory.model_validate({"features": {"x": {"mean": [
        {"time": f"2024-05-{day:02d}T00:00:00Z", "value": value} for day, value in enumerate(STEADY[:20], 1)]}}})
    violations = _anomalies(Deequ(spark), block, window, history, lambda _: None)
    assert [(v.feature_name, v.constraint_check_type) for v in violations] == [("x", "deequ_anomaly_check")]
    assert violations[0].description.startswith("error: anomaly(x.mean, BatchNormalStrategy): this window's mean 50")
    assert "given 20 earlier windows" in violations[0].description
