"""The gateway's tables: configuration versions, live variant state, and recorded weight changes.

Kept apart from `models.py` (same `Base`, so one metadata and one migration history). Every change
(a new configuration, UpdateEndpointWeightsAndCapacities) happens in one transaction that also
bumps `gateway_state.version`; gateway processes poll that one row and reload when it moves, so
they pick up a change whole. Variant state (weights, instance counts) lives here rather than in
the configuration so deployment strategies can move weights step by step, audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from monitor_service.store.models import Base, BigId, JsonType, UTCDateTime


class GatewayState(Base):
    """One row (id 1): the version every gateway change bumps, and the configuration in force."""

    __tablename__ = "gateway_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer)
    config_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GatewayConfigVersion(Base):
    """Every configuration ever stored (append-only): the newest is the one in force."""

    __tablename__ = "gateway_configs"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]] = mapped_column(JsonType)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GatewayVariantState(Base):
    """A production variant's live weight and instance count (DescribeEndpoint's Current/Desired)."""

    __tablename__ = "gateway_variant_states"

    endpoint_name: Mapped[str] = mapped_column(String(63), primary_key=True)
    variant_name: Mapped[str] = mapped_column(String(63), primary_key=True)
    model_name: Mapped[str] = mapped_column(String(63))
    current_weight: Mapped[float] = mapped_column(Float)
    desired_weight: Mapped[float] = mapped_column(Float)
    current_instance_count: Mapped[int] = mapped_column(Integer)
    desired_instance_count: Mapped[int] = mapped_column(Integer)
    config_version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GatewayWeightChange(Base):
    """One recorded UpdateEndpointWeightsAndCapacities call: what was asked, what it replaced, by whom."""

    __tablename__ = "gateway_weight_changes"
    __table_args__ = (Index("ix_gateway_weight_changes_endpoint_id", "endpoint_name", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    endpoint_name: Mapped[str] = mapped_column(String(63))
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    previous: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    state_version: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
