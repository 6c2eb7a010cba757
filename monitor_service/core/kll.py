"""KLL quantile sketch in the shape SageMaker / Deequ write it: levels of items, level h weighs 2^h.

The Spark profiler builds sketches with Spark's DataSketches aggregate `kll_sketch_agg_double`;
`from_datasketches` turns that binary into levels, which is exactly the `sketch.data` array of
`statistics.json` (DataSketches and Deequ both weigh level h items by 2^h). Merging follows
Deequ's deterministic compaction (`QuantileNonSample`), so a merged sketch is again a valid
SageMaker sketch whose total weight is exactly the sum of the inputs.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from monitor_service.errors import FormatError

DEFAULT_K = 2048  # Deequ KLLSketch.DEFAULT_SKETCH_SIZE (also the DataSketches k we ask for)
DEFAULT_C = 0.64  # Deequ KLLSketch.DEFAULT_SHRINKING_FACTOR
NUM_BUCKETS = 10  # SageMaker: "we materialize the distribution in 10 buckets"

_KLL_FAMILY_ID = 15
_FLAG_EMPTY = 1
_FLAG_SINGLE_ITEM = 4
_MIN_K = 8  # DataSketches KLL
_MAX_LEVELS = 61  # level h weighs 2^h and n is a u64


def level_capacity(k: int, c: float, height: int) -> int:
    """Deequ's capacity of level `height`: 2*(ceil(k*c^h/2)+1); level 0 is the largest."""
    return 2 * (math.ceil(k * c**height / 2) + 1)


@dataclass
class KllSketch:
    """Immutable-by-convention KLL sketch: `levels[h]` holds items of weight 2**h."""

    levels: list[list[float]]
    k: int = DEFAULT_K
    c: float = DEFAULT_C
    _sorted: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_values(cls, values: list[float] | np.ndarray, k: int = DEFAULT_K, c: float = DEFAULT_C) -> KllSketch:
        """Build a sketch from raw values with Deequ's update/condense rules (small inputs, tests)."""
        sketch = cls(levels=[[]], k=k, c=c)
        compressions: list[int] = [0]
        for v in values:
            sketch.levels[0].append(float(v))
            if sketch.num_retained > sketch.total_capacity:
                sketch._condense(compressions)
        return sketch

    @property
    def n(self) -> float:
        return float(sum(len(level) * 2**h for h, level in enumerate(self.levels)))

    @property
    def num_retained(self) -> int:
        return sum(len(level) for level in self.levels)

    @property
    def total_capacity(self) -> int:
        return sum(level_capacity(self.k, self.c, h) for h in range(len(self.levels)))

    def is_empty(self) -> bool:
        return self.num_retained == 0

    def sorted_items(self) -> tuple[np.ndarray, np.ndarray]:
        """Items sorted ascending with their cumulative weights."""
        if self._sorted is None:
            items = np.concatenate([np.asarray(lv, dtype=float) for lv in self.levels]) if self.levels else np.array([])
            weights = (
                np.concatenate([np.full(len(lv), 2.0**h) for h, lv in enumerate(self.levels)])
                if self.levels
                else np.array([])
            )
            order = np.argsort(items, kind="stable")
            self._sorted = (items[order], np.cumsum(weights[order]))
        return self._sorted

    def rank(self, x: float | np.ndarray) -> np.ndarray | float:
        """Total weight of items <= x (Deequ `getRank`)."""
        items, cum = self.sorted_items()
        idx = np.searchsorted(items, x, side="right")
        return (
            np.where(idx > 0, cum[np.maximum(idx - 1, 0)], 0.0) if len(items) else np.zeros_like(np.asarray(x, float))
        )

    def rank_exclusive(self, x: float | np.ndarray) -> np.ndarray | float:
        """Total weight of items < x (Deequ `getRankExclusive`)."""
        items, cum = self.sorted_items()
        idx = np.searchsorted(items, x, side="left")
        return (
            np.where(idx > 0, cum[np.maximum(idx - 1, 0)], 0.0) if len(items) else np.zeros_like(np.asarray(x, float))
        )

    def cdf(self, x: float | np.ndarray) -> np.ndarray | float:
        """Empirical CDF P(X <= x) estimated from the sketch."""
        total = self.n
        return np.asarray(self.rank(x), dtype=float) / total if total else np.zeros_like(np.asarray(x, float))

    def quantile(self, q: float | np.ndarray) -> np.ndarray | float:
        """Smallest item whose normalized inclusive rank is >= q (inverse of `cdf`)."""
        items, cum = self.sorted_items()
        if not len(items):
            return np.full_like(np.asarray(q, float), np.nan)
        target = np.asarray(q, dtype=float) * cum[-1]
        idx = np.searchsorted(cum, target, side="left")
        return items[np.clip(idx, 0, len(items) - 1)]

    def buckets(self, minimum: float, maximum: float, count: int = NUM_BUCKETS) -> list[dict[str, float]]:
        """SageMaker's equal-width buckets between min and max (Deequ `computeMetricFrom`)."""
        out = []
        for i in range(count):
            low = minimum + (maximum - minimum) * i / count
            high = minimum + (maximum - minimum) * (i + 1) / count
            upper_rank = self.rank(high) if i == count - 1 else self.rank_exclusive(high)
            out.append(
                {
                    "lower_bound": float(low),
                    "upper_bound": float(high),
                    "count": float(upper_rank - self.rank_exclusive(low)),
                }
            )
        return out

    def to_data(self) -> list[list[float]]:
        """The `sketch.data` array of statistics.json."""
        return [[float(v) for v in level] for level in self.levels]

    def merge(self, other: KllSketch) -> KllSketch:
        """Deequ `QuantileNonSample.merge`: concatenate level buffers, then condense to capacity."""
        height = max(len(self.levels), len(other.levels), 1)
        levels = [list(self.levels[h]) if h < len(self.levels) else [] for h in range(height)]
        for h, level in enumerate(other.levels):
            levels[h].extend(level)
        merged = KllSketch(levels=levels, k=self.k, c=self.c)
        compressions = [0] * height
        while merged.num_retained >= merged.total_capacity:
            merged._condense(compressions)
        return merged

    def _condense(self, compressions: list[int]) -> None:
        """Compact the first over-full level into the one above it (one compaction per call)."""
        self._sorted = None
        for h, level in enumerate(self.levels):
            if len(level) >= level_capacity(self.k, self.c, h):
                if h + 1 == len(self.levels):
                    self.levels.append([])
                    compressions.append(0)
                self.levels[h + 1].extend(self._compact(h, compressions))
                return

    def _compact(self, h: int, compressions: list[int]) -> list[float]:
        """Deterministic Deequ compaction: keep every other sorted item, offset alternating 0,1,1,0."""
        level = self.levels[h]
        even = len(level) - len(level) % 2
        offset = (compressions[h] // 2 + compressions[h]) % 2  # 0,1,1,0,0,1,1,0,...
        kept = sorted(level[:even])[offset:even:2]
        self.levels[h] = level[even:]  # the odd last item (original order) stays
        compressions[h] += 1
        return kept


def from_datasketches(blob: bytes | bytearray | None, k_hint: int = DEFAULT_K) -> KllSketch:
    """Decode a DataSketches `KllDoublesSketch` (Spark `kll_sketch_agg_double`) into levels.

    Serial layout (little endian): preInts u8, serVer u8, family u8 (15), flags u8, k u16, m u8,
    unused u8; then, for a full sketch, n u64, minK u16, numLevels u8, unused u8, numLevels
    int32 level offsets, min f64, max f64 and the retained items from level 0 upwards. A
    single-item sketch stores just that item after the 8-byte preamble.
    """
    if blob is None:
        return KllSketch(levels=[[]], k=k_hint)
    data = bytes(blob)
    if len(data) < 8:
        raise FormatError(f"KLL sketch of {len(data)} bytes is too short to hold a header")
    _pre_ints, _ser_ver, family, flags = data[0], data[1], data[2], data[3]
    (k,) = struct.unpack_from("<H", data, 4)
    if family != _KLL_FAMILY_ID:
        raise FormatError(f"binary sketch has family id {family}, expected KLL ({_KLL_FAMILY_ID})")
    if k < _MIN_K:
        raise FormatError(f"KLL sketch has k={k}; DataSketches needs k >= {_MIN_K}")
    if flags & _FLAG_EMPTY:
        return KllSketch(levels=[[]], k=k)
    if flags & _FLAG_SINGLE_ITEM:
        if len(data) < 16:
            raise FormatError(f"single-item KLL sketch of {len(data)} bytes has no item")
        (item,) = struct.unpack_from("<d", data, 8)
        return KllSketch(levels=[[item]], k=k)
    if len(data) < 20:
        raise FormatError(f"KLL sketch of {len(data)} bytes is too short for its header")
    (n,) = struct.unpack_from("<Q", data, 8)
    num_levels = data[18]
    items_at = 20 + 4 * num_levels + 16
    if not 1 <= num_levels <= _MAX_LEVELS or len(data) < items_at or (len(data) - items_at) % 8:
        raise FormatError(f"KLL sketch of {len(data)} bytes cannot hold {num_levels} levels and whole items")
    offsets = list(struct.unpack_from(f"<{num_levels}i", data, 20))
    retained = (len(data) - items_at) // 8
    bounds = [*offsets, offsets[0] + retained]
    if offsets[0] < 0 or any(b > c for b, c in pairwise(bounds)):
        raise FormatError("KLL sketch level offsets are not ascending within its items")
    items = struct.unpack_from(f"<{retained}d", data, items_at)
    levels = [list(items[bounds[h] - offsets[0] : bounds[h + 1] - offsets[0]]) for h in range(num_levels)]
    sketch = KllSketch(levels=levels, k=k)
    if sketch.n != n:
        raise FormatError(f"KLL sketch levels weigh {sketch.n:g} but the header says n={n}")
    return sketch
