"""The check registry and the per-feature loop that turns crashes into error rows.

A check is a function `(baseline, window, constraints) -> Iterable[Violation | CheckError]`,
registered under its SageMaker `constraint_check_type`. Most checks look at one feature at a
time; `feature_check` wraps such a function in the common loop: features listed in the
constraints and present in the window, skipped when evaluation or that check is disabled for the
feature, and an exception for one feature becomes a `CheckError` while the others still run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from monitor_service.core.constraints import Constraints, FeatureConstraint, FeatureSettings
from monitor_service.core.profile import ColumnProfile, DatasetProfile
from monitor_service.core.registry import Registry
from monitor_service.core.violations import CheckError, Violation

Finding = Violation | CheckError
CheckFn = Callable[[DatasetProfile, DatasetProfile, Constraints], Iterable[Finding]]


@dataclass(frozen=True)
class Check:
    name: str
    run: CheckFn
    doc: str


@dataclass(frozen=True)
class FeatureContext:
    """Everything a per-feature check may read; `baseline` is None for a feature the baseline lacks."""

    constraint: FeatureConstraint
    settings: FeatureSettings
    baseline: ColumnProfile | None
    window: ColumnProfile


FeatureCheckFn = Callable[[FeatureContext], Violation | None]

CHECKS: Registry[Check] = Registry("check")


def register(name: str) -> Callable[[CheckFn], CheckFn]:
    """Register a dataset-level check under `name` (its constraint_check_type)."""

    def decorate(fn: CheckFn) -> CheckFn:
        CHECKS.register(name, Check(name=name, run=fn, doc=(fn.__doc__ or "").strip()))
        return fn

    return decorate


def feature_check(name: str) -> Callable[[FeatureCheckFn], FeatureCheckFn]:
    """Register a per-feature check: the loop, the enable flags and error capture live here."""

    def decorate(fn: FeatureCheckFn) -> FeatureCheckFn:
        def run(baseline: DatasetProfile, window: DatasetProfile, constraints: Constraints) -> Iterator[Finding]:
            baseline_columns, window_columns = baseline.by_name(), window.by_name()
            for constraint in constraints.features:
                column = window_columns.get(constraint.name)
                settings = constraints.settings_for(constraint.name)
                if column is None or not settings.check_enabled(name):
                    continue
                context = FeatureContext(constraint, settings, baseline_columns.get(constraint.name), column)
                try:
                    violation = fn(context)
                except Exception as exc:  # a failing check is a value, not a failed job
                    yield CheckError(name, constraint.name, error_message(exc))
                    continue
                if violation is not None:
                    yield violation

        CHECKS.register(name, Check(name=name, run=run, doc=(fn.__doc__ or "").strip()))
        return fn

    return decorate


def error_message(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def run_check(
    check: Check, baseline: DatasetProfile, window: DatasetProfile, constraints: Constraints
) -> list[Finding]:
    """Run one check to completion; a crash outside the per-feature loop is one error row."""
    findings: list[Finding] = []
    try:
        findings.extend(check.run(baseline, window, constraints))
    except Exception as exc:
        findings.append(CheckError(check.name, None, error_message(exc)))
    return findings


def get(name: str) -> Check:
    return CHECKS.get(name)


def names() -> list[str]:
    return CHECKS.names()
