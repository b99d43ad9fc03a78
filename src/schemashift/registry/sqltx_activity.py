"""Outbox, quarantine, drift history and consumer contracts: the StoreTx activity queries.

Mixed into :class:`schemashift.registry.sqltx.SqlTx`; split out to keep each module about one
kind of data (versions and policy there, what happens to them here).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, func, insert, select, update

from schemashift.core.canonical import canonical_text
from schemashift.registry import tables as t
from schemashift.registry.records import (
    ConsumerContract,
    Decision,
    DriftEvent,
    OutboxKind,
    OutboxRecord,
    QuarantineItem,
    QuarantineStatus,
    load_stored,
)


def dumps(value: Any) -> str:
    # canonical_text copes with integers beyond 64 bits (samples and profiles may hold them)
    return canonical_text(value)


def next_id(conn: Connection, table: Table, column: str) -> int:
    """``max + 1``: dense, and in commit order because writers are serialised."""
    current = conn.execute(select(func.max(table.c[column]))).scalar()
    return int(current or 0) + 1


class ActivityQueries:
    conn: Connection

    # -- support evidence ------------------------------------------------------------------

    def get_evidence(self, subject: str) -> dict[str, Any] | None:
        row = self.conn.execute(select(t.evidence).where(t.evidence.c.subject == subject)).first()
        if row is None:
            return None
        state: dict[str, Any] = load_stored(row.state_json)
        state["seen_total"] = int(row.seen_total)
        state["outliers_total"] = int(row.outliers_total)
        return state

    def put_evidence(self, subject: str, evidence: dict[str, Any]) -> None:
        values = {
            "seen_total": int(evidence.get("seen_total", 0)),
            "outliers_total": int(evidence.get("outliers_total", 0)),
            "state_json": dumps(
                {k: v for k, v in evidence.items() if k not in ("seen_total", "outliers_total")}
            ),
        }
        done = self.conn.execute(
            update(t.evidence).where(t.evidence.c.subject == subject).values(**values)
        )
        if done.rowcount == 0:
            self.conn.execute(insert(t.evidence).values(subject=subject, **values))

    # -- outbox ----------------------------------------------------------------------------

    def append_outbox(
        self,
        kind: OutboxKind,
        subject: str,
        *,
        now: datetime,
        version: int | None = None,
        schema_id: int | None = None,
        schema_text: str | None = None,
        changes: Sequence[dict[str, Any]] = (),
        score: float | None = None,
        quarantine_id: int | None = None,
    ) -> int:
        seq = next_id(self.conn, t.outbox, "seq")
        self.conn.execute(
            insert(t.outbox).values(
                seq=seq,
                kind=kind.value,
                subject=subject,
                version=version,
                schema_id=schema_id,
                schema_text=schema_text,
                changes_json=dumps(list(changes)),
                score=score,
                time=now,
                quarantine_id=quarantine_id,
                relayed_at=None,
            )
        )
        return seq

    @staticmethod
    def _outbox(row: Any) -> OutboxRecord:
        return OutboxRecord(
            seq=int(row.seq),
            kind=OutboxKind(row.kind),
            subject=row.subject,
            version=row.version,
            schema_id=row.schema_id,
            schema=None if row.schema_text is None else load_stored(row.schema_text),
            changes=tuple(load_stored(row.changes_json)),
            score=row.score,
            time=row.time,
            quarantine_id=row.quarantine_id,
        )

    def read_outbox(self, after_seq: int, limit: int) -> list[OutboxRecord]:
        query = (
            select(t.outbox).where(t.outbox.c.seq > after_seq).order_by(t.outbox.c.seq).limit(limit)
        )
        return [self._outbox(row) for row in self.conn.execute(query)]

    def pending_relay(self, limit: int) -> list[OutboxRecord]:
        query = (
            select(t.outbox)
            .where(t.outbox.c.relayed_at.is_(None))
            .order_by(t.outbox.c.seq)
            .limit(limit)
        )
        return [self._outbox(row) for row in self.conn.execute(query)]

    def mark_relayed(self, seqs: Sequence[int], now: datetime) -> None:
        if seqs:
            self.conn.execute(
                update(t.outbox)
                .where(and_(t.outbox.c.seq.in_(list(seqs)), t.outbox.c.relayed_at.is_(None)))
                .values(relayed_at=now)
            )

    # -- quarantine ------------------------------------------------------------------------

    @staticmethod
    def _quarantine(row: Any) -> QuarantineItem:
        return QuarantineItem(
            quarantine_id=row.id,
            subject=row.subject,
            base_version=row.base_version,
            status=QuarantineStatus(row.status),
            schema=load_stored(row.schema_text),
            report=load_stored(row.report_json),
            reasons=tuple(load_stored(row.reasons_json)),
            consumers=tuple(load_stored(row.consumers_json)),
            samples=tuple(load_stored(row.samples_json)),
            created_at=row.created_at,
            resolved_at=row.resolved_at,
            resolved_version=row.resolved_version,
        )

    def _quarantine_values(self, item: QuarantineItem) -> dict[str, Any]:
        return {
            "subject": item.subject,
            "base_version": item.base_version,
            "status": item.status.value,
            "schema_text": dumps(item.schema),
            "report_json": dumps(item.report),
            "reasons_json": dumps(list(item.reasons)),
            "consumers_json": dumps(list(item.consumers)),
            "samples_json": dumps(list(item.samples)),
            "created_at": item.created_at,
            "resolved_at": item.resolved_at,
            "resolved_version": item.resolved_version,
        }

    def insert_quarantine(self, item: QuarantineItem, fingerprint: str) -> int:
        new_id = next_id(self.conn, t.quarantine, "id")
        values = self._quarantine_values(item)
        self.conn.execute(insert(t.quarantine).values(id=new_id, fingerprint=fingerprint, **values))
        return new_id

    def open_quarantine_for(self, subject: str, fingerprint: str) -> QuarantineItem | None:
        row = self.conn.execute(
            select(t.quarantine).where(
                and_(
                    t.quarantine.c.subject == subject,
                    t.quarantine.c.fingerprint == fingerprint,
                    t.quarantine.c.status == QuarantineStatus.OPEN.value,
                )
            )
        ).first()
        return None if row is None else self._quarantine(row)

    def get_quarantine(self, quarantine_id: int) -> QuarantineItem | None:
        row = self.conn.execute(
            select(t.quarantine).where(t.quarantine.c.id == quarantine_id)
        ).first()
        return None if row is None else self._quarantine(row)

    def list_quarantine(
        self, subject: str | None, status: QuarantineStatus | None
    ) -> list[QuarantineItem]:
        query = select(t.quarantine).order_by(t.quarantine.c.id)
        if subject is not None:
            query = query.where(t.quarantine.c.subject == subject)
        if status is not None:
            query = query.where(t.quarantine.c.status == status.value)
        return [self._quarantine(row) for row in self.conn.execute(query)]

    def update_quarantine(self, item: QuarantineItem) -> None:
        self.conn.execute(
            update(t.quarantine)
            .where(t.quarantine.c.id == item.quarantine_id)
            .values(**self._quarantine_values(item))
        )

    # -- drift history and consumers -------------------------------------------------------

    def append_drift(self, event: DriftEvent) -> None:
        self.conn.execute(
            insert(t.drift_events).values(
                id=next_id(self.conn, t.drift_events, "id"),
                subject=event.subject,
                time=event.time,
                base_version=event.base_version,
                score=event.score,
                decision=event.decision.value,
                version=event.version,
                quarantine_id=event.quarantine_id,
                changes_json=dumps(list(event.changes)),
                sample_count=event.sample_count,
            )
        )

    def drift_history(self, subject: str, limit: int) -> list[DriftEvent]:
        query = (
            select(t.drift_events)
            .where(t.drift_events.c.subject == subject)
            .order_by(t.drift_events.c.id.desc())
            .limit(limit)
        )
        return [
            DriftEvent(
                subject=row.subject,
                time=row.time,
                base_version=row.base_version,
                score=row.score,
                decision=Decision(row.decision),
                version=row.version,
                quarantine_id=row.quarantine_id,
                changes=tuple(load_stored(row.changes_json)),
                sample_count=int(row.sample_count),
            )
            for row in self.conn.execute(query)
        ]

    def put_consumer(self, contract: ConsumerContract) -> None:
        self.remove_consumer(contract.subject, contract.consumer)
        self.conn.execute(
            insert(t.consumers).values(
                subject=contract.subject,
                consumer=contract.consumer,
                fields_json=dumps(list(contract.fields)),
                declared_at=contract.declared_at,
            )
        )

    def remove_consumer(self, subject: str, consumer: str) -> bool:
        result = self.conn.execute(
            delete(t.consumers).where(
                and_(t.consumers.c.subject == subject, t.consumers.c.consumer == consumer)
            )
        )
        return bool(result.rowcount)

    def consumers(self, subject: str) -> list[ConsumerContract]:
        query = (
            select(t.consumers)
            .where(t.consumers.c.subject == subject)
            .order_by(t.consumers.c.consumer)
        )
        return [
            ConsumerContract(
                subject=row.subject,
                consumer=row.consumer,
                fields=tuple(load_stored(row.fields_json)),
                declared_at=row.declared_at,
            )
            for row in self.conn.execute(query)
        ]
