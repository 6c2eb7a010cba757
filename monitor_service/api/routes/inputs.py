"""The `input` object and the monitor settings shared by schedules and baseline jobs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from monitor_service.api.monitor_models import settings_fields
from monitor_service.monitors import MONITORS
from monitor_service.security.paths import InputPath
from monitor_service.security.text import RequestModel
from monitor_service.specs import DatasetConfig, InputFormat, InputSpec

SETTINGS_FIELDS: tuple[str, ...] = tuple(settings_fields(MONITORS))


class InputIn(RequestModel):
    """Where the data is: a file, folder, glob or fsspec URL, its format and column mapping."""

    model_config = ConfigDict(extra="forbid")

    path: InputPath = Field(min_length=1, max_length=2000)
    format: InputFormat = "capture"
    dataset_config: DatasetConfig = Field(default_factory=DatasetConfig)

    def spec(self) -> InputSpec:
        return InputSpec(path=self.path, format=self.format, dataset_config=self.dataset_config)


def settings_given(body: BaseModel) -> dict[str, dict[str, Any]]:
    """The non-null settings objects of a request by field, as `service.monitor_settings` takes them."""
    return {name: value.model_dump(mode="json") for name in SETTINGS_FIELDS
            if isinstance(value := getattr(body, name, None), BaseModel)}


class _SettingsBase(RequestModel):
    """The settings of monitor types that have some: one optional field per type (edits of schedules)."""

    def settings_given(self) -> dict[str, dict[str, Any]]:
        return settings_given(self)

    def settings_changed(self) -> bool:
        return bool(self.model_fields_set & set(SETTINGS_FIELDS))


MonitorSettingsIn = create_model("MonitorSettingsIn", __base__=_SettingsBase,  # type: ignore[call-overload]
                                 **settings_fields(MONITORS))
