"""Schedule expressions and window offsets: parsed once, then used as values.

Three forms are accepted, all in UTC:

- SageMaker's six-field `cron(min hour day-of-month month day-of-week year)`, e.g.
  `cron(0 * ? * * *)`; `?` means "any", weekdays are 1=SUN..7=SAT or names;
- a standard five-field crontab line, e.g. `*/15 * * * *`; weekdays are 0/7=Sun..6=Sat;
- `rate(N minute|minutes|hour|hours|day|days)`, aligned to the Unix epoch so that fire times
  do not depend on when the schedule was created.

APScheduler's triggers compute the fire times. Its 3.x cron numbers weekdays from Monday=0,
unlike crontab, so numeric weekdays are rewritten as names before they reach it. Window
offsets are ISO-8601 durations such as `-PT1H`, relative to the scheduled time, as in
SageMaker's `DataAnalysisStartTime` / `DataAnalysisEndTime`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor_service.errors import ConfigError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Bounds that keep every datetime computation in range: a period or an offset longer than a
# year is not a monitoring schedule, and a schedule must fire within ten years (the look-back of
# `previous_before`), or it would never run and its windows could not be computed.
MAX_PERIOD = timedelta(days=366)
MAX_OFFSET = timedelta(days=366)
FIRST_FIRE_HORIZON = timedelta(days=3660)
MAX_EXPRESSION_CHARS = 256
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$", re.IGNORECASE)
_AWS_CRON = re.compile(r"^cron\((.*)\)$", re.IGNORECASE)
_DURATION = re.compile(
    r"^(?P<sign>[-+])?P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


class ExpressionError(ConfigError, ValueError):
    """An expression or offset the service cannot use; the message says what to write instead.

    A `ConfigError` (422 at the API, usage error in the CLI) and a `ValueError`, so pydantic
    validators report it as a field error.
    """


@dataclass(frozen=True)
class ScheduleExpression:
    """A parsed schedule: its trigger and whether it may fire more than once per clock hour."""

    text: str
    trigger: BaseTrigger
    sub_hourly: bool

    def next_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after `moment`."""
        fire = self.trigger.get_next_fire_time(None, moment + timedelta(microseconds=1))
        if fire is None:  # only triggers with an end date stop; ours never do
            raise ExpressionError(f"{self.text} never fires after {moment.isoformat()}")
        return fire.astimezone(UTC)

    def fire_times(self, after: datetime, until: datetime, limit: int | None = None) -> list[datetime]:
        """Fire times in `(after, until]`, oldest first (at most `limit` of them)."""
        times: list[datetime] = []
        fire = self.next_after(after)
        while fire <= until and (limit is None or len(times) < limit):
            times.append(fire)
            fire = self.next_after(fire)
        return times

    def previous_before(self, moment: datetime) -> datetime:
        """The last fire time strictly before `moment` (the start of its default window).

        Triggers only look forward, so we step back in doubling strides until a fire time
        shows up before `moment`, then walk forward to the last one.
        """
        stride = timedelta(minutes=1)
        while True:
            probe = moment - stride
            first = self.next_after(probe - timedelta(microseconds=1))
            if first < moment:
                last = first
                while (nxt := self.next_after(last)) < moment:
                    last = nxt
                return last
            if stride > timedelta(days=3660):
                raise ExpressionError(f"{self.text} has not fired in the ten years before {moment.isoformat()}")
            stride *= 2


def parse_schedule_expression(text: str) -> ScheduleExpression:
    """Parse any accepted form; the error names the form it was read as and how to fix it."""
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"the schedule expression has {len(text)} characters; at most "
                              f"{MAX_EXPRESSION_CHARS} are read, e.g. cron(0 * ? * * *)")
    expr = " ".join(text.split())
    if not expr:
        raise ExpressionError("the schedule expression is empty; use e.g. cron(0 * ? * * *) or rate(1 hour)")
    if expr.upper() == "NOW":
        raise ExpressionError(
            "NOW is a one-time run, not a schedule; POST /api/v1/schedules/{id}/executions runs a window now"
        )
    if rate := _RATE.match(expr):
        return _rate(expr, int(rate.group(1)), rate.group(2).lower())
    if expr.lower().startswith("rate"):
        raise ExpressionError(f"{expr!r} is not a rate; use rate(N minutes), rate(N hours) or rate(N days)")
    if aws := _AWS_CRON.match(expr):
        return _aws_cron(expr, aws.group(1).split())
    return _crontab(expr, expr.split())


def _rate(expr: str, amount: int, unit: str) -> ScheduleExpression:
    if amount < 1:
        raise ExpressionError(f"{expr}: the rate must be at least 1")
    seconds = amount * {"minute": 60, "hour": 3600, "day": 86400}[unit.rstrip("s")]
    if seconds > MAX_PERIOD.total_seconds():
        raise ExpressionError(f"{expr}: the period must be at most {MAX_PERIOD.days} days; "
                              "use cron(...) for schedules that fire less often than yearly")
    trigger = IntervalTrigger(seconds=seconds, start_date=EPOCH, timezone=UTC)
    return ScheduleExpression(expr, trigger, sub_hourly=seconds < 3600)


def _aws_cron(expr: str, fields: list[str]) -> ScheduleExpression:
    if len(fields) != 6:
        raise ExpressionError(
            f"{expr}: SageMaker cron needs 6 fields (minute hour day-of-month month day-of-week year), "
            f"got {len(fields)}; e.g. cron(0 * ? * * *) for hourly"
        )
    minute, hour, dom, month, dow, year = fields
    if dom != "?" and dow != "?":
        raise ExpressionError(f"{expr}: one of day-of-month and day-of-week must be '?'")
    day_of_week = None if dow in ("?", "*") else _weekdays(dow, sunday=1, expr=expr)
    return _cron(expr, minute=minute, hour=hour, day=None if dom in ("?", "*") else dom,
                 month=month, day_of_week=day_of_week, year=None if year in ("*", "?") else year)


def _crontab(expr: str, fields: list[str]) -> ScheduleExpression:
    if len(fields) != 5:
        raise ExpressionError(
            f"{expr!r} is not a schedule expression; use cron(0 * ? * * *) (SageMaker), "
            "a 5-field crontab line such as '*/15 * * * *', or rate(15 minutes)"
        )
    minute, hour, dom, month, dow = fields
    if dom != "*" and dow != "*":
        raise ExpressionError(
            f"{expr}: restricting both day-of-month and day-of-week is ambiguous (crontab matches either); "
            "restrict only one of them"
        )
    day_of_week = None if dow == "*" else _weekdays(dow, sunday=0, expr=expr)
    return _cron(expr, minute=minute, hour=hour, day=None if dom == "*" else dom, month=month,
                 day_of_week=day_of_week, year=None)


def _cron(expr: str, *, minute: str, hour: str, day: str | None, month: str,
          day_of_week: str | None, year: str | None) -> ScheduleExpression:
    for name, value in (("minute", minute), ("hour", hour), ("day", day), ("month", month), ("year", year)):
        if value is not None and re.search(r"[LW#]", value):
            raise ExpressionError(f"{expr}: the {name} field {value!r} uses L, W or #, which are not supported")
        if value is not None and re.search(r"/0*(,|$)", value):
            raise ExpressionError(f"{expr}: the {name} field {value!r} has a step of 0; steps start at 1")
    minute, hour = _start_step(minute, 59), _start_step(hour, 23)
    day = None if day is None else _start_step(day, 31)
    try:
        trigger = CronTrigger(minute=minute, hour=hour, day=day, month=None if month == "*" else month,
                              day_of_week=day_of_week, year=year, second=0, timezone=UTC)
    except ValueError as exc:
        raise ExpressionError(f"{expr}: {exc}") from exc
    return ScheduleExpression(expr, trigger, sub_hourly=not minute.isdigit())


def _start_step(field: str, highest: int) -> str:
    """Expand `start/step` (SageMaker's `0 17/12`) into a list; APScheduler rejects short ranges."""
    match = re.fullmatch(r"(\d+)/(\d+)", field)
    if not match or int(match.group(2)) == 0:
        return field
    start, step = int(match.group(1)), int(match.group(2))
    return ",".join(str(v) for v in range(start, highest + 1, step)) or field


def _weekdays(field: str, *, sunday: int, expr: str) -> str:
    """Rewrite a weekday field into APScheduler names (sunday = the number meaning Sunday)."""
    if "#" in field or "L" in field.upper():
        raise ExpressionError(f"{expr}: the weekday field {field!r} uses L or #, which are not supported")
    if not any(ch.isdigit() for ch in field.split("/")[0]):
        return field.lower()
    days: list[int] = []
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        if step_text and (not step_text.isdigit() or int(step_text) == 0):
            raise ExpressionError(f"{expr}: the weekday field {field!r} has the step {step_text!r}; "
                                  "a step is a whole number from 1")
        step = min(int(step_text), 7) if step_text else 1
        if base == "*":
            lo, hi = sunday, sunday + 6
        elif "-" in base:
            lo_text, hi_text = base.split("-", 1)
            lo, hi = _day_number(lo_text, sunday, expr), _day_number(hi_text, sunday, expr)
        else:
            lo = hi = _day_number(base, sunday, expr)
        if hi < lo:
            hi += 7
        days.extend(range(lo, hi + 1, step))
    names = sorted({(d - sunday) % 7 for d in days})
    return ",".join(_DAY_NAMES[i] for i in names)


def _day_number(text: str, sunday: int, expr: str) -> int:
    if text.lower()[:3] in _DAY_NAMES:
        return _DAY_NAMES.index(text.lower()[:3]) + sunday
    if not text.isdigit() or not sunday <= int(text) <= 7:
        raise ExpressionError(f"{expr}: {text!r} is not a weekday ({sunday}=Sunday .. {sunday + 6}=Saturday or names)")
    return int(text)


def parse_offset(text: str) -> timedelta:
    """Parse an ISO-8601 duration such as `-PT1H` or `-P1DT2H30M` into a signed timedelta."""
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"an offset of {len(text)} characters is not an ISO-8601 duration; use e.g. -PT1H")
    text = text.strip()
    if re.search(r"\d+[YM]", text.split("T", 1)[0]):
        raise ExpressionError(f"{text!r}: years and months have no fixed length; use days, e.g. -P30D")
    match = _DURATION.match(text)
    if not match:
        raise ExpressionError(f"{text!r} is not an ISO-8601 duration; use e.g. -PT1H, -PT30M or -P1D")
    parts = {k: float(v) for k, v in match.groupdict().items() if k != "sign" and v is not None}
    if not parts:
        raise ExpressionError(f"{text!r} has no amount; use e.g. -PT1H")
    scale = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
    if sum(value * scale[unit] for unit, value in parts.items()) > MAX_OFFSET.total_seconds():
        raise ExpressionError(f"{text!r} is longer than {MAX_OFFSET.days} days; a window offset is at most a year")
    delta = timedelta(weeks=parts.get("weeks", 0), days=parts.get("days", 0), hours=parts.get("hours", 0),
                      minutes=parts.get("minutes", 0), seconds=parts.get("seconds", 0))
    return -delta if match.group("sign") == "-" else delta


def format_offset(delta: timedelta) -> str:
    """Write a timedelta back as an ISO-8601 duration (`-PT1H`), the inverse of `parse_offset`."""
    sign = "-" if delta < timedelta(0) else ""
    total = abs(int(delta.total_seconds()))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    time = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    out = f"{sign}P{f'{days}D' if days else ''}{'T' + time if time else ''}"
    return out if out.rstrip("-") != "P" else "PT0S"


def window_for(expression: ScheduleExpression, fire_time: datetime, start_offset: timedelta | None,
               end_offset: timedelta | None) -> tuple[datetime, datetime]:
    """The data window `[start, end)` analysed by the run scheduled at `fire_time`.

    Without offsets the window is the schedule's previous period, as in SageMaker: a daily run
    at 05:00 reads the 24 hours before it. An end offset alone shifts that period back.
    """
    end_shift = end_offset or timedelta(0)
    end = fire_time + end_shift
    start = expression.previous_before(fire_time) + end_shift if start_offset is None else fire_time + start_offset
    return start, end


def check_fires(expression: ScheduleExpression, now: datetime, start_offset: timedelta | None) -> None:
    """Refuse a schedule that never runs: it must fire within ten years of `now`, and (without a
    start offset) have an earlier fire time to begin its first window at."""
    first = expression.next_after(now)  # raises ExpressionError when there is no later fire time
    if first - now > FIRST_FIRE_HORIZON:
        raise ExpressionError(f"{expression.text} first fires at {first.isoformat()}, more than ten years from now")
    if start_offset is None:
        expression.previous_before(first)  # raises ExpressionError when the first window has no start


def check_offsets(start_offset: timedelta | None, end_offset: timedelta | None) -> None:
    """Reject offsets that give an empty window or one that ends after the scheduled time."""
    if end_offset is not None and end_offset > timedelta(0):
        raise ExpressionError(f"end_offset {format_offset(end_offset)} is in the future; use PT0S or a negative offset")
    if start_offset is not None and start_offset >= (end_offset or timedelta(0)):
        raise ExpressionError(
            f"start_offset {format_offset(start_offset)} must be before end_offset "
            f"{format_offset(end_offset or timedelta(0))}, e.g. start_offset=-PT1H with end_offset=PT0S"
        )
