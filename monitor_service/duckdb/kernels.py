"""Compiled per-value loops of the DuckDB engine's profiler (numba), over Arrow string buffers.

One pass over the bytes of every value does what the Spark profiler's expressions do per
value, without a Python object per value:

- Deequ's type of the value (`^(-|\\+)? ?\\d+$` Integral, the fractional pattern, `true|false`),
  with Java's `$` (which also matches before one final line terminator), as a byte automaton;
- in the same pass, the double Spark's `cast(replace(value, ' ', '') AS double)` gives, exactly:
  Clinger's fast path for numbers of at most 15 significant digits and small exponents, and the
  rest marked for Python's (correctly rounded) `float`;
- the DataSketches HLL update: MurmurHash3_x64_128 (seed 9001) of the UTF-8 bytes, coupon
  slot and value, kept as per-column register maxima;
- exact value counts while a column has few distinct values (an open-addressing table keyed
  by the hash), and the number of values inside the baseline domain.
"""

from __future__ import annotations

import numpy as np
from numba import njit

HLL_LG_K = 12
HLL_SLOTS = 1 << HLL_LG_K
TABLE_SLOTS = 4096  # per column; holds up to TRACKED_DISTINCT values at half load
TRACKED_DISTINCT = 2048
SEED = 9001
# type codes, in the order of the type-count columns
UNKNOWN, FRACTIONAL, INTEGRAL, BOOLEAN, STRING = 0, 1, 2, 3, 4

_C1 = np.uint64(0x87C37B91114253D5)
_C2 = np.uint64(0x4CF5AD432745937F)
_M5 = np.uint64(5)
_N1 = np.uint64(0x52DCE729)
_N2 = np.uint64(0x38495AB5)
_F1 = np.uint64(0xFF51AFD7ED558CCD)
_F2 = np.uint64(0xC4CEB9FE1A85EC53)
_POW10 = np.array([10.0**i for i in range(23)], dtype=np.float64)


@njit(cache=True, inline="always")
def _rotl(x: np.uint64, r: int) -> np.uint64:
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


@njit(cache=True, inline="always")
def _fmix(k: np.uint64) -> np.uint64:
    k ^= k >> np.uint64(33)
    k *= _F1
    k ^= k >> np.uint64(33)
    k *= _F2
    k ^= k >> np.uint64(33)
    return k


@njit(cache=True, inline="always")
def _mix(k: np.uint64, first: np.uint64, second: np.uint64, r: int) -> np.uint64:
    return _rotl(k * first, r) * second


@njit(cache=True, inline="always")
def _word(data: np.ndarray, at: int, count: int) -> np.uint64:
    """Little-endian word of `count` (<= 8) bytes starting at `at`."""
    w = np.uint64(0)
    for j in range(count):
        w |= np.uint64(data[at + j]) << np.uint64(8 * j)
    return w


@njit(cache=True)
def murmur3_x64_128(data: np.ndarray, start: int, length: int, seed: int) -> tuple[np.uint64, np.uint64]:
    h1 = np.uint64(seed)
    h2 = np.uint64(seed)
    blocks = length // 16
    for b in range(blocks):
        at = start + 16 * b
        h1 ^= _mix(_word(data, at, 8), _C1, _C2, 31)
        h1 = _rotl(h1, 27)
        h1 += h2
        h1 = h1 * _M5 + _N1
        h2 ^= _mix(_word(data, at + 8, 8), _C2, _C1, 33)
        h2 = _rotl(h2, 31)
        h2 += h1
        h2 = h2 * _M5 + _N2
    tail = start + 16 * blocks
    rest = length & 15
    if rest > 8:
        h2 ^= _mix(_word(data, tail + 8, rest - 8), _C2, _C1, 33)
    if rest > 0:
        h1 ^= _mix(_word(data, tail, min(rest, 8)), _C1, _C2, 31)
    h1 ^= np.uint64(length)
    h2 ^= np.uint64(length)
    h1 += h2
    h2 += h1
    h1 = _fmix(h1)
    h2 = _fmix(h2)
    h1 += h2
    h2 += h1
    return h1, h2


@njit(cache=True, inline="always")
def _leading_zeros(x: np.uint64) -> int:
    if x == 0:
        return 64
    n = 0
    for shift in (32, 16, 8, 4, 2, 1):
        if (x >> np.uint64(64 - shift)) == 0:
            n += shift
            x = x << np.uint64(shift)
    return n


@njit(cache=True)
def _terminator(data: np.ndarray, start: int, end: int) -> int:
    """Length of one final Java line terminator of the value (0 if none)."""
    n = end - start
    if n >= 2 and data[end - 2] == 13 and data[end - 1] == 10:
        return 2
    if n >= 1 and (data[end - 1] == 10 or data[end - 1] == 13):
        return 1
    if n >= 2 and data[end - 2] == 0xC2 and data[end - 1] == 0x85:
        return 2
    if n >= 3 and data[end - 3] == 0xE2 and data[end - 2] == 0x80 and (data[end - 1] == 0xA8 or data[end - 1] == 0xA9):
        return 3
    return 0


@njit(cache=True, inline="always")
def _digits(data: np.ndarray, i: int, stop: int, mantissa: np.uint64, significant: int, exact: bool, exponent: int,
            fraction: bool) -> tuple[int, np.uint64, int, bool, int]:
    """Read the digits at `i`: up to 15 significant ones into the mantissa (more: not exact)."""
    while i < stop and 48 <= data[i] <= 57:
        c = data[i] - 48
        if mantissa != 0 or c != 0:
            significant += 1
            if significant > 15:
                exact = False
            else:
                mantissa = mantissa * np.uint64(10) + np.uint64(c)
        if fraction:
            exponent -= 1
        i += 1
    return i, mantissa, significant, exact, exponent


@njit(cache=True)
def scan(data: np.ndarray, start: int, end: int) -> tuple[int, float, bool]:
    """Deequ's type of the value `data[start:end]` and, when numeric, its double in one pass.

    Returns (type, value, exact): `exact` False means the value has more than 15 significant
    digits or a large exponent and Python must parse it; a numeric value ending in a line
    terminator Java's `parseDouble` does not trim (U+0085, U+2028, U+2029) has no number (NaN).
    """
    term = _terminator(data, start, end)
    stop = end - term
    i = start
    negative = False
    if i < stop and (data[i] == 43 or data[i] == 45):
        negative = data[i] == 45
        i += 1
    if i < stop and data[i] == 32:
        i += 1
    mantissa = np.uint64(0)
    significant = 0
    exponent = 0
    exact = True
    first = i
    i, mantissa, significant, exact, exponent = _digits(data, i, stop, mantissa, significant, exact, exponent, False)
    if i == first:
        n = stop - start
        if n == 4 and data[start] == 116 and data[start + 1] == 114 and data[start + 2] == 117 \
                and data[start + 3] == 101:
            return BOOLEAN, np.nan, True
        if (n == 5 and data[start] == 102 and data[start + 1] == 97 and data[start + 2] == 108
                and data[start + 3] == 115 and data[start + 4] == 101):
            return BOOLEAN, np.nan, True
        return STRING, np.nan, True
    kind = INTEGRAL
    if i < stop and data[i] == 46:  # '.'
        i += 1
        first = i
        i, mantissa, significant, exact, exponent = _digits(data, i, stop, mantissa, significant, exact, exponent,
                                                            True)
        if i == first:
            return STRING, np.nan, True
        kind = FRACTIONAL
    if i < stop and (data[i] == 69 or data[i] == 101):  # 'E' / 'e'
        i += 1
        sign = 1
        if i < stop and (data[i] == 43 or data[i] == 45):
            sign = -1 if data[i] == 45 else 1
            i += 1
        first = i
        e = 0
        while i < stop and 48 <= data[i] <= 57:
            if e < 100000:
                e = e * 10 + (data[i] - 48)
            i += 1
        if i == first:
            return STRING, np.nan, True
        kind = FRACTIONAL
        exponent += sign * e
    if i != stop:
        return STRING, np.nan, True
    if term and data[end - 1] != 10 and data[end - 1] != 13:
        return kind, np.nan, True
    if not exact or (mantissa != 0 and (exponent > 22 or exponent < -22)):
        return kind, np.nan, False
    value = 0.0
    if mantissa != 0:
        value = float(mantissa)
        value = value * _POW10[exponent] if exponent >= 0 else value / _POW10[-exponent]
    return kind, (-value if negative else value), True


@njit(cache=True, nogil=True)
def profile_values(starts: np.ndarray, ends: np.ndarray, data: np.ndarray, valid: np.ndarray, cols: np.ndarray,
                   types: np.ndarray, numbers: np.ndarray, slow: np.ndarray,
                   type_counts: np.ndarray, registers: np.ndarray,
                   table_keys: np.ndarray, table_counts: np.ndarray, distinct: np.ndarray,
                   overflow: np.ndarray, new_values: np.ndarray,
                   domain_keys: np.ndarray, domain_bounds: np.ndarray, domain_matches: np.ndarray) -> tuple[int, int]:
    """Profile values `i` (bytes `data[starts[i]:ends[i]]`, column `cols[i]`).

    A negative column skips the value. Writes `types[i]` and `numbers[i]` (NaN unless numeric),
    lists values Python must parse in `slow` and values new to a column's table in `new_values`
    (pairs of column, value index); returns how many of each were written.
    """
    n_slow = 0
    n_new = 0
    mask = np.uint64(HLL_SLOTS - 1)
    tmask = TABLE_SLOTS - 1
    for i in range(len(cols)):
        c = cols[i]
        numbers[i] = np.nan
        if c < 0:  # a value not profiled (a field past max_columns)
            types[i] = UNKNOWN
            continue
        if not valid[i]:
            types[i] = UNKNOWN
            type_counts[c, UNKNOWN] += 1
            continue
        start = starts[i]
        end = ends[i]
        t, value, exact = scan(data, start, end)
        types[i] = t
        type_counts[c, t] += 1
        if exact:
            numbers[i] = value
        else:
            slow[n_slow] = i
            n_slow += 1
        h1, h2 = murmur3_x64_128(data, start, end - start, SEED)
        if end > start:
            slot = int(h1 & mask)
            rank = min(_leading_zeros(h2), 62) + 1
            if registers[c, slot] < rank:
                registers[c, slot] = rank
        key = h1 | np.uint64(1)
        lo = domain_bounds[c]
        hi = domain_bounds[c + 1]
        if hi > lo:
            at = np.searchsorted(domain_keys[lo:hi], key)
            if at < hi - lo and domain_keys[lo + at] == key:
                domain_matches[c] += 1
        if overflow[c]:
            continue
        p = int(key >> np.uint64(40)) & tmask
        while True:
            k = table_keys[c, p]
            if k == key:
                table_counts[c, p] += 1
                break
            if k == 0:
                if distinct[c] >= TRACKED_DISTINCT:
                    overflow[c] = True
                else:
                    table_keys[c, p] = key
                    table_counts[c, p] = 1
                    distinct[c] += 1
                    new_values[n_new, 0] = c
                    new_values[n_new, 1] = i
                    new_values[n_new, 2] = p
                    n_new += 1
                break
            p = (p + 1) & tmask
    return n_slow, n_new


def warm_up() -> None:
    """Load the compiled loops (from numba's cache) before the first batch needs them."""
    array = np.frombuffer(b"1a", dtype=np.uint8)
    offsets = np.array([0, 1, 2], dtype=np.int64)
    n = 2
    profile_values(offsets[:-1], offsets[1:], array, np.ones(n, np.bool_), np.zeros(n, np.int32),
                   np.empty(n, np.int8), np.empty(n),
                   np.empty(n, np.int64), np.zeros((1, 5), np.int64), np.zeros((1, HLL_SLOTS), np.uint8),
                   np.zeros((1, TABLE_SLOTS), np.uint64), np.zeros((1, TABLE_SLOTS), np.int64), np.zeros(1, np.int32),
                   np.zeros(1, np.bool_), np.zeros((n, 3), np.int64), np.zeros(0, np.uint64), np.zeros(2, np.int64),
                   np.zeros(1, np.int64))
    hash_keys(offsets[:-1], offsets[1:], array)
    split_csv(offsets, array, np.ones(2, np.bool_), 44)


@njit(cache=True)
def hash_keys(starts: np.ndarray, ends: np.ndarray, data: np.ndarray) -> np.ndarray:
    """The table key (hash | 1) of each value, as `profile_values` computes it."""
    out = np.empty(len(starts), dtype=np.uint64)
    for i in range(len(out)):
        h1, _ = murmur3_x64_128(data, starts[i], ends[i] - starts[i], SEED)
        out[i] = h1 | np.uint64(1)
    return out


@njit(cache=True, inline="always")
def _blank(data: np.ndarray, start: int, end: int) -> bool:
    j = start
    while j < end and data[j] == 32:
        j += 1
    return j == end


def split_csv(offsets: np.ndarray, data: np.ndarray, picked: np.ndarray, delimiter: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CSV payloads `data[offsets[p]:offsets[p+1]]` of the `picked` payloads, split as Spark splits them.

    Records are the payload's lines (`\\r?\\n` ends one, lines of spaces only are dropped) and
    values the record's pieces between `delimiter` bytes (empty: null). Returns records per
    payload (0 for payloads not picked), values per record, each value's start, end and
    validity, and per payload whether it holds a double quote and whether its first byte other
    than a space opens a JSON object or list (such payloads are not read as plain CSV).
    """
    body = data[offsets[0]:offsets[-1]] if len(offsets) > 1 else data[:0]
    lines = int(np.count_nonzero(body == 10))
    records_bound = lines + len(offsets)
    values_bound = int(np.count_nonzero(body == delimiter)) + records_bound
    return _split_csv(offsets, data, picked, delimiter, records_bound, values_bound)


@njit(cache=True, nogil=True)
def _split_csv(offsets: np.ndarray, data: np.ndarray, picked: np.ndarray, delimiter: int, records_bound: int,
               values_bound: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                           np.ndarray]:
    """One pass of `split_csv` into arrays of the given bounds (a blank line's values are taken back)."""
    n = len(offsets) - 1
    per_payload = np.zeros(n, np.int64)
    quoted = np.zeros(n, np.bool_)
    json_lead = np.zeros(n, np.bool_)
    per_record = np.empty(records_bound, np.int64)
    starts = np.empty(values_bound, np.int64)
    ends = np.empty(values_bound, np.int64)
    valid = np.empty(values_bound, np.bool_)
    r = 0
    v = 0
    for p in range(n):
        if not picked[p]:
            continue
        a = offsets[p]
        b = offsets[p + 1]
        lead = a
        while lead < b and data[lead] == 32:
            lead += 1
        json_lead[p] = lead < b and (data[lead] == 123 or data[lead] == 91)
        first = v  # the line's first value
        field = a
        spaces_only = True
        cr = False  # the previous byte was a CR, which belongs to the line only if no LF follows
        j = a
        while True:
            at_end = j == b
            c = 10 if at_end else data[j]
            if cr and (c != 10 or at_end):
                spaces_only = False
            cr = False
            if c == delimiter or c == 10:
                if c == delimiter and delimiter != 32:
                    spaces_only = False
                end = j
                if c == 10 and not at_end and end > field and data[end - 1] == 13:
                    end -= 1  # "\\r\\n" ends a line; a lone "\\r" stays in the value
                starts[v] = field
                ends[v] = end
                valid[v] = end > field
                v += 1
                field = j + 1
                if c == 10:
                    if spaces_only:
                        v = first  # a blank line is no record
                    else:
                        per_record[r] = v - first
                        r += 1
                        per_payload[p] += 1
                    first = v
                    spaces_only = True
            elif c == 13:
                cr = True
            else:
                if c == 34:
                    quoted[p] = True
                if c != 32:
                    spaces_only = False
            if at_end:
                break
            j += 1
    return per_payload, per_record[:r], starts[:v], ends[:v], valid[:v], quoted, json_lead
