"""`inferenceTime` text to an instant, accepting what Spark's `try_cast(x AS timestamp)` accepts.

Spark's timestamp grammar (ISO 8601 with optional parts): `[+-]yyyy[-m[m][-d[d]]]`, then `T` or a
space and `h[h][:m[m][:s[s][.fraction]]]`, then an optional zone (`Z`, `+hh`, `+hh:mm`, `+hhmm`,
`UTC`/`GMT`/`UT` with or without an offset, or a region such as `America/New_York`), spaces
allowed around. A time without a date is on the current UTC date. Times without a zone are UTC
(the session time zone of ours). Invalid dates (February 30) and hours (25) are null. The
expression is DuckDB SQL so that whole columns are converted natively; `timestamps` maps an
Arrow string array to epoch microseconds.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

_DATE = r"([+-]?\d{4,6})(?:-(\d{1,2})(?:-(\d{1,2}))?)?"
_TIME = r"(\d{1,2})(?::(\d{1,2})(?::(\d{1,2})(?:\.(\d*))?)?)?"
_TIME_ONLY = r"(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d*))?)?"
_ZONE = (r"(Z|[+-]\d{1,2}(?::?\d{2}(?::?\d{2})?)?|(?:UTC|GMT|UT)(?:[+-]\d{1,2}(?::?\d{2})?)?"
         r"|[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)+)")
PATTERN = rf"^\s*(?:{_DATE}(?:[T ]{_TIME})?|T?{_TIME_ONLY})\s*{_ZONE}?\s*$"
_GROUPS = ["y", "mo", "d", "h", "mi", "s", "f", "h2", "mi2", "s2", "f2", "z"]


def time_parts_sql(column: str) -> str:
    """A DuckDB expression: the parts of text `column` (a struct), for `timestamp_sql`."""
    return f"regexp_extract({column}, '{PATTERN}', {_GROUPS})"


def timestamp_sql(m: str) -> str:
    """A DuckDB expression over the parts struct `m`: the TIMESTAMPTZ Spark reads, or NULL.

    Two steps (parts in one projection, this in the next), because DuckDB would otherwise
    evaluate the regular expression once per reference.
    """
    def num(name: str, default: str = "0") -> str:
        return f"coalesce(nullif({m}.{name}, '')::BIGINT, {default})"

    def either(dated: str, undated: str) -> str:  # a part of a dated text, else of a time-only one
        return f"CASE WHEN {m}.y <> '' THEN {dated} ELSE {undated} END"

    year, month, day = (either(num(g, d), f"{f}(current_date)") for g, d, f in
                        (("y", "0", "year"), ("mo", "1", "month"), ("d", "1", "day")))
    hour, minute, second = (either(num(g), num(f"{g}2")) for g in ("h", "mi", "s"))
    fraction = either(f"{m}.f", f"{m}.f2")
    micros = f"coalesce(nullif(rpad(left({fraction}, 6), 6, '0'), '')::BIGINT, 0)"
    local = (f"TRY(make_timestamp({year}, {month}, {day}, {hour}, {minute}, 0) "
             f"+ to_microseconds({second} * 1000000 + {micros}))")
    valid = f"({hour} < 24 AND {minute} < 60 AND {second} < 60 AND {m}.y || {m}.h2 <> '')"
    zone = f"{m}.z"
    offset = _offset_seconds(zone)
    return (f"CASE WHEN NOT {valid} THEN NULL "
            f"WHEN {zone} = '' OR {offset} IS NOT NULL THEN "
            f"TRY(timezone('UTC', {local} - to_seconds(coalesce({offset}, 0)))) "
            f"ELSE TRY(timezone({zone}, {local})) END")


def _offset_seconds(zone: str) -> str:
    """Seconds east of UTC for Z / offsets / UTC±h; NULL for region names."""
    body = f"regexp_replace({zone}, '^(UTC|GMT|UT)', '')"
    parts = f"regexp_extract({body}, '^([+-])(\\d{{1,2}}):?(\\d{{2}})?:?(\\d{{2}})?$', ['sg', 'hh', 'mm', 'ss'])"
    seconds = (f"(CASE WHEN {parts}.sg = '-' THEN -1 ELSE 1 END) * ("
               f"coalesce(nullif({parts}.hh, '')::INT, 0) * 3600 + coalesce(nullif({parts}.mm, '')::INT, 0) * 60 "
               f"+ coalesce(nullif({parts}.ss, '')::INT, 0))")
    return (f"(CASE WHEN {zone} IN ('Z', 'UTC', 'GMT', 'UT') THEN 0 "
            f"WHEN {parts}.hh <> '' AND {parts}.hh::INT <= 18 THEN {seconds} END)")


def timestamps(con: object, raw: pa.Array) -> np.ndarray:
    """Epoch microseconds of each text (int64; `NO_TIME` where Spark reads null)."""
    con.register("_times", pa.table({"x": raw}))  # type: ignore[attr-defined]
    try:
        result = con.sql(  # type: ignore[attr-defined]
            f"SELECT epoch_us({timestamp_sql('m')}) AS us FROM (SELECT {time_parts_sql('x')} AS m FROM _times)"
        ).to_arrow_table()
    finally:
        con.unregister("_times")  # type: ignore[attr-defined]
    column = result.column("us").combine_chunks()
    return column.fill_null(NO_TIME).to_numpy(zero_copy_only=False).astype(np.int64)


NO_TIME = np.iinfo(np.int64).min
