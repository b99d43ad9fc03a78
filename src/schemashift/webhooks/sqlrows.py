"""SQL plumbing of the webhook store: the engine for a registry URL and row → value mapping."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, Row
from sqlalchemy.pool import StaticPool

from schemashift.webhooks.model import Delivery, DeliveryStatus, EventKind, Subscription

__all__ = ["BEGIN_KEY", "delivery_from_row", "engine_from_url", "subscription_from_row"]

BUSY_TIMEOUT_MS = 30_000
# conn.info key: the statement that opens the next transaction (BEGIN IMMEDIATE for writes)
BEGIN_KEY = "schemashift_webhooks_begin"


def engine_from_url(url: str) -> Engine:
    """An engine for a registry database URL (``sqlite:///…``, ``postgresql://…``)."""
    if url.startswith(("postgresql://", "postgres://")):
        # Plain postgresql:// would pick psycopg2; schemashift ships psycopg 3.
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return create_engine(url, pool_pre_ping=True)
    if not url.startswith("sqlite"):
        return create_engine(url)
    memory = url in ("sqlite://", "sqlite:///:memory:")
    connect_args = {"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    if memory:
        engine = create_engine("sqlite://", connect_args=connect_args, poolclass=StaticPool)
    else:
        engine = create_engine(url, connect_args=connect_args)
    _tune_sqlite(engine, wal=not memory)
    return engine


def _tune_sqlite(engine: Engine, *, wal: bool) -> None:
    """The registry's SQLite settings, so both share one file smoothly.

    Write transactions start with BEGIN IMMEDIATE: a deferred transaction that reads first
    and writes later can fail at once with "database is locked" when the registry wrote in
    between, whereas IMMEDIATE waits its turn (busy_timeout). WAL keeps readers unblocked;
    synchronous=NORMAL in WAL mode loses nothing on a process crash.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        del record
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(conn.info.pop(BEGIN_KEY, "BEGIN"))


def subscription_from_row(row: Row[Any]) -> Subscription:
    return Subscription(
        id=int(row.id),
        url=row.url,
        subjects=tuple(orjson.loads(row.subjects)),
        kinds=frozenset(EventKind(k) for k in orjson.loads(row.kinds)),
        secret=row.secret,
        enabled=bool(row.enabled),
        description=row.description,
        created_at=float(row.created_at),
    )


def delivery_from_row(row: Row[Any]) -> Delivery:
    return Delivery(
        id=int(row.id),
        subscription_id=int(row.subscription_id),
        seq=int(row.seq),
        subject=row.subject,
        kind=row.kind,
        event_id=row.event_id,
        body=bytes(row.body),
        status=DeliveryStatus(row.status),
        attempts=int(row.attempts),
        next_attempt_at=float(row.next_attempt_at),
        created_at=float(row.created_at),
        updated_at=float(row.updated_at),
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
    )
