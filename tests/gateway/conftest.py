"""Fixtures of the gateway tests (the harness itself is `gateway_harness.py`)."""

from gateway_harness import gateways  # noqa: F401
