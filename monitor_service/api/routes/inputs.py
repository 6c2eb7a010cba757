"""The `input` object and the monitor settings shared by schedules and baseline jobs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from monitor_service.service.model_quality import ModelQualitySettings
from monitor_service.specs import DatasetConfig, InputFormat, InputSpec


class InputIn(BaseModel):
    """Where the data is: a file, folder, glob or fsspec URL, its format and column mapping."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=2000)
    format: InputFormat = "capture"
    dataset_config: DatasetConfig = Field(default_factory=DatasetConfig)

    def spec(self) -> InputSpec:
        return InputSpec(path=self.path, format=self.format, dataset_config=self.dataset_config)


class MonitorSettingsIn(BaseModel):
    """The settings of monitor types that need some: one field per type (see `service.monitors`)."""

    model_quality: ModelQualitySettings | None = Field(
        default=None, description="Required for monitor_type ModelQuality (and refused for others): the problem "
                                  "type, where the prediction, probability and label are, and the ground truth")

    def settings_given(self) -> dict[str, dict[str, Any]]:
        """The non-null settings objects by field, as `service.monitors.monitor_settings` takes them."""
        return {name: value.model_dump(mode="json") for name in MonitorSettingsIn.model_fields
                if (value := getattr(self, name)) is not None}

    def settings_changed(self) -> bool:
        return bool(self.model_fields_set & set(MonitorSettingsIn.model_fields))
