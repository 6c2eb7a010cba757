"""HyperLogLog distinct-count sketches in the binary form Spark's `hll_sketch_agg` writes.

Profiles keep the serialized sketch (not just its estimate) so that two profiles can be merged
without rescanning: the union of two sketches estimates the distinct count of the union of
their data. Spark 4.1's `hll_sketch_agg(expr)` writes the *updatable* DataSketches image of an
`HLL_8` sketch with lgConfigK 12; we write the same image, so Spark's `hll_union_agg` and
`hll_sketch_estimate` read our sketches and we read Spark's byte for byte. Values are hashed
as their UTF-8 string, exactly as Spark does for `cast(x as string)`.
"""

from __future__ import annotations

from collections.abc import Iterable

import datasketches

from monitor_service.errors import FormatError

DEFAULT_LG_K = 12  # Spark hll_sketch_agg default lgConfigK: relative standard error about 1.6 %
TARGET_TYPE = datasketches.tgt_hll_type.HLL_8  # what Spark's HllSketchAgg builds


def sketch_of(values: Iterable[str], lg_k: int = DEFAULT_LG_K) -> bytes:
    """Serialized sketch of `values` (small inputs, tests, the in-process engine)."""
    sketch = datasketches.hll_sketch(lg_k, TARGET_TYPE)
    for value in values:
        sketch.update(value)
    return bytes(sketch.serialize_updatable())


def decode(blob: bytes) -> datasketches.hll_sketch:
    """Deserialize a sketch, turning the library's bare errors into a `FormatError`."""
    try:
        return datasketches.hll_sketch.deserialize(bytes(blob))
    except (RuntimeError, ValueError) as exc:
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
    return float(round(decode(blob).get_estimate()))
