"""The data-quality monitor: SageMaker-compatible statistics, constraints and the six checks."""

from monitor_service.monitors.data_quality.plugin import PLUGIN

__all__ = ["PLUGIN"]
