"""Tables of deployment strategies: rollouts and their audited events, gateway metric samples, bandit state.

- `rollouts`: one row per deployment / shadow test / A/B test / bandit: the validated spec, the
  machine's state (step, weights, failure counters), status and reason. It survives a restart of
  any process; the controller advances it.
- `rollout_events`: append-only history of every step, gate evaluation, promotion and rollback.
- `gateway_metric_samples`: each gateway process writes its per-variant counts every second or so
  (invocations, 5xx, ModelLatency bucket counts), so gates see the traffic of all processes.
- `rollout_assignments` (which variant of an A/B test or arm of a bandit answered an inference
  id, with its prediction) and
  `bandit_feedback` (rewards or labels posted by inference id, matched when the assignment
  arrives: delayed and out-of-order feedback both work). Rewards get a sequence number when they
  are matched; gateway processes replay rewards past the last number they saw.
- `rollout_leases`: which gateway process runs the controller (one at a time, renewed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from monitor_service.store.models import Base, BigId, JsonType, UTCDateTime


class Rollout(Base):
    __tablename__ = "rollouts"
    __table_args__ = (Index("ix_rollouts_endpoint_status", "endpoint_name", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    endpoint_name: Mapped[str] = mapped_column(String(63))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    spec: Mapped[dict[str, Any]] = mapped_column(JsonType)
    state: Mapped[dict[str, Any]] = mapped_column(JsonType)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RolloutEvent(Base):
    __tablename__ = "rollout_events"
    __table_args__ = (Index("ix_rollout_events_rollout_id", "rollout_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    rollout_id: Mapped[str] = mapped_column(ForeignKey("rollouts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JsonType)
    actor: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GatewayMetricSample(Base):
    __tablename__ = "gateway_metric_samples"
    __table_args__ = (Index("ix_gateway_metric_samples_variant_at", "endpoint_name", "variant_name", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    gateway_id: Mapped[str] = mapped_column(String(64))
    endpoint_name: Mapped[str] = mapped_column(String(63))
    variant_name: Mapped[str] = mapped_column(String(63))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    invocations: Mapped[int] = mapped_column(Integer)
    errors_5xx: Mapped[int] = mapped_column(Integer)
    latency_counts: Mapped[list[int]] = mapped_column(JsonType)


class RolloutAssignment(Base):
    __tablename__ = "rollout_assignments"
    __table_args__ = (Index("ix_rollout_assignments_reward_seq", "rollout_id", "reward_seq"),)

    rollout_id: Mapped[str] = mapped_column(ForeignKey("rollouts.id", ondelete="CASCADE"), primary_key=True)
    inference_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    variant_name: Mapped[str] = mapped_column(String(63))
    prediction: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    label: Mapped[str | None] = mapped_column(Text, nullable=True)
    reward: Mapped[float | None] = mapped_column(Float, nullable=True)
    reward_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)


class BanditFeedback(Base):
    __tablename__ = "bandit_feedback"
    __table_args__ = (Index("ix_bandit_feedback_pending", "endpoint_name", "applied_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    endpoint_name: Mapped[str] = mapped_column(String(63))
    inference_id: Mapped[str] = mapped_column(String(64))
    reward: Mapped[float | None] = mapped_column(Float, nullable=True)
    label: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    rollout_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class RolloutLease(Base):
    __tablename__ = "rollout_leases"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
