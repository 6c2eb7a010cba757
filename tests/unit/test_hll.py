"""HLL sketches: byte-compatible with Spark's hll_sketch_agg, unions, estimates, clear errors."""

from __future__ import annotations

import base64

import datasketches
import pytest

from monitor_service.core import hll
from monitor_service.errors import FormatError

# Spark 4.1.4, local[1]: spark.range(0, 10).agg(F.expr("hll_sketch_agg(cast(id as string))")),
# base64 of the returned binary (an updatable HLL_8 image, lgConfigK 12, still in list mode).
SPARK_SKETCH_OF_0_TO_9 = (
    "AwEHDAUAAAkKAAAAwH9VBgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAMeEnhQAAAAAyUl0DKqmDwYAAAAAsve8FwAAAACu1ioP"
    "jyzZDgAAAAAAAAAAUkn1B9PxkQUAAAAAAAAAAAAAAAAAAAAA2Av9CQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
)


def test_sketch_is_byte_identical_to_spark() -> None:
    spark_blob = base64.b64decode(SPARK_SKETCH_OF_0_TO_9)
    assert hll.sketch_of(str(i) for i in range(10)) == spark_blob
    decoded = hll.decode(spark_blob)
    assert (decoded.lg_config_k, decoded.tgt_type) == (12, datasketches.tgt_hll_type.HLL_8)
    assert hll.estimate(spark_blob) == 10.0


def test_union_estimates_the_union_of_the_data() -> None:
    a = hll.sketch_of(str(i) for i in range(0, 3000))
    b = hll.sketch_of(str(i) for i in range(2000, 5000))
    merged = hll.union(a, b)
    assert merged is not None
    assert hll.estimate(merged) == pytest.approx(5000, rel=0.03)
    assert hll.decode(merged).tgt_type == datasketches.tgt_hll_type.HLL_8


def test_union_with_a_missing_sketch_returns_the_other_unchanged() -> None:
    a = hll.sketch_of(["x", "y"])
    assert hll.union(a, None) is a
    assert hll.union(None, a) is a
    assert hll.union(None, None) is None


def test_union_is_exact_for_small_overlapping_sets() -> None:
    merged = hll.union(hll.sketch_of(["a", "b", "c"]), hll.sketch_of(["c", "d"]))
    assert merged is not None and hll.estimate(merged) == 4.0


def test_garbage_bytes_raise_format_error() -> None:
    with pytest.raises(FormatError, match="not a DataSketches HLL sketch"):
        hll.estimate(b"not a sketch")


def _with_cur_min(image: bytes, cur_min: int) -> bytes:
    """An HLL_8 image with curMin / numAtCurMin set as Spark's (Java) union result writes them."""
    registers = image[40:]
    head = bytearray(image[:40])
    head[6] = cur_min
    head[32:36] = sum(1 for r in registers if r == cur_min).to_bytes(4, "little")
    return bytes(head) + registers


def test_full_sketches_with_their_current_minimum_are_read() -> None:
    """Spark writes curMin > 0 once every register is set (a column of many distinct values)."""
    full = hll.sketch_of(str(i) for i in range(200_000))
    assert full[7] & 3 == 2 and min(full[40:]) >= 1 and full[6] == 0  # the C++ library leaves curMin at 0
    low = min(full[40:])
    spark_like = _with_cur_min(full, low)
    assert hll.estimate(spark_like) == hll.estimate(full) == pytest.approx(200_000, rel=0.05)
    with pytest.raises(FormatError, match="header counts are impossible"):
        hll.validate(_with_cur_min(full, low + 1))  # registers below the minimum it claims
