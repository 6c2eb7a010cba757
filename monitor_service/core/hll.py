"""HyperLogLog distinct-count sketches in the binary form Spark's `hll_sketch_agg` writes.

Profiles keep the serialized sketch (not just its estimate) so that two profiles can be merged
without rescanning: the union of two sketches estimates the distinct count of the union of
their data. Spark 4.1's `hll_sketch_agg(expr)` writes the *updatable* DataSketches image of an
`HLL_8` sketch with lgConfigK 12; we write the same image, so Spark's `hll_union_agg` and
`hll_sketch_estimate` read our sketches and we read Spark's byte for byte. Values are hashed
as their UTF-8 string, exactly as Spark does for `cast(x as string)`.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable

import datasketches

from monitor_service.errors import FormatError

DEFAULT_LG_K = 12  # Spark hll_sketch_agg default lgConfigK: relative standard error about 1.6 %
TARGET_TYPE = datasketches.tgt_hll_type.HLL_8  # what Spark's HllSketchAgg builds

# The DataSketches HLL image (hll/include/HllUtil.hpp): an 8-byte preamble, then per mode
# LIST: coupons (u32) at 8; SET: a u32 count at 8 and coupons at 12; HLL: hip, kxq0, kxq1
# (f64), numAtCurMin, auxCount (u32) and, for HLL_8, one byte per register from 40.
_SER_VER, _FAMILY = 1, 7
_MIN_LG_K, _MAX_LG_K = 4, 21
_LIST, _SET, _HLL = 0, 1, 2
_PRE_INTS = {_LIST: 2, _SET: 3, _HLL: 10}
_HLL_8 = 2
_EMPTY, _COMPACT = 4, 8
_KNOWN_FLAGS = 4 | 8 | 16 | 32  # empty, compact, out-of-order, full-size; big-endian and read-only are refused
_LIST_SLOTS = 8  # a LIST holds fewer coupons than its 2^3 slots (it becomes a SET at 8)
_MAX_COUPON_VALUE = 63


def sketch_of(values: Iterable[str], lg_k: int = DEFAULT_LG_K) -> bytes:
    """Serialized sketch of `values` (small inputs, tests, the in-process engine)."""
    sketch = datasketches.hll_sketch(lg_k, TARGET_TYPE)
    for value in values:
        sketch.update(value)
    return bytes(sketch.serialize_updatable())


def validate(blob: bytes) -> None:
    """Refuse any image DataSketches could misread, BEFORE its native code sees the bytes.

    datasketches 5.2 trusts the header: a LIST count above its slots, or a length shorter than
    the mode needs, makes `deserialize` write past its buffer and abort the process. So every
    header field is checked against the length and the mode, exactly as the serializer writes
    them: updatable or compact HLL_8 images (what Spark's `hll_sketch_agg` and we write) of
    lgK 4..21, coupons and registers in range, counts within the table, finite estimator state.
    A valid image is then safe to decode; anything else is a FormatError saying what is wrong.
    """
    data = bytes(blob)
    if len(data) < 8:
        raise _bad(data, "shorter than the 8-byte preamble")
    pre_ints, ser_ver, family, lg_k, lg_arr, flags, count_byte, mode_byte = data[:8]
    mode, target = mode_byte & 3, (mode_byte >> 2) & 3
    if family != _FAMILY or ser_ver != _SER_VER:
        raise _bad(data, f"family {family} / version {ser_ver} is not an HLL sketch (family 7, version 1)")
    if not _MIN_LG_K <= lg_k <= _MAX_LG_K:
        raise _bad(data, f"lgK {lg_k} is outside {_MIN_LG_K}..{_MAX_LG_K}")
    if mode not in _PRE_INTS or mode_byte >> 4 or pre_ints != _PRE_INTS[mode]:
        raise _bad(data, f"mode byte {mode_byte} with {pre_ints} preamble ints is not a LIST, SET or HLL image")
    if target != _HLL_8:
        raise _bad(data, "is not an HLL_8 sketch (the type Spark and monitor-service write)")
    if flags & ~_KNOWN_FLAGS:
        raise _bad(data, f"flags {flags:#04x} are not supported (big-endian or read-only images)")
    compact, empty = bool(flags & _COMPACT), bool(flags & _EMPTY)
    if mode == _LIST:
        _check_list(data, count_byte, compact, empty)
    elif mode == _SET:
        _check_set(data, lg_k, lg_arr, compact, empty)
    else:
        _check_hll(data, lg_k, count_byte)


def _bad(data: bytes, problem: str) -> FormatError:
    return FormatError(f"{len(data)} bytes are not a DataSketches HLL sketch: {problem}")


def _check_coupons(data: bytes, start: int, slots: int, count: int) -> None:
    coupons = struct.unpack_from(f"<{slots}I", data, start)
    used = [c for c in coupons if c]
    if len(used) != count or len(set(used)) != count:
        raise _bad(data, f"holds {len(used)} distinct coupons where its header says {count}")
    if any(not 1 <= c >> 26 <= _MAX_COUPON_VALUE for c in used):
        raise _bad(data, "holds a coupon with an impossible value")


def _check_list(data: bytes, count: int, compact: bool, empty: bool) -> None:
    if count >= _LIST_SLOTS or (empty and count):
        raise _bad(data, f"a LIST of {count} coupons does not fit its {_LIST_SLOTS} slots")
    slots = count if compact else _LIST_SLOTS
    if len(data) != 8 + 4 * slots:
        raise _bad(data, f"a LIST image of {count} coupons has {8 + 4 * slots} bytes")
    if not empty:
        _check_coupons(data, 8, slots, count)


def _check_set(data: bytes, lg_k: int, lg_arr: int, compact: bool, empty: bool) -> None:
    if len(data) < 12:
        raise _bad(data, "a SET image is shorter than its 12-byte header")
    (count,) = struct.unpack_from("<I", data, 8)
    # A SET grows by doubling from 2^5 slots, keeps at most 3/4 of them used, and turns into
    # an HLL array before it would need more than 2^(lgK-3) slots.
    if lg_k <= 7 or not 5 <= lg_arr <= lg_k - 3 or 4 * count > 3 * (1 << lg_arr) or empty:
        raise _bad(data, f"a SET of {count} coupons in 2^{lg_arr} slots is impossible for lgK {lg_k}")
    slots = count if compact else 1 << lg_arr
    if len(data) != 12 + 4 * slots:
        raise _bad(data, f"a SET image of {count} coupons has {12 + 4 * slots} bytes")
    _check_coupons(data, 12, slots, count)


def _check_hll(data: bytes, lg_k: int, cur_min: int) -> None:
    registers = 1 << lg_k
    if len(data) != 40 + registers:
        raise _bad(data, f"an HLL_8 image of lgK {lg_k} has {40 + registers} bytes")
    hip, kxq0, kxq1 = struct.unpack_from("<3d", data, 8)
    at_cur_min, aux_count = struct.unpack_from("<2I", data, 32)
    # curMin is the smallest register value and numAtCurMin how many registers hold it: the C++
    # library leaves curMin at 0, Spark's (Java) union result keeps it up to date once every
    # register is set (e.g. curMin 2 for a column of 175,000 distinct values).
    if aux_count or cur_min > _MAX_COUPON_VALUE or at_cur_min > registers or min(data[40:]) < cur_min:
        raise _bad(data, "its HLL_8 header counts are impossible")
    if not all(math.isfinite(v) and v >= 0 for v in (hip, kxq0, kxq1)):
        raise _bad(data, "its estimator state is not finite")
    if max(data[40:]) > _MAX_COUPON_VALUE:
        raise _bad(data, "holds a register value above 63")


def decode(blob: bytes) -> datasketches.hll_sketch:
    """Deserialize a sketch after `validate`, turning the library's bare errors into a `FormatError`."""
    validate(blob)
    try:
        return datasketches.hll_sketch.deserialize(bytes(blob))
    except (RuntimeError, ValueError, IndexError) as exc:
        raise FormatError(f"{len(blob)} bytes are not a DataSketches HLL sketch: {exc}") from exc


def union(a: bytes | None, b: bytes | None, lg_k: int = DEFAULT_LG_K) -> bytes | None:
    """Sketch of the union of both inputs; None stands for "no sketch" and yields the other side."""
    if a is None:
        return b
    if b is None:
        return a
    merged = datasketches.hll_union(lg_k)
    merged.update(decode(a))
    merged.update(decode(b))
    return bytes(merged.get_result(TARGET_TYPE).serialize_updatable())


def estimate(blob: bytes) -> float:
    """Estimated number of distinct values, rounded to a whole count as Deequ reports it."""
    value = decode(blob).get_estimate()
    if not math.isfinite(value):
        raise FormatError(f"the HLL sketch of {len(blob)} bytes estimates {value}, not a count")
    return float(round(value))
