"""Gateway configuration and variant state in the database: store, describe, change weights.

Each change is one transaction that first bumps `gateway_state.version` (taking the write lock
on SQLite and the row lock on PostgreSQL, so concurrent changes serialise), then writes. Gateway
processes poll that version (`state_version`) and read a consistent `snapshot` when it moves.

Semantics follow SageMaker: storing a configuration is `UpdateEndpoint` with a new endpoint
config (variant weights reset to `InitialVariantWeight` unless `retain_variant_properties`, as
`RetainAllVariantProperties`, keeps the live ones of variants that still exist);
`update_weights` is `UpdateEndpointWeightsAndCapacities` and is recorded with what it replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from monitor_service.errors import ConflictError, InvalidField, NotFoundError
from monitor_service.gateway.config import GatewayConfig, parse_config
from monitor_service.gateway.routing import VariantState
from monitor_service.store.gateway_models import (
    GatewayConfigVersion,
    GatewayState,
    GatewayVariantState,
    GatewayWeightChange,
)

STATE_ID = 1


@dataclass(frozen=True)
class Snapshot:
    """What a gateway process needs, read in one transaction."""

    version: int
    config_version: int | None
    document: dict[str, Any] | None
    variants: dict[str, list[VariantState]]


def _bump(session: Session, now: datetime, config_version: int | None = None) -> int:
    values: dict[str, Any] = {"version": GatewayState.version + 1, "updated_at": now}
    if config_version is not None:
        values["config_version"] = config_version
    changed = session.execute(update(GatewayState).where(GatewayState.id == STATE_ID).values(**values))
    if not changed.rowcount:  # type: ignore[attr-defined]
        session.add(GatewayState(id=STATE_ID, version=1, config_version=config_version, updated_at=now))
        session.flush()
        return 1
    return int(session.scalar(select(GatewayState.version).where(GatewayState.id == STATE_ID)) or 1)


def state_version(session: Session) -> int | None:
    return session.scalar(select(GatewayState.version).where(GatewayState.id == STATE_ID))


def current_config(session: Session) -> GatewayConfigVersion | None:
    return session.scalars(select(GatewayConfigVersion).order_by(GatewayConfigVersion.version.desc())
                           .limit(1)).first()


def config_history(session: Session, limit: int = 100) -> list[GatewayConfigVersion]:
    return list(session.scalars(select(GatewayConfigVersion).order_by(GatewayConfigVersion.version.desc())
                                .limit(max(1, min(limit, 1000)))))


def put_config(session: Session, config: GatewayConfig, *, now: datetime, created_by: str | None,
               comment: str | None = None, retain_variant_properties: bool = False) -> GatewayConfigVersion:
    """Store `config` as the next version and set every endpoint's variant state from it."""
    latest = session.scalar(select(func.max(GatewayConfigVersion.version))) or 0
    version = latest + 1
    _bump(session, now, config_version=version)
    row = GatewayConfigVersion(version=version, document=config.document(), comment=comment, created_by=created_by,
                               created_at=now)
    session.add(row)
    live = {(s.endpoint_name, s.variant_name): s for s in session.scalars(select(GatewayVariantState))}
    keep: set[tuple[str, str]] = set()
    for endpoint in config.Endpoints:
        for variant in endpoint.ProductionVariants:
            key = (endpoint.EndpointName, variant.VariantName)
            keep.add(key)
            state = live.get(key)
            if state is None:
                state = GatewayVariantState(endpoint_name=key[0], variant_name=key[1])
                session.add(state)
            retained = retain_variant_properties and key in live
            state.model_name = variant.ModelName
            if not retained:
                state.current_weight = state.desired_weight = variant.InitialVariantWeight
                state.current_instance_count = state.desired_instance_count = variant.InitialInstanceCount
            state.config_version = version
            state.updated_at = now
    for key, state in live.items():
        if key not in keep:
            session.delete(state)
    session.flush()
    return row


def variant_states(session: Session, endpoint: str | None = None) -> list[GatewayVariantState]:
    query = select(GatewayVariantState).order_by(GatewayVariantState.endpoint_name, GatewayVariantState.variant_name)
    if endpoint is not None:
        query = query.where(GatewayVariantState.endpoint_name == endpoint)
    return list(session.scalars(query))


def describe_endpoint(session: Session, endpoint: str) -> list[GatewayVariantState]:
    states = variant_states(session, endpoint)
    if not states:
        raise NotFoundError(f"endpoint {endpoint!r} is not in the gateway configuration")
    return states


def update_weights(session: Session, endpoint: str, desired: list[dict[str, Any]], *, now: datetime,
                   created_by: str | None) -> tuple[GatewayWeightChange, list[GatewayVariantState]]:
    """UpdateEndpointWeightsAndCapacities: change some variants' weights / counts at once, recorded."""
    states = {s.variant_name: s for s in describe_endpoint(session, endpoint)}
    seen: set[str] = set()
    for i, item in enumerate(desired):
        name = item["VariantName"]
        if name not in states:
            raise InvalidField(f"DesiredWeightsAndCapacities[{i}].VariantName",
                               f"endpoint {endpoint!r} has no variant {name!r} (variants: {', '.join(states)})")
        if name in seen:
            raise InvalidField(f"DesiredWeightsAndCapacities[{i}].VariantName", f"variant {name!r} is listed twice")
        seen.add(name)
    weights = {n: s.current_weight for n, s in states.items()}
    weights.update({d["VariantName"]: d["DesiredWeight"] for d in desired if d.get("DesiredWeight") is not None})
    if sum(weights.values()) <= 0:
        raise InvalidField("DesiredWeightsAndCapacities", "the weights would add up to 0; at least one variant "
                           "needs a weight > 0")
    version = _bump(session, now)
    previous = [_variant_dict(s) for s in states.values()]
    for item in desired:
        state = states[item["VariantName"]]
        if item.get("DesiredWeight") is not None:
            state.current_weight = state.desired_weight = float(item["DesiredWeight"])
        if item.get("DesiredInstanceCount") is not None:
            state.current_instance_count = state.desired_instance_count = int(item["DesiredInstanceCount"])
        state.updated_at = now
    change = GatewayWeightChange(endpoint_name=endpoint, changes=desired, previous=previous, state_version=version,
                                 created_by=created_by, created_at=now)
    session.add(change)
    session.flush()
    return change, list(states.values())


def weight_changes(session: Session, endpoint: str, limit: int = 100) -> list[GatewayWeightChange]:
    return list(session.scalars(select(GatewayWeightChange).where(GatewayWeightChange.endpoint_name == endpoint)
                                .order_by(GatewayWeightChange.id.desc()).limit(max(1, min(limit, 1000)))))


def _variant_dict(state: GatewayVariantState) -> dict[str, Any]:
    return {"VariantName": state.variant_name, "CurrentWeight": state.current_weight,
            "CurrentInstanceCount": state.current_instance_count}


def snapshot(session: Session) -> Snapshot | None:
    """The version, the configuration in force and the live variant states, consistently."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    state = session.get(GatewayState, STATE_ID)
    if state is None:
        return None
    config = current_config(session)
    variants: dict[str, list[VariantState]] = {}
    for s in variant_states(session):
        variants.setdefault(s.endpoint_name, []).append(
            VariantState(s.variant_name, s.current_weight, s.current_instance_count))
    return Snapshot(state.version, config.version if config else None, config.document if config else None, variants)


def import_config(session: Session, config: GatewayConfig, *, now: datetime, source: str) -> bool:
    """Store `config` as version 1 if the database holds none yet (a gateway seeding it from its file)."""
    if current_config(session) is not None:
        return False
    try:
        put_config(session, config, now=now, created_by=None, comment=f"imported from {source}")
    except ConflictError:
        return False
    return True


def stored_config(row: GatewayConfigVersion) -> GatewayConfig:
    return parse_config(row.document, f"stored gateway config version {row.version}")
