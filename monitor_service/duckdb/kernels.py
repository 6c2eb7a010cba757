"""Compiled per-value loops of the DuckDB engine's profiler (numba), over Arrow string buffers.

One pass over the bytes of every value does what the Spark profiler's expressions do per
value, without a Python object per value:

- Deequ's type of the value (`^(-|\\+)? ?\\d+$` Integral, the fractional pattern, `true|false`),
  with Java's `$` (which also matches before one final line terminator), as a byte automaton;
- the double Spark's `cast(replace(value, ' ', '') AS double)` gives, exactly: Clinger's fast
  path for numbers of at most 15 significant digits and small exponents, and the rest marked
  for Python's (correctly rounded) `float`;
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


@njit(cache=True)
def classify(data: np.ndarray, start: int, end: int) -> int:
    """Deequ's type of the value `data[start:end]` (FRACTIONAL / INTEGRAL / BOOLEAN / STRING)."""
    end -= _terminator(data, start, end)
    i = start
    if i < end and (data[i] == 43 or data[i] == 45):
        i += 1
    if i < end and data[i] == 32:
        i += 1
    d = i
    while i < end and 48 <= data[i] <= 57:
        i += 1
    if i > d:
        if i == end:
            return INTEGRAL
        if data[i] == 46:  # '.'
            i += 1
            d = i
            while i < end and 48 <= data[i] <= 57:
                i += 1
            if i == d:
                return STRING
            if i == end:
                return FRACTIONAL
        if data[i] == 69 or data[i] == 101:  # 'E' / 'e'
            i += 1
            if i < end and (data[i] == 43 or data[i] == 45):
                i += 1
            d = i
            while i < end and 48 <= data[i] <= 57:
                i += 1
            if i > d and i == end:
                return FRACTIONAL
        return STRING
    n = end - start
    if n == 4 and data[start] == 116 and data[start + 1] == 114 and data[start + 2] == 117 and data[start + 3] == 101:
        return BOOLEAN
    if (n == 5 and data[start] == 102 and data[start + 1] == 97 and data[start + 2] == 108
            and data[start + 3] == 115 and data[start + 4] == 101):
        return BOOLEAN
    return STRING


@njit(cache=True)
def parse_number(data: np.ndarray, start: int, end: int) -> tuple[float, bool]:
    """(value, exact) of a Deequ-numeric value; not exact: Python must parse it."""
    term = _terminator(data, start, end)
    if term and data[end - 1] != 10 and data[end - 1] != 13:
        return np.nan, True  # Java's parseDouble does not trim U+0085 / U+2028 / U+2029: no number
    end -= term
    i = start
    negative = False
    if data[i] == 45:
        negative = True
        i += 1
    elif data[i] == 43:
        i += 1
    if data[i] == 32:
        i += 1
    mantissa = np.uint64(0)
    significant = 0
    exponent = 0
    point = False
    while i < end:
        c = data[i]
        if c == 46 and not point:  # the decimal point (classify saw digits on both sides)
            point = True
            i += 1
            continue
        if c < 48 or c > 57:
            break
        if mantissa != 0 or c != 48:
            significant += 1
            if significant > 15:
                return np.nan, False
            mantissa = mantissa * np.uint64(10) + np.uint64(c - 48)
        if point:
            exponent -= 1
        i += 1
    if i < end and (data[i] == 69 or data[i] == 101):
        i += 1
        sign = 1
        if data[i] == 45:
            sign = -1
            i += 1
        elif data[i] == 43:
            i += 1
        e = 0
        while i < end and 48 <= data[i] <= 57:
            e = e * 10 + (data[i] - 48)
            if e > 100000:
                return np.nan, False
            i += 1
        exponent += sign * e
    value = float(mantissa)
    if mantissa == 0:
        value = 0.0
    elif exponent > 22 or exponent < -22:
        return np.nan, False
    elif exponent >= 0:
        value = value * _POW10[exponent]
    else:
        value = value / _POW10[-exponent]
    return (-value if negative else value), True


@njit(cache=True, nogil=True)
def profile_values(starts: np.ndarray, ends: np.ndarray, data: np.ndarray, valid: np.ndarray, cols: np.ndarray,
                   types: np.ndarray, numbers: np.ndarray, slow: np.ndarray,
                   type_counts: np.ndarray, registers: np.ndarray,
                   table_keys: np.ndarray, table_counts: np.ndarray, distinct: np.ndarray,
                   overflow: np.ndarray, new_values: np.ndarray,
                   domain_keys: np.ndarray, domain_bounds: np.ndarray, domain_matches: np.ndarray) -> tuple[int, int]:
    """Profile values `i` (bytes `data[starts[i]:ends[i]]`, column `cols[i]`).

    Writes `types[i]` and `numbers[i]` (NaN unless numeric), lists values Python must parse in
    `slow` and values new to a column's table in `new_values` (pairs of column, value index);
    returns how many of each were written.
    """
    n_slow = 0
    n_new = 0
    mask = np.uint64(HLL_SLOTS - 1)
    tmask = TABLE_SLOTS - 1
    for i in range(len(cols)):
        c = cols[i]
        numbers[i] = np.nan
        if not valid[i]:
            types[i] = UNKNOWN
            type_counts[c, UNKNOWN] += 1
            continue
        start = starts[i]
        end = ends[i]
        t = classify(data, start, end)
        types[i] = t
        type_counts[c, t] += 1
        if t in (FRACTIONAL, INTEGRAL):
            value, exact = parse_number(data, start, end)
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


@njit(cache=True, nogil=True)
def split_csv(offsets: np.ndarray, data: np.ndarray, picked: np.ndarray, delimiter: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CSV payloads `data[offsets[p]:offsets[p+1]]` of the `picked` payloads, split as Spark splits them.

    Records are the payload's lines (`\\r?\\n` ends one, lines of spaces only are dropped) and
    values the record's pieces between `delimiter` bytes (empty: null). Returns records per
    payload (0 for payloads not picked), values per record, and each value's start, end and
    validity.
    """
    n = len(offsets) - 1
    per_payload = np.zeros(n, np.int64)
    n_records = 0
    n_values = 0
    for p in range(n):
        if not picked[p]:
            continue
        a = offsets[p]
        b = offsets[p + 1]
        line = a
        for j in range(a, b + 1):
            if j == b or data[j] == 10:
                end = j - 1 if j > line and j < b and data[j - 1] == 13 else j
                if not _blank(data, line, end):
                    per_payload[p] += 1
                    n_records += 1
                    n_values += 1
                    for q in range(line, end):
                        if data[q] == delimiter:
                            n_values += 1
                line = j + 1
    per_record = np.empty(n_records, np.int64)
    starts = np.empty(n_values, np.int64)
    ends = np.empty(n_values, np.int64)
    valid = np.empty(n_values, np.bool_)
    r = 0
    v = 0
    for p in range(n):
        if not picked[p]:
            continue
        a = offsets[p]
        b = offsets[p + 1]
        line = a
        for j in range(a, b + 1):
            if j == b or data[j] == 10:
                end = j - 1 if j > line and j < b and data[j - 1] == 13 else j
                if not _blank(data, line, end):
                    first = v
                    field = line
                    for q in range(line, end + 1):
                        if q == end or data[q] == delimiter:
                            starts[v] = field
                            ends[v] = q
                            valid[v] = q > field
                            v += 1
                            field = q + 1
                    per_record[r] = v - first
                    r += 1
                line = j + 1
    return per_payload, per_record, starts, ends, valid
