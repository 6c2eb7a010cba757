"""Builders for record frames in the shape the capture / dataset readers produce."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

RECORD_SCHEMA = ("event_id string, inference_id string, inference_time timestamp, record_index int, "
                 "source_file string, fields array<struct<name:string,value:string>>")


@pytest.fixture
def records(spark: Any) -> Callable[..., Any]:
    """`records([{"field": "value", ...}, ...], event_ids=..., inference_ids=...)` -> DataFrame."""
    def build(rows: list[dict[str, str | None]], event_ids: list[str] | None = None,
              inference_ids: list[str | None] | None = None, record_indexes: list[int] | None = None) -> Any:
        when = datetime(2024, 5, 1, 10, 30, tzinfo=UTC)
        data = []
        for i, row in enumerate(rows):
            data.append((
                event_ids[i] if event_ids else f"e{i}",
                inference_ids[i] if inference_ids else None,
                when, record_indexes[i] if record_indexes else 0, "test",
                [(name, value) for name, value in row.items()],
            ))
        return spark.createDataFrame(data, RECORD_SCHEMA)
    return build
