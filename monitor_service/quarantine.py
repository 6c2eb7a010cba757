"""Which records are quarantined, and why: the rules both engines apply to their read counts.

A reader counts its records by (own error, input field count, output field count, window
state). From those counts alone: the expected field count of a positional side is the one the
dataset config names, else the most common one among the window's records; a record's reason
is its own error, else an unreadable `inferenceTime` (when a window is asked for), else a
positional side whose field count differs from the expected one. Records outside the window
are counted apart and never quarantined by this window.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

IN, OUT, INVALID, NOT_APPLICABLE = "in", "out", "invalid", "n/a"
# What a quarantine sample keeps of a line.
MAX_SAMPLE_CHARS = 65_536


@dataclass(frozen=True)
class CountRow:
    """How many records share one (error, field counts, window state); counts None: side absent, -1: keyed."""

    error: str | None
    in_count: int | None
    out_count: int | None
    state: str
    count: int


@dataclass
class Decision:
    expected_in: int | None
    expected_out: int | None
    total: int = 0
    valid: int = 0
    outside: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)

    def reason(self, error: str | None, state: str, in_count: int | None, out_count: int | None) -> str | None:
        """Why a record is quarantined (None: it is not), whatever its window state."""
        if error is not None:
            return error
        if state == INVALID:
            return "invalid_inference_time"
        for value, expected in ((in_count, self.expected_in), (out_count, self.expected_out)):
            if expected is not None and value is not None and value >= 0 and value != expected:
                return "field_count_mismatch"
        return None


def expected_count(rows: Iterable[CountRow], side: str, names: list[str] | None) -> int | None:
    """The field count a positional side must have: the configured names', else the most common one."""
    if names:
        return len(names)
    counts: Counter[int] = Counter()
    for row in rows:
        value = row.in_count if side == "in" else row.out_count
        if row.error is None and row.state != OUT and value is not None and value >= 0:
            counts[value] += row.count
    if not counts:
        return None
    return max(counts.items(), key=lambda item: (item[1], -item[0]))[0]


def decide(rows: list[CountRow], input_names: list[str] | None, output_names: list[str] | None) -> Decision:
    """Totals of valid, outside-the-window and quarantined (by reason) records."""
    decision = Decision(expected_count(rows, "in", input_names), expected_count(rows, "out", output_names))
    quarantined: Counter[str] = Counter()
    for row in rows:
        decision.total += row.count
        reason = decision.reason(row.error, row.state, row.in_count, row.out_count)
        if row.state == OUT:
            decision.outside += row.count
        elif reason:
            quarantined[reason] += row.count
        else:
            decision.valid += row.count
    decision.quarantined = dict(quarantined)
    return decision
