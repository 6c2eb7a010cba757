"""Schedule expressions, offsets and windows (pure; no database)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from monitor_service.errors import ConfigError
from monitor_service.scheduler.expressions import (
    ExpressionError,
    check_fires,
    check_offsets,
    format_offset,
    parse_offset,
    parse_schedule_expression,
    window_for,
)
from tests.fuzz_targets import Target, holds, schedule_targets

T = datetime(2024, 5, 1, 13, 7, tzinfo=UTC)  # a Wednesday


def fires(expression: str, count: int = 3) -> list[str]:
    times = parse_schedule_expression(expression).fire_times(T, T + timedelta(days=8))
    return [f"{t:%a %d %H:%M}" for t in times[:count]]


@pytest.mark.parametrize(("expression", "expected"), [
    ("cron(0 * ? * * *)", ["Wed 01 14:00", "Wed 01 15:00", "Wed 01 16:00"]),
    ("cron(0 0/2 ? * * *)", ["Wed 01 14:00", "Wed 01 16:00", "Wed 01 18:00"]),
    ("cron(0 17/12 ? * * *)", ["Wed 01 17:00", "Thu 02 17:00", "Fri 03 17:00"]),
    ("cron(0 5 ? * * *)", ["Thu 02 05:00", "Fri 03 05:00", "Sat 04 05:00"]),
    ("cron(0 8 ? * 2-6 *)", ["Thu 02 08:00", "Fri 03 08:00", "Mon 06 08:00"]),  # AWS: 1=SUN
    ("cron(0 8 ? * MON *)", ["Mon 06 08:00"]),
    ("0 9 * * 1-5", ["Thu 02 09:00", "Fri 03 09:00", "Mon 06 09:00"]),  # crontab: 0=Sun
    ("0 0 * * 0", ["Sun 05 00:00"]),
    ("0 0 * * 7", ["Sun 05 00:00"]),
    ("*/15 * * * *", ["Wed 01 13:15", "Wed 01 13:30", "Wed 01 13:45"]),
    ("rate(15 minutes)", ["Wed 01 13:15", "Wed 01 13:30", "Wed 01 13:45"]),
    ("rate(1 hour)", ["Wed 01 14:00", "Wed 01 15:00", "Wed 01 16:00"]),
    ("rate(2 days)", ["Fri 03 00:00", "Sun 05 00:00", "Tue 07 00:00"]),  # aligned to the Unix epoch
])
def test_fire_times(expression: str, expected: list[str]) -> None:
    assert fires(expression, len(expected)) == expected


@pytest.mark.parametrize(("expression", "sub_hourly"), [
    ("cron(0 * ? * * *)", False), ("30 * * * *", False), ("*/15 * * * *", True), ("rate(15 minutes)", True),
    ("rate(1 hour)", False),
])
def test_sub_hourly(expression: str, sub_hourly: bool) -> None:
    assert parse_schedule_expression(expression).sub_hourly is sub_hourly


@pytest.mark.parametrize(("expression", "message"), [
    ("", "empty"),
    ("NOW", "one-time run"),
    ("cron(0 * * * * *)", "must be '?'"),
    ("cron(0 * ? * *)", "needs 6 fields"),
    ("cron(0 25 ? * * *)", "higher than the maximum"),
    ("cron(0 0 ? * 2#1 *)", "not supported"),
    ("cron(0 0 ? * 9 *)", "is not a weekday"),
    ("0 0 1 * 1", "ambiguous"),
    ("rate(0 hours)", "at least 1"),
    ("rate(5 weeks)", "is not a rate"),
    ("every hour", "is not a schedule expression"),
])
def test_bad_expressions(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        parse_schedule_expression(expression)


@pytest.mark.parametrize(("text", "delta"), [
    ("-PT1H", timedelta(hours=-1)), ("PT0S", timedelta(0)), ("-P1D", timedelta(days=-1)),
    ("-P1DT2H30M", -timedelta(days=1, hours=2, minutes=30)), ("-P1W", timedelta(weeks=-1)),
])
def test_offsets_round_trip(text: str, delta: timedelta) -> None:
    assert parse_offset(text) == delta
    assert parse_offset(format_offset(delta)) == delta


@pytest.mark.parametrize(("text", "message"), [
    ("-P1M", "no fixed length"), ("P1Y", "no fixed length"), ("-PT", "not an ISO-8601"), ("1H", "not an ISO-8601"),
])
def test_bad_offsets(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        parse_offset(text)


def test_offset_rules() -> None:
    with pytest.raises(ExpressionError, match="in the future"):
        check_offsets(None, timedelta(hours=1))
    with pytest.raises(ExpressionError, match="must be before"):
        check_offsets(timedelta(hours=-1), timedelta(hours=-2))
    check_offsets(timedelta(hours=-2), timedelta(hours=-1))


def test_windows_follow_sagemaker() -> None:
    daily = parse_schedule_expression("cron(0 5 ? * * *)")
    fire = datetime(2020, 2, 20, 5, tzinfo=UTC)
    # The SageMaker doc example: a daily job at 05:00 reads the previous 24 hours.
    assert window_for(daily, fire, None, None) == (datetime(2020, 2, 19, 5, tzinfo=UTC), fire)
    assert window_for(daily, fire, timedelta(hours=-2), timedelta(hours=-1)) == (
        datetime(2020, 2, 20, 3, tzinfo=UTC), datetime(2020, 2, 20, 4, tzinfo=UTC))
    assert window_for(daily, fire, None, timedelta(hours=-1)) == (
        datetime(2020, 2, 19, 4, tzinfo=UTC), datetime(2020, 2, 20, 4, tzinfo=UTC))


# ----------------------------------------------------------------------------- bounds (issue 7, item 4)


@pytest.mark.parametrize(("expression", "message"), [
    ("rate(99999999999999 days)", "the period must be at most 366 days"),
    ("rate(5000000 days)", "the period must be at most 366 days"),
    ("rate(600000 minutes)", "the period must be at most 366 days"),
    ("0 0 * * 1/0", "the weekday field '1/0' has the step '0'; a step is a whole number from 1"),
    ("cron(0 0 ? * 2/0 *)", "has the step '0'"),
    ("*/0 * * * *", "the minute field '*/0' has a step of 0"),
    ("cron(" + "1 " * 200 + ")", "at most 256 are read"),
])
def test_out_of_range_expressions_are_expression_errors(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(message)):
        parse_schedule_expression(expression)


@pytest.mark.parametrize(("expression", "message"), [
    ("cron(0 0 1 1 ? 2000)", "never fires after"),
    ("cron(* * ? * * 2099)", "first fires at 2099-01-01T00:00:00+00:00, more than ten years from now"),
    ("0 0 31 2 *", "never fires after"),
])
def test_schedules_that_never_run_are_refused(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(message)):
        check_fires(parse_schedule_expression(expression), T, None)


def test_a_schedule_firing_within_ten_years_is_accepted() -> None:
    check_fires(parse_schedule_expression("cron(0 0 1 1 ? *)"), T, None)
    check_fires(parse_schedule_expression("cron(0 0 29 2 ? *)"), T, None)  # once in four years
    only_2030 = parse_schedule_expression("cron(0 0 1 1 ? 2030)")
    check_fires(only_2030, T, timedelta(days=-1))  # its window needs a start offset: no earlier run
    with pytest.raises(ExpressionError, match="has not fired in the ten years before"):
        check_fires(only_2030, T, None)


@pytest.mark.parametrize("offset", ["-P999999999W", "-P99999999999999999999D", "-PT99999999999999999999999H",
                                    "-P367D", "-P53W"])
def test_offsets_longer_than_a_year_are_expression_errors(offset: str) -> None:
    with pytest.raises(ExpressionError, match="a window offset is at most a year"):
        parse_offset(offset)


def test_expression_errors_are_config_errors() -> None:
    assert issubclass(ExpressionError, ConfigError) and issubclass(ExpressionError, ValueError)


@pytest.mark.parametrize("target", schedule_targets(), ids=lambda t: t.name)
def test_any_expression_or_offset_parses_or_is_an_expression_error(target: Target) -> None:
    holds(target, examples=300)
