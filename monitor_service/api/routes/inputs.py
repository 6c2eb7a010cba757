"""The `input` object shared by schedules and baseline jobs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from monitor_service.specs import DatasetConfig, InputFormat, InputSpec


class InputIn(BaseModel):
    """Where the data is: a file, folder, glob or fsspec URL, its format and column mapping."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=2000)
    format: InputFormat = "capture"
    dataset_config: DatasetConfig = Field(default_factory=DatasetConfig)

    def spec(self) -> InputSpec:
        return InputSpec(path=self.path, format=self.format, dataset_config=self.dataset_config)
