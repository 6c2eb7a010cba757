"""The REST API: `create_app(settings)` builds it; routes are thin and call `monitor_service.service`."""

from monitor_service.api.app import create_app

__all__ = ["create_app"]
