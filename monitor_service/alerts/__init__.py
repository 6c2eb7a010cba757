"""Alerts: signed webhook deliveries with retries, sent by the scheduler process."""
