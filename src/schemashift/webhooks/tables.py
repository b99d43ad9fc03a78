"""The webhook tables (prefix ``webhook_``), beside the registry's in the same database."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = ["attempts", "cursors", "deliveries", "leases", "metadata", "subscriptions"]

metadata = MetaData()

subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("url", String(2048), nullable=False),
    Column("subjects", Text, nullable=False),  # JSON array of patterns
    Column("kinds", Text, nullable=False),  # JSON array of event kinds
    Column("secret", Text, nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", Float, nullable=False),
)

# Named positions in the registry outbox; "fanout" is how far records were turned into deliveries.
cursors = Table(
    "webhook_cursors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False),
)

# Who may run the dispatcher now, when several server instances share one database.
leases = Table(
    "webhook_leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("expires_at", Float, nullable=False),
)

deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscription_id", Integer, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("subject", String(512), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("delivered_at", Float, nullable=True),
    # One delivery per record and subscription: fan-out can be repeated without duplicates.
    UniqueConstraint("subscription_id", "seq", name="uq_webhook_deliveries_sub_seq"),
    Index("ix_webhook_deliveries_queue", "subscription_id", "status", "subject", "seq"),
    Index("ix_webhook_deliveries_status", "status"),
)

attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", Integer, nullable=False, index=True),
    Column("number", Integer, nullable=False),
    Column("at", Float, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
)
