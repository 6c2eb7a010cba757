"""Evaluating a deployment's gates: a window of the new variant's traffic, or a monitor's verdict.

Pure: the controller reads the window (summed over every gateway process's metric samples) and
the newest monitoring execution from the database and hands them here. p99 comes from the
`ModelLatency` histogram buckets: the upper bound of the first bucket holding the 99th
percentile, so it is never under-estimated (a gate errs towards rolling back).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from monitor_service.rollout.specs import Gate

GateStatus = Literal["Pass", "Fail", "Inconclusive"]


@dataclass
class MetricWindow:
    """Counts over a window: invocations, 5xx failures and latency bucket counts (microseconds)."""

    invocations: int = 0
    errors_5xx: int = 0
    bucket_bounds: Sequence[float] = ()
    bucket_counts: list[int] = field(default_factory=list)

    def add(self, invocations: int, errors_5xx: int, counts: Sequence[int]) -> None:
        self.invocations += invocations
        self.errors_5xx += errors_5xx
        if not self.bucket_counts:
            self.bucket_counts = [0] * len(counts)
        for i, c in enumerate(counts):
            self.bucket_counts[i] += c

    def quantile_us(self, q: float) -> float | None:
        """Upper bound of the bucket holding quantile q (inf when it is past the last bound)."""
        total = sum(self.bucket_counts)
        if total == 0:
            return None
        rank = math.ceil(q * total)
        seen = 0
        for i, c in enumerate(self.bucket_counts):
            seen += c
            if seen >= rank:
                return float(self.bucket_bounds[i]) if i < len(self.bucket_bounds) else math.inf
        return math.inf


@dataclass(frozen=True)
class MonitorVerdict:
    """The newest monitoring execution that counts for a gate (None fields: nothing yet)."""

    execution_id: str | None
    status: str | None
    violations: int
    violated_metrics: tuple[str, ...] = ()


@dataclass(frozen=True)
class GateResult:
    gate: str
    status: GateStatus
    value: float | None
    threshold: float
    detail: str


def evaluate(gate: Gate, window: MetricWindow, verdict: MonitorVerdict | None = None) -> GateResult:
    """One evaluation of `gate` over `window` (traffic gates) or `verdict` (monitor gates)."""
    if gate.Metric in ("Invocation5XXErrorRate", "ModelLatencyP99"):
        if window.invocations < max(1, gate.MinInvocations):
            return GateResult(gate.Name, "Inconclusive", None, gate.Threshold, f"{window.invocations} invocations "
                              f"in the window, fewer than {max(1, gate.MinInvocations)}")
        if gate.Metric == "Invocation5XXErrorRate":
            rate = window.errors_5xx / window.invocations
            status: GateStatus = "Fail" if rate > gate.Threshold else "Pass"
            return GateResult(gate.Name, status, rate, gate.Threshold,
                              f"{window.errors_5xx} of {window.invocations} invocations failed with 5xx")
        p99_us = window.quantile_us(0.99)
        p99_ms = None if p99_us is None else p99_us / 1000
        if p99_ms is None:
            return GateResult(gate.Name, "Inconclusive", None, gate.Threshold, "no latency observed")
        status = "Fail" if p99_ms > gate.Threshold else "Pass"
        return GateResult(gate.Name, status, p99_ms, gate.Threshold,
                          f"p99 ModelLatency <= {p99_ms:g} ms over {sum(window.bucket_counts)} answers")
    if verdict is None or verdict.execution_id is None:
        return GateResult(gate.Name, "Inconclusive", None, gate.Threshold,
                          f"no execution of schedule {gate.ScheduleId} over a window after the deployment started yet")
    if verdict.status == "Failed":
        return GateResult(gate.Name, "Inconclusive", None, gate.Threshold,
                          f"execution {verdict.execution_id} failed; it says nothing about the variant")
    if gate.Metric == "DataQualityViolations":
        status = "Fail" if verdict.violations > gate.Threshold else "Pass"
        return GateResult(gate.Name, status, float(verdict.violations), gate.Threshold,
                          f"execution {verdict.execution_id}: {verdict.violations} data-quality violations")
    violated = gate.MetricName in verdict.violated_metrics
    return GateResult(gate.Name, "Fail" if violated else "Pass", 1.0 if violated else 0.0, gate.Threshold,
                      f"execution {verdict.execution_id}: {gate.MetricName} "
                      f"{'violates' if violated else 'meets'} its constraint")
