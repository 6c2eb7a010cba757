"""The service's tables (SQLAlchemy 2.0 declarative), identical on SQLite and PostgreSQL.

Times are stored as naive UTC and handed back timezone-aware, so comparisons and keyset
cursors behave the same on both databases. Alembic migrations in `migrations/` create exactly
these tables; `tests/service/test_store.py` checks that they agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, attribute_keyed_dict, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Naive UTC in the database, aware UTC in Python."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to the store; pass timezone-aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


JsonType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY, so big ids are plain integers there.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class UiSession(Base):
    """A dashboard sign-in: the cookie holds a random token, the table only its SHA-256 hash.

    A session lives until `expires_at`, until it is signed out (row deleted), or until its API key
    is revoked (the lookup joins the key and requires it active; deleting the key deletes it).
    """

    __tablename__ = "ui_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    api_key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Baseline(Base):
    __tablename__ = "baselines"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    # The documents' format: only schedules of the same monitor type may use the baseline.
    monitor_type: Mapped[str] = mapped_column(String(32), default="DataQuality", server_default="DataQuality")
    version: Mapped[int] = mapped_column(Integer, default=1)
    source: Mapped[str] = mapped_column(String(16))
    # How many features the documents describe, kept so that listing baselines never loads them.
    feature_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    job_input: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The current version's documents by name (statistics, constraints, analysis, ...): which names
    # a baseline has is its monitor type's business (`MonitorPlugin.documents`), not the table's.
    documents: Mapped[dict[str, BaselineDocument]] = relationship(
        collection_class=attribute_keyed_dict("name"), cascade="all, delete-orphan", passive_deletes=True,
        lazy="select")

    def document(self, name: str) -> dict[str, Any] | None:
        found = self.documents.get(name)
        return None if found is None else found.document

    def contents(self) -> dict[str, dict[str, Any]]:
        return {name: d.document for name, d in self.documents.items()}

    def paths(self) -> dict[str, str]:
        return {name: d.path for name, d in self.documents.items() if d.path is not None}


class BaselineDocument(Base):
    """One JSON document of a baseline's current version; the file `path` holds the same version."""

    __tablename__ = "baseline_documents"
    __table_args__ = (UniqueConstraint("baseline_id", "name", name="uq_baseline_documents_baseline_name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    baseline_id: Mapped[str] = mapped_column(ForeignKey("baselines.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]] = mapped_column(JsonType)
    path: Mapped[str | None] = mapped_column(String(2000), nullable=True)


class Schedule(Base):
    __tablename__ = "schedules"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    monitor_type: Mapped[str] = mapped_column(String(32))
    input_spec: Mapped[dict[str, Any]] = mapped_column(JsonType)
    # Settings of the monitor type, e.g. ModelQuality's problem type and attributes (null: none).
    monitor_settings: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True)
    baseline_id: Mapped[str] = mapped_column(ForeignKey("baselines.id", ondelete="RESTRICT"), index=True)
    schedule_expression: Mapped[str] = mapped_column(String(200))
    start_offset: Mapped[str | None] = mapped_column(String(40), nullable=True)
    end_offset: Mapped[str | None] = mapped_column(String(40), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    # The last scheduled time already turned into an execution; the planner resumes after it.
    planned_until: Mapped[datetime] = mapped_column(UTCDateTime())
    skipped_windows: Mapped[int] = mapped_column(Integer, default=0)
    # Why the planner could not plan it on its last try (null once planning works again).
    planning_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Execution(Base):
    __tablename__ = "executions"
    __table_args__ = (
        # Exactly once per (schedule, scheduled window); manual runs carry no key.
        UniqueConstraint("schedule_id", "dedup_key", name="uq_executions_schedule_window"),
        Index("ix_executions_status_created", "status", "created_at"),
        Index("ix_executions_schedule_window", "schedule_id", "window_end"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    job: Mapped[str] = mapped_column(String(16))
    monitor_type: Mapped[str] = mapped_column(String(32))
    trigger: Mapped[str] = mapped_column(String(16))
    schedule_id: Mapped[str | None] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), nullable=True
    )
    baseline_id: Mapped[str | None] = mapped_column(
        ForeignKey("baselines.id", ondelete="CASCADE"), nullable=True, index=True
    )
    baseline_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    dedup_key: Mapped[str | None] = mapped_column(String(40), nullable=True)
    scheduled_time: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status: Mapped[str] = mapped_column(String(24))
    request: Mapped[dict[str, Any]] = mapped_column(JsonType)
    artifact_dir: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    duration_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    stop_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    records_read: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    records_analyzed: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    records_quarantined: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    quarantined_by_reason: Mapped[dict[str, int] | None] = mapped_column(JsonType, nullable=True)
    violation_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    violations_by_check: Mapped[dict[str, int] | None] = mapped_column(JsonType, nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    artifacts: Mapped[dict[str, str] | None] = mapped_column(JsonType, nullable=True)


class Violation(Base):
    __tablename__ = "violations"
    __table_args__ = (
        # Newest first by window end, then id; one index per common filter keeps pages O(limit).
        Index("ix_violations_window", "window_end", "id"),
        Index("ix_violations_schedule_window", "schedule_id", "window_end", "id"),
        Index("ix_violations_schedule_feature_window", "schedule_id", "feature_name", "window_end", "id"),
        Index("ix_violations_schedule_feature_check_window", "schedule_id", "feature_name", "check_type",
              "window_end", "id"),
        Index("ix_violations_feature_window", "feature_name", "window_end", "id"),
        Index("ix_violations_check_window", "check_type", "window_end", "id"),
        Index("ix_violations_monitor_window", "monitor_type", "window_end", "id"),
        Index("ix_violations_schedule_metric_window", "schedule_id", "metric_name", "window_end", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    execution_id: Mapped[str] = mapped_column(ForeignKey("executions.id", ondelete="CASCADE"), index=True)
    schedule_id: Mapped[str | None] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"), nullable=True)
    monitor_type: Mapped[str] = mapped_column(String(32))
    # What the violation is about: a feature (data quality), a metric (model quality), a facet (bias), ...
    feature_name: Mapped[str] = mapped_column(String(255))
    check_type: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    # The metric that broke its constraint, where the monitor type names one (auc, DPPL, shap).
    metric_name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # The rest of the violation entry as the monitor wrote it (e.g. a bias facet's value).
    details: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FeatureMetric(Base):
    __tablename__ = "feature_metrics"
    __table_args__ = (Index("ix_feature_metrics_schedule_feature_window", "schedule_id", "feature_name", "window_end"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    execution_id: Mapped[str] = mapped_column(ForeignKey("executions.id", ondelete="CASCADE"), index=True)
    schedule_id: Mapped[str | None] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"), nullable=True)
    feature_name: Mapped[str] = mapped_column(String(255))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    metrics: Mapped[dict[str, float | None]] = mapped_column(JsonType)


class Webhook(Base):
    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(128))
    events: Mapped[list[str]] = mapped_column(JsonType)
    schedule_id: Mapped[str | None] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), nullable=True, index=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    execution_id: Mapped[str | None] = mapped_column(
        ForeignKey("executions.id", ondelete="CASCADE"), nullable=True, index=True
    )
    event: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


# The gateway's tables live in their own module and join this metadata.
from monitor_service.store import gateway_models as _gateway_models  # noqa: E402, F401
