"""Validated descriptions of *what* to read: dataset configs, input specs and time windows.

These are plain pydantic models, validated once at the edge (CLI, REST, spark-submit job) and
then passed down as values. Nothing here touches Spark or the file system.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from monitor_service.core.json_fields import describe_validation_error
from monitor_service.core.quarantine import DEFAULT_MAX_COLUMNS, DEFAULT_MAX_LINE_BYTES
from monitor_service.errors import ConfigError
from monitor_service.security.paths import InputPath

InputFormat = Literal["capture", "csv", "jsonl", "parquet"]
INPUT_FORMATS: tuple[str, ...] = ("capture", "csv", "jsonl", "parquet")
JsonLayout = Literal["auto", "records", "columnar"]
_ATTRIBUTE = re.compile(r"[A-Za-z0-9_\-]{1,128}")


class SideConfig(BaseModel):
    """How to read one side (endpoint input or endpoint output) of a capture record.

    `names` names positional values (CSV fields, or a JSON record that is a bare scalar or a
    list of scalars). `records_attribute` is the key holding the list of records in a JSON
    payload (SageMaker / TF-Serving convention: `instances` for requests, `predictions` for
    responses). `layout` says whether a JSON object is one record (`records`), a
    column-oriented batch `{"a": [..], "b": [..]}` (`columnar`), or to decide per payload
    (`auto`: columnar when an object has two or more keys that all hold lists of equal length).
    `features_attribute` picks the key of a JSON record that holds its values as a positional
    list (e.g. `features` in `{"features": [28, 2, ...]}`), so `names` can name them.
    """

    model_config = ConfigDict(extra="forbid")

    names: list[str] | None = None
    records_attribute: str | None = None
    features_attribute: str | None = None
    layout: JsonLayout = "auto"

    @field_validator("records_attribute", "features_attribute")
    @classmethod
    def _attribute_name(cls, value: str | None) -> str | None:
        # These names go into Spark SQL schema strings and JSON paths: keep them plain.
        if value is not None and not _ATTRIBUTE.fullmatch(value):
            raise ValueError(f"{value!r} is not a plain JSON key; use letters, digits, '_' and '-' only")
        return value

    @field_validator("names")
    @classmethod
    def _unique_names(cls, names: list[str] | None) -> list[str] | None:
        if names is not None:
            duplicated = sorted({n for n in names if names.count(n) > 1})
            if duplicated:
                raise ValueError(f"duplicate column names {duplicated}; every name must be unique")
            if any(not n for n in names):
                raise ValueError("column names must be non-empty strings")
        return names


class DatasetConfig(BaseModel):
    """How captured or plain data maps to named columns.

    SageMaker maps CSV capture by position with the outputs first (`_c0` is the prediction).
    We keep that default so existing baselines line up, but let users name every column so
    that features are never mixed up by position (a known SageMaker pitfall, sdk #3277).
    """

    model_config = ConfigDict(extra="forbid")

    input: SideConfig = Field(default_factory=lambda: SideConfig(records_attribute="instances"))
    output: SideConfig = Field(default_factory=lambda: SideConfig(records_attribute="predictions"))
    output_position: Literal["START", "END"] = "START"
    capture_output: bool = True
    header: bool = False
    csv_delimiter: str = ","
    quarantine_sample_size: int = Field(default=100, ge=0, le=100_000)
    max_line_bytes: int = Field(default=DEFAULT_MAX_LINE_BYTES, ge=1024, le=2**31 - 1,
                                description="Longer lines are quarantined as line_too_long, unparsed")
    max_columns: int = Field(default=DEFAULT_MAX_COLUMNS, ge=1, le=100_000,
                             description="Fields kept per record; further keys are dropped and counted")

    @model_validator(mode="after")
    def _no_name_clash(self) -> DatasetConfig:
        clash = set(self.input.names or []) & set(self.output.names or [])
        if clash:
            raise ValueError(f"names {sorted(clash)} are used for both input and output columns")
        if len(self.csv_delimiter) != 1 or self.csv_delimiter in "\"'\\\r\n":
            raise ValueError("csv_delimiter must be one character other than a quote, a backslash or a line break")
        return self

    @classmethod
    def load(cls, path: str | Path | None) -> DatasetConfig:
        """Read a dataset config JSON file; `None` gives SageMaker's defaults."""
        if path is None:
            return cls()
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"cannot read dataset config {path}: {exc.strerror}", hint="pass an existing JSON file"
            ) from exc
        try:
            return cls.model_validate(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"dataset config {path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from exc
        except ValidationError as exc:
            raise ConfigError(f"dataset config {path} is invalid: {describe_validation_error(exc, None)}") from exc


class Window(BaseModel):
    """A half-open time window `[start, end)` over `inferenceTime`, in UTC."""

    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        try:
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except OverflowError:  # e.g. 9999-12-31T23:00:00-05:00 is after the last representable instant
            raise ValueError(f"{value.isoformat()} is outside the years 1..9999 in UTC") from None

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end <= self.start:
            raise ValueError(f"window end {self.end.isoformat()} must be after start {self.start.isoformat()}")
        return self

    def label(self) -> str:
        return f"[{self.start.strftime('%Y-%m-%dT%H:%M:%SZ')}, {self.end.strftime('%Y-%m-%dT%H:%M:%SZ')})"


class InputSpec(BaseModel):
    """What to read: a path (file, folder, glob or fsspec URL), its format and dataset config."""

    model_config = ConfigDict(extra="forbid")

    path: InputPath
    format: InputFormat = "capture"
    dataset_config: DatasetConfig = Field(default_factory=DatasetConfig)
    window: Window | None = None


def parse_timestamp(text: str, what: str) -> datetime:
    """Parse an ISO-8601 timestamp from the command line or an API call (naive means UTC)."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(
            f"{what} {text!r} is not an ISO-8601 timestamp", hint="use e.g. 2024-05-01T13:00:00Z"
        ) from exc
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
