"""Independent references for the bias tests: smclarify 0.5 called directly, and count tables built with numpy.

Nothing here imports the code under test except the `CountTable` container the maths take
(its cells are filled here, with numpy, from the raw records).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from monitor_service.monitors.model_bias.counts import CountTable

logging.getLogger("smclarify").setLevel(logging.CRITICAL)


def clarify(
    df: pd.DataFrame,
    facet: str,
    values: list[Any] | None,
    label: str,
    label_values: list[Any],
    prediction: str | None = None,
    group: str | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """smclarify's bias_report per stage: {"pre": [entries], "post": [entries]} (post only with a prediction)."""
    from smclarify.bias.report import FacetColumn, LabelColumn, StageType, bias_report

    group_series = df[group] if group else None
    frame = df.drop(columns=[prediction]) if prediction else df
    out = {
        "pre": bias_report(frame, FacetColumn(facet, values), LabelColumn(label, df[label], label_values),
                           StageType.PRE_TRAINING, group_variable=group_series)
    }
    if prediction:
        out["post"] = bias_report(df, FacetColumn(facet, values), LabelColumn(label, df[label], label_values),
                                  StageType.POST_TRAINING,
                                  predicted_label_column=LabelColumn(prediction, df[prediction], label_values),
                                  group_variable=group_series)
    return out


def by_name(entry: dict[str, Any]) -> dict[str, Any]:
    """{metric name: value or ("error", text)} of one smclarify facet entry."""
    return {m["name"]: ("error", m["error"]) if "error" in m else m["value"] for m in entry["metrics"]}


def table_from_arrays(in_d: np.ndarray, label: np.ndarray, pred: np.ndarray, group: np.ndarray | None) -> CountTable:
    """A count table filled with numpy from per-record booleans (and group values)."""
    groups = sorted({str(g) for g in group}) if group is not None else None
    slot = {g: i for i, g in enumerate(groups or [])}
    table = CountTable.empty(groups)
    where = np.array([slot[str(g)] for g in group]) if group is not None else np.zeros(len(in_d), dtype=int)
    np.add.at(table.cells, (in_d.astype(int), label.astype(int), pred.astype(int), where), 1.0)
    return table
