"""The Store seam: two verbs, ``read(work)`` and ``write(work)``, each one transaction.

``work`` is a function of a :class:`StoreTx`; the store may run it more than once (it
retries transient failures from the start), so it must not touch anything outside the
transaction.

Every write transaction is *serialised* with every other write transaction on the same
database, across threads and processes (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a
transaction-scoped advisory lock). That single rule gives the registry its guarantees
without per-table locking: version numbers are dense, the same canonical schema gets one
id, and outbox ``seq`` values commit in order, so a reader with a cursor never skips one.
Registrations are rare next to reads, so the serialisation costs nothing that matters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from schemashift.registry.config import ConfigPatch, Mode
from schemashift.registry.dead_letters import DeadLetter, DeadLetterSelection, StoredDeadLetter
from schemashift.registry.records import (
    ConsumerContract,
    DriftEvent,
    OutboxKind,
    OutboxRecord,
    QuarantineItem,
    QuarantineStatus,
    Reference,
    SchemaVersion,
    StoredSchema,
)

T = TypeVar("T")


class StoreTx(Protocol):
    """The data access available inside one transaction."""

    # schemas (global ids)
    def schema_by_fingerprint(self, fingerprint: str) -> StoredSchema | None: ...
    def schema_by_id(self, schema_id: int) -> StoredSchema | None: ...
    def insert_schema(
        self,
        text: str,
        fingerprint: str,
        references: Sequence[Reference],
        now: datetime,
        schema_id: int | None = None,
    ) -> StoredSchema: ...
    def max_schema_id(self) -> int: ...

    # subjects and versions
    def subjects(self, include_deleted: bool) -> list[str]: ...
    def max_version(self, subject: str) -> int: ...
    def versions(self, subject: str, include_deleted: bool) -> list[SchemaVersion]: ...
    def version(self, subject: str, version: int) -> SchemaVersion | None: ...
    def latest_version(self, subject: str) -> SchemaVersion | None: ...
    def insert_version(self, subject: str, version: int, schema_id: int, now: datetime) -> None: ...
    def set_deleted(self, subject: str, version: int) -> None: ...
    def remove_version(self, subject: str, version: int) -> None: ...
    def versions_of_schema(
        self, schema_id: int, include_deleted: bool
    ) -> list[tuple[str, int]]: ...
    def awaiting_sunset(self) -> list[SchemaVersion]: ...
    def mark_sunset_recorded(self, subject: str, version: int) -> None: ...

    # configuration and modes ("" is the global scope)
    def get_config(self, subject: str) -> ConfigPatch | None: ...
    def set_config(self, subject: str, patch: ConfigPatch | None) -> None: ...
    def get_mode(self, subject: str) -> Mode | None: ...
    def set_mode(self, subject: str, mode: Mode | None) -> None: ...

    # running profiles
    def get_profile(
        self, subject: str
    ) -> tuple[dict[str, Any] | None, int, dict[str, Any] | None]: ...
    def put_profile(
        self,
        subject: str,
        profile: dict[str, Any],
        samples_since_version: int,
        baseline: dict[str, Any] | None,
    ) -> None: ...

    # support evidence (registry/evidence.py, as its to_dict())
    def get_evidence(self, subject: str) -> dict[str, Any] | None: ...
    def put_evidence(self, subject: str, evidence: dict[str, Any]) -> None: ...

    # outbox
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
    ) -> int: ...
    def read_outbox(self, after_seq: int, limit: int) -> list[OutboxRecord]: ...
    def pending_relay(self, limit: int) -> list[OutboxRecord]: ...
    def mark_relayed(self, seqs: Sequence[int], now: datetime) -> None: ...

    # quarantine
    def insert_quarantine(self, item: QuarantineItem, fingerprint: str) -> int: ...
    def open_quarantine_for(self, subject: str, fingerprint: str) -> QuarantineItem | None: ...
    def get_quarantine(self, quarantine_id: int) -> QuarantineItem | None: ...
    def list_quarantine(
        self, subject: str | None, status: QuarantineStatus | None
    ) -> list[QuarantineItem]: ...
    def update_quarantine(self, item: QuarantineItem) -> None: ...

    # drift history and consumers
    def append_drift(self, event: DriftEvent) -> None: ...
    def drift_history(self, subject: str, limit: int) -> list[DriftEvent]: ...
    def put_consumer(self, contract: ConsumerContract) -> None: ...
    def remove_consumer(self, subject: str, consumer: str) -> bool: ...
    def consumers(self, subject: str) -> list[ConsumerContract]: ...

    # dead letters (registry/dead_letters.py): a msg_id already stored is not inserted again
    def insert_dead_letters(self, items: Sequence[DeadLetter]) -> int: ...
    def select_dead_letters(
        self,
        selection: DeadLetterSelection,
        *,
        cursor: int | None,
        limit: int | None,
        oldest_first: bool,
    ) -> list[StoredDeadLetter]: ...
    def dead_letter_by_id(self, dead_letter_id: int) -> StoredDeadLetter | None: ...
    def count_dead_letters(self, subject: str | None) -> dict[str, dict[str, int]]: ...
    def update_dead_letters(
        self,
        ids: Sequence[int],
        *,
        from_states: Sequence[str],
        state: str,
        replayed_at: datetime | None = None,
        reason: str | None = None,
        message: str | None = None,
    ) -> int: ...


class Store(Protocol):
    """A registry database. ``write()`` transactions are serialised (see the module doc)."""

    def read(self, work: Callable[[StoreTx], T]) -> T: ...
    def write(self, work: Callable[[StoreTx], T]) -> T: ...
    def close(self) -> None: ...
