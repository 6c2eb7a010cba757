"""Deployment strategies on the inference gateway: blue/green shifting, gates, shadow, A/B, bandits, autoscaling.

Pure logic lives here (specs, traffic schedules, gate evaluation, the state machine, statistics,
bandit policies, the autoscaling simulator); the database side is `monitor_service.service.rollouts`
and the gateway side is `monitor_service.gateway.rollout_runtime`.
"""
