"""Persistence of subscriptions, the fan-out cursor, deliveries and attempts (SQLAlchemy).

Synchronous like the registry; the dispatcher calls it through ``asyncio.to_thread``. Works on
the registry's database (SQLite or PostgreSQL) in its own ``webhook_`` tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Engine, and_, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from schemashift.webhooks import tables as t
from schemashift.webhooks.errors import DeliveryNotFoundError, SubscriptionNotFoundError
from schemashift.webhooks.model import Attempt, Delivery, DeliveryStatus, EventKind, Subscription
from schemashift.webhooks.sqlrows import (
    BEGIN_KEY,
    delivery_from_row,
    engine_from_url,
    subscription_from_row,
)

__all__ = ["FANOUT_CURSOR", "NewDelivery", "WebhookStore", "engine_from_url"]

FANOUT_CURSOR = "fanout"


@dataclass(frozen=True)
class NewDelivery:
    """A delivery to create during fan-out."""

    subscription_id: int
    seq: int
    subject: str
    kind: str
    event_id: str
    body: bytes


class WebhookStore:
    """Every read and write of the webhook tables; each method is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str) -> WebhookStore:
        store = cls(engine_from_url(url))
        store.create_tables()
        return store

    def create_tables(self) -> None:
        t.metadata.create_all(self.engine, checkfirst=True)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite, a plain one elsewhere)."""
        with self.engine.connect() as conn:
            if self.engine.dialect.name == "sqlite":
                conn.info[BEGIN_KEY] = "BEGIN IMMEDIATE"
            with conn.begin():
                yield conn

    # -- subscriptions ----------------------------------------------------------------------

    def add_subscription(
        self,
        *,
        url: str,
        subjects: Sequence[str],
        kinds: Iterable[EventKind],
        secret: str,
        enabled: bool = True,
        description: str = "",
        now: float,
    ) -> Subscription:
        kind_names = sorted(k.value for k in kinds)
        # Validate before writing: Subscription's constructor checks every field.
        Subscription(0, url, tuple(subjects), frozenset(EventKind(k) for k in kind_names), secret)
        with self._write() as conn:
            result = conn.execute(
                insert(t.subscriptions).values(
                    url=url,
                    subjects=orjson.dumps(list(subjects)).decode(),
                    kinds=orjson.dumps(kind_names).decode(),
                    secret=secret,
                    enabled=enabled,
                    description=description,
                    created_at=now,
                )
            )
            new_id = result.inserted_primary_key
            assert new_id is not None
            return self._get_subscription(conn, int(new_id[0]))

    def _get_subscription(self, conn: Connection, subscription_id: int) -> Subscription:
        row = conn.execute(
            select(t.subscriptions).where(t.subscriptions.c.id == subscription_id)
        ).first()
        if row is None:
            raise SubscriptionNotFoundError(f"no webhook subscription {subscription_id}")
        return subscription_from_row(row)

    def get_subscription(self, subscription_id: int) -> Subscription:
        with self.engine.connect() as conn:
            return self._get_subscription(conn, subscription_id)

    def list_subscriptions(self) -> list[Subscription]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.subscriptions).order_by(t.subscriptions.c.id))
            return [subscription_from_row(r) for r in rows]

    def update_subscription(self, subscription_id: int, **fields: Any) -> Subscription:
        """Change ``url``, ``subjects``, ``kinds``, ``secret``, ``enabled`` or ``description``."""
        values: dict[str, Any] = {}
        for key, value in fields.items():
            if key == "subjects":
                values[key] = orjson.dumps(list(value)).decode()
            elif key == "kinds":
                values[key] = orjson.dumps(sorted(EventKind(k).value for k in value)).decode()
            elif key in ("url", "secret", "enabled", "description"):
                values[key] = value
            else:
                raise TypeError(f"unknown subscription field {key!r}")
        with self._write() as conn:
            self._get_subscription(conn, subscription_id)  # 404 before any write
            if values:
                conn.execute(
                    update(t.subscriptions)
                    .where(t.subscriptions.c.id == subscription_id)
                    .values(**values)
                )
            return self._get_subscription(conn, subscription_id)

    def delete_subscription(self, subscription_id: int) -> None:
        """Delete a subscription with its deliveries and their attempts."""
        with self._write() as conn:
            self._get_subscription(conn, subscription_id)
            owned = select(t.deliveries.c.id).where(
                t.deliveries.c.subscription_id == subscription_id
            )
            conn.execute(delete(t.attempts).where(t.attempts.c.delivery_id.in_(owned)))
            conn.execute(
                delete(t.deliveries).where(t.deliveries.c.subscription_id == subscription_id)
            )
            conn.execute(delete(t.subscriptions).where(t.subscriptions.c.id == subscription_id))

    # -- fan-out ----------------------------------------------------------------------------

    def cursor(self, name: str = FANOUT_CURSOR) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(select(t.cursors.c.seq).where(t.cursors.c.name == name)).scalar()
            return int(value) if value is not None else 0

    def fan_out(
        self, after_seq: int, new_seq: int, new: Sequence[NewDelivery], *, now: float
    ) -> bool:
        """Create ``new`` deliveries and move the cursor from ``after_seq`` to ``new_seq``.

        One transaction, guarded by compare-and-set on the cursor: if another dispatcher moved
        it first, nothing is written and ``False`` is returned (the caller re-reads).
        """
        try:
            with self._write() as conn:
                if after_seq == 0 and not self._cursor_exists(conn):
                    conn.execute(insert(t.cursors).values(name=FANOUT_CURSOR, seq=new_seq))
                else:
                    moved = conn.execute(
                        update(t.cursors)
                        .where(
                            and_(t.cursors.c.name == FANOUT_CURSOR, t.cursors.c.seq == after_seq)
                        )
                        .values(seq=new_seq)
                    )
                    if moved.rowcount != 1:
                        raise _LostRace
                existing = set(conn.execute(select(t.subscriptions.c.id)).scalars())
                rows = [
                    {
                        "subscription_id": d.subscription_id,
                        "seq": d.seq,
                        "subject": d.subject,
                        "kind": d.kind,
                        "event_id": d.event_id,
                        "body": d.body,
                        "status": DeliveryStatus.PENDING.value,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for d in new
                    if d.subscription_id in existing  # deleted meanwhile: nobody to deliver to
                ]
                if rows:
                    conn.execute(insert(t.deliveries), rows)
        except (_LostRace, IntegrityError):
            return False
        return True

    def _cursor_exists(self, conn: Connection) -> bool:
        found = conn.execute(select(t.cursors.c.seq).where(t.cursors.c.name == FANOUT_CURSOR))
        return found.first() is not None

    # -- delivery queue ---------------------------------------------------------------------

    def queue_heads(self, subscription_id: int, per_subject: int = 1) -> list[Delivery]:
        """The oldest ``per_subject`` pending deliveries of each subject, in ``seq`` order.

        Only a subject's first pending delivery may be sent now; the ones behind it are
        returned so a worker can go on without another query once it is delivered.
        """
        d = t.deliveries
        rank = func.row_number().over(partition_by=d.c.subject, order_by=d.c.seq).label("rank")
        ranked = (
            select(d.c.id, rank)
            .where(and_(d.c.subscription_id == subscription_id, d.c.status == "pending"))
            .subquery()
        )
        query = (
            select(d)
            .join(ranked, d.c.id == ranked.c.id)
            .where(ranked.c.rank <= per_subject)
            .order_by(d.c.seq)
        )
        with self.engine.connect() as conn:
            return [delivery_from_row(r) for r in conn.execute(query)]

    def record_attempt(
        self,
        delivery: Delivery,
        *,
        at: float,
        outcome: str,
        status: DeliveryStatus,
        next_attempt_at: float,
        status_code: int | None,
        error: str | None,
    ) -> Delivery | None:
        """Log one attempt and move the delivery on, in one transaction.

        ``None`` when the delivery is no longer pending (its subscription was deleted
        meanwhile): nothing is written then.
        """
        with self._write() as conn:
            moved = conn.execute(
                update(t.deliveries)
                .where(and_(t.deliveries.c.id == delivery.id, t.deliveries.c.status == "pending"))
                .values(
                    status=status.value,
                    attempts=t.deliveries.c.attempts + 1,
                    next_attempt_at=next_attempt_at,
                    last_status_code=status_code,
                    last_error=error,
                    updated_at=at,
                    delivered_at=at if status is DeliveryStatus.DELIVERED else None,
                )
            )
            if moved.rowcount != 1:
                return None
            number = conn.execute(
                select(func.count()).where(t.attempts.c.delivery_id == delivery.id)
            ).scalar_one()
            conn.execute(
                insert(t.attempts).values(
                    delivery_id=delivery.id,
                    number=int(number) + 1,
                    at=at,
                    outcome=outcome,
                    status_code=status_code,
                    error=error,
                )
            )
            return self._get_delivery(conn, delivery.id)

    def _get_delivery(self, conn: Connection, delivery_id: int) -> Delivery:
        row = conn.execute(select(t.deliveries).where(t.deliveries.c.id == delivery_id)).first()
        if row is None:
            raise DeliveryNotFoundError(f"no webhook delivery {delivery_id}")
        return delivery_from_row(row)

    def get_delivery(self, delivery_id: int) -> Delivery:
        with self.engine.connect() as conn:
            return self._get_delivery(conn, delivery_id)

    def list_deliveries(
        self,
        *,
        subscription_id: int | None = None,
        status: DeliveryStatus | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> list[Delivery]:
        """Deliveries, newest first; page with ``before_id``."""
        d = t.deliveries
        query = select(d).order_by(d.c.id.desc()).limit(limit)
        if subscription_id is not None:
            query = query.where(d.c.subscription_id == subscription_id)
        if status is not None:
            query = query.where(d.c.status == status.value)
        if before_id is not None:
            query = query.where(d.c.id < before_id)
        with self.engine.connect() as conn:
            return [delivery_from_row(r) for r in conn.execute(query)]

    def list_attempts(self, delivery_id: int) -> list[Attempt]:
        a = t.attempts
        query = select(a).where(a.c.delivery_id == delivery_id).order_by(a.c.number)
        with self.engine.connect() as conn:
            return [
                Attempt(
                    delivery_id=int(r.delivery_id),
                    number=int(r.number),
                    at=float(r.at),
                    outcome=r.outcome,
                    status_code=r.status_code,
                    error=r.error,
                )
                for r in conn.execute(query)
            ]

    def resend(self, delivery_id: int, *, now: float) -> Delivery:
        """Queue a dead (or delivered) delivery again, with a fresh attempt budget."""
        with self._write() as conn:
            self._get_delivery(conn, delivery_id)
            conn.execute(
                update(t.deliveries)
                .where(and_(t.deliveries.c.id == delivery_id, t.deliveries.c.status != "pending"))
                .values(status="pending", attempts=0, next_attempt_at=now, updated_at=now)
            )
            return self._get_delivery(conn, delivery_id)

    def resend_dead(self, *, subscription_id: int | None = None, now: float) -> int:
        """Queue every dead letter (of one subscription) again; how many were queued."""
        d = t.deliveries
        condition = d.c.status == "dead"
        if subscription_id is not None:
            condition = and_(condition, d.c.subscription_id == subscription_id)
        with self._write() as conn:
            result = conn.execute(
                update(d)
                .where(condition)
                .values(status="pending", attempts=0, next_attempt_at=now, updated_at=now)
            )
            return int(result.rowcount)

    def counts(self) -> dict[int, dict[str, int]]:
        """Per subscription, how many deliveries are in each status (one query)."""
        d = t.deliveries
        query = select(d.c.subscription_id, d.c.status, func.count()).group_by(
            d.c.subscription_id, d.c.status
        )
        found: dict[int, dict[str, int]] = {}
        with self.engine.connect() as conn:
            for subscription_id, status, number in conn.execute(query):
                found.setdefault(int(subscription_id), {})[str(status)] = int(number)
        return found

    def count(self, status: DeliveryStatus, subscription_id: int | None = None) -> int:
        d = t.deliveries
        query = select(func.count()).where(d.c.status == status.value)
        if subscription_id is not None:
            query = query.where(d.c.subscription_id == subscription_id)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def prune_delivered(self, *, before: float) -> int:
        """Forget delivered deliveries (and their attempts) delivered before ``before``.

        Dead letters and pending deliveries are never pruned: they wait for a person or a
        retry. Returns how many deliveries were removed.
        """
        d = t.deliveries
        old = and_(d.c.status == "delivered", d.c.delivered_at < before)
        with self._write() as conn:
            conn.execute(
                delete(t.attempts).where(t.attempts.c.delivery_id.in_(select(d.c.id).where(old)))
            )
            return int(conn.execute(delete(d).where(old)).rowcount)

    # -- lease --------------------------------------------------------------------------------

    def try_lease(self, name: str, holder: str, *, now: float, ttl: float) -> bool:
        """Take or renew the named lease for ``ttl`` seconds; ``False`` while another holds it."""
        try:
            with self._write() as conn:
                taken = conn.execute(
                    update(t.leases)
                    .where(
                        and_(
                            t.leases.c.name == name,
                            (t.leases.c.holder == holder) | (t.leases.c.expires_at < now),
                        )
                    )
                    .values(holder=holder, expires_at=now + ttl)
                )
                if taken.rowcount == 1:
                    return True
                exists = conn.execute(select(t.leases.c.name).where(t.leases.c.name == name))
                if exists.first() is not None:
                    return False
                conn.execute(
                    insert(t.leases).values(name=name, holder=holder, expires_at=now + ttl)
                )
                return True
        except IntegrityError:  # another instance inserted the lease first
            return False

    def release_lease(self, name: str, holder: str) -> None:
        with self._write() as conn:
            conn.execute(
                delete(t.leases).where(and_(t.leases.c.name == name, t.leases.c.holder == holder))
            )


class _LostRace(Exception):
    """Another dispatcher moved the fan-out cursor first."""
