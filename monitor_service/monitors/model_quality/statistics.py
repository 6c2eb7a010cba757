"""Building and reading model-quality `statistics.json` (SageMaker's layout and key order).

`{"version": 0.0, "dataset": {"item_count": n}, "<problem>_metrics": {...}}` where every scalar
metric is `{"value": v, "standard_deviation": s}`. SageMaker's rule for `s`: with at least 200
samples, the standard deviation of the metric over five random 80 % subsamples; below that the
string "NaN". We use the population standard deviation (numpy's default) of the five values.
The subsamples are Bernoulli(0.8) draws made by hashing each record's id (see
`spark/model_metrics.py`), so a re-run on the same data gives the same numbers.
"""

from __future__ import annotations

import math
from typing import Any

from monitor_service.core.json_fields import Where, as_number
from monitor_service.errors import FormatError
from monitor_service.monitors.model_quality.metrics import METRICS
from monitor_service.monitors.model_quality.problem import BLOCKS

VERSION = 0.0
STD_MIN_SAMPLES = 200
SUBSAMPLES = 5
SUBSAMPLE_FRACTION = 0.8
STATISTICS = Where("model-quality statistics")


def population_std(values: list[float]) -> float:
    if not values or any(math.isnan(v) for v in values):
        return math.nan
    mean = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values))


def metric_block(problem_type: str, full: Any, subsamples: list[Any], item_count: int) -> dict[str, Any]:
    """Compute every registered metric of `problem_type`; structures carry no standard deviation.

    Entries whose function returns None (curves and AUC without a probability attribute) are
    left out of the block.
    """
    with_std = item_count >= STD_MIN_SAMPLES and len(subsamples) == SUBSAMPLES
    block: dict[str, Any] = {}
    for metric in METRICS[problem_type]:
        value = metric.compute(full)
        if value is None:
            continue
        if not metric.scalar:
            block[metric.name] = value
            continue
        std = population_std([float(metric.compute(s)) for s in subsamples]) if with_std else math.nan
        block[metric.name] = {"value": float(value), "standard_deviation": std}
    return block


def statistics_document(problem_type: str, item_count: int, block: dict[str, Any] | None) -> dict[str, Any]:
    """The whole file; without labelled records there is no metric block, only the count."""
    doc: dict[str, Any] = {"version": VERSION, "dataset": {"item_count": item_count}}
    if block is not None:
        doc[BLOCKS[problem_type].statistics] = block
    return doc


def find_block(doc: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The problem type and metric block of a statistics document (ours or SageMaker's)."""
    if not isinstance(doc, dict):
        raise FormatError("model-quality statistics must be a JSON object")
    for problem_type, blocks in BLOCKS.items():
        block = doc.get(blocks.statistics)
        if isinstance(block, dict):
            return problem_type, block
    names = [b.statistics for b in BLOCKS.values()]
    raise FormatError(f"no model-quality metric block found; expected one of {names}")


def scalar_metrics(block: dict[str, Any], where: Where = STATISTICS) -> dict[str, tuple[float, float]]:
    """`name -> (value, standard_deviation)` for the scalar entries of a metric block.

    Numbers may be SageMaker's strings "NaN" / "Infinity"; anything else that is not a number
    is a FormatError naming the metric and field.
    """
    out: dict[str, tuple[float, float]] = {}
    for name, entry in block.items():
        if isinstance(entry, dict) and "value" in entry:
            at = where / name
            out[name] = (as_number(entry["value"], at / "value"),
                         as_number(entry.get("standard_deviation", "NaN"), at / "standard_deviation"))
    return out
