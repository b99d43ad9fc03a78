"""An in-memory outbox: the registry's ``read_outbox`` seam without a registry.

Public so tests and demos can drive a :class:`~schemashift.webhooks.WebhookDispatcher`
without a database-backed registry.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["MemoryOutbox", "MemoryOutboxRecord"]


@dataclass(frozen=True)
class MemoryOutboxRecord:
    """Same fields as the registry's ``OutboxRecord``."""

    seq: int
    kind: str
    subject: str
    version: int | None = None
    schema_id: int | None = None
    schema: Any = None
    changes: Any = ()
    score: float | None = None
    time: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))


class MemoryOutbox:
    """Append records with dense ``seq`` numbers; read them after a cursor (thread-safe)."""

    def __init__(self) -> None:
        self._records: list[MemoryOutboxRecord] = []
        self._lock = threading.Lock()

    def append(
        self,
        kind: str,
        subject: str,
        *,
        version: int | None = None,
        schema: Any = None,
        schema_id: int | None = None,
        changes: Any = (),
        score: float | None = None,
    ) -> MemoryOutboxRecord:
        with self._lock:
            record = MemoryOutboxRecord(
                seq=len(self._records) + 1,
                kind=kind,
                subject=subject,
                version=version,
                schema_id=schema_id,
                schema=schema,
                changes=changes,
                score=score,
            )
            self._records.append(record)
            return record

    def read_outbox(self, after_seq: int, limit: int) -> list[MemoryOutboxRecord]:
        with self._lock:
            return self._records[after_seq : after_seq + limit]
