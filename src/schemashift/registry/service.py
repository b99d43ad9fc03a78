"""The Registry service: Confluent semantics over a Store, plus drift handling.

The service is the only glue between the pure core (canonical form, schema checks,
compatibility, diff), the pure decisions (decisions.py) and the store; the work done inside
each transaction lives in queries.py, registration.py, deletion.py, observation.py, evolution.py and
sunset.py. It is synchronous; async callers use ``asyncio.to_thread``. Every operation is one
store transaction and writes are serialised by the store, so the invariants (dense versions,
one id per canonical schema, ordered outbox) hold across threads and processes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from schemashift.errors import (
    InvalidSchemaError,
    RegistryModeError,
    SchemaNotFoundError,
    SubjectNotFoundError,
)
from schemashift.registry import dead_letters, deletion, evolution, observation, sunset
from schemashift.registry.config import DEFAULT_CONFIG, ConfigPatch, Mode, SubjectConfig
from schemashift.registry.decisions import LATEST, parse_version_id
from schemashift.registry.observation import ObserveBatch
from schemashift.registry.queries import (
    GLOBAL,
    MAX_ID,
    check_subject,
    effective_config,
    effective_mode,
    find_version,
    known_id,
    page_limit,
    parse_schema_text,
)
from schemashift.registry.records import (
    ConsumerContract,
    DriftEvent,
    ObserveResult,
    OutboxRecord,
    QuarantineItem,
    QuarantineStatus,
    Reference,
    SchemaVersion,
    StoredSchema,
)
from schemashift.registry.refusals import (
    ConfigNotFoundError,
    InvalidRequestError,
    ModeNotFoundError,
)
from schemashift.registry.registration import (
    Candidate,
    compatibility,
    existing_version,
    require_compatible,
    store_version,
)
from schemashift.registry.store import Store, StoreTx

_ID_CACHE_LIMIT = 50_000


def utc_now() -> datetime:
    return datetime.now(UTC)


def _no_references(references: Sequence[Reference]) -> tuple[Reference, ...]:
    if references:
        # a reference is a $ref to another subject's schema; schemashift resolves local
        # references only and never fetches or splices in another document
        raise InvalidSchemaError(
            "Invalid schema: schema references are not supported; inline the referenced"
            " definitions under $defs"
        )
    return ()


class Registry:
    """Subjects, versions, global ids, policy, drift, quarantine, consumers and the outbox."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime] = utc_now,
        defaults: SubjectConfig | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.defaults = defaults or DEFAULT_CONFIG
        # global ids never change their schema, so a process may cache them forever
        self._by_id: dict[int, StoredSchema] = {}
        self._cache_lock = threading.Lock()

    @classmethod
    def from_url(
        cls,
        db_url: str,
        *,
        clock: Callable[[], datetime] = utc_now,
        defaults: SubjectConfig | None = None,
    ) -> Registry:
        """A registry on ``sqlite:///path`` (``sqlite://`` in memory) or ``postgresql://…``."""
        from schemashift.registry.sqlstore import SqlStore

        return cls(SqlStore(db_url), clock=clock, defaults=defaults)

    def close(self) -> None:
        self.store.close()

    # -- configuration and modes -----------------------------------------------------------

    def effective_config(self, subject: str | None = None) -> SubjectConfig:
        """The policy in force for ``subject`` (or the global one)."""
        return self.store.read(lambda tx: effective_config(tx, self.defaults, subject))

    def get_config(
        self, subject: str | None = None, *, default_to_global: bool = False
    ) -> SubjectConfig:
        """Confluent ``GET /config[/{subject}]``: 40408 if the subject sets nothing itself."""
        if subject and not default_to_global and self.config_patch(subject).is_empty():
            raise ConfigNotFoundError(
                f"Subject '{subject}' does not have subject-level compatibility configured"
            )
        return self.effective_config(subject)

    def config_patch(self, subject: str | None = None) -> ConfigPatch:
        """What is stored for ``subject`` (or globally), before inheritance."""
        return self.store.read(lambda tx: tx.get_config(subject or GLOBAL)) or ConfigPatch()

    def set_config(self, subject: str | None, patch: ConfigPatch) -> SubjectConfig:
        """Overlay ``patch`` on what is stored; returns the effective configuration."""
        key = GLOBAL if subject is None else check_subject(subject)

        def work(tx: StoreTx) -> SubjectConfig:
            current = tx.get_config(key) or ConfigPatch()
            tx.set_config(key, current.overlay(patch))
            return effective_config(tx, self.defaults, subject)

        return self.store.write(work)

    def delete_config(self, subject: str | None) -> SubjectConfig:
        """Remove the stored configuration; returns what was in force before."""
        key = GLOBAL if subject is None else subject

        def work(tx: StoreTx) -> SubjectConfig:
            if subject and tx.get_config(key) is None:
                raise SubjectNotFoundError(f"Subject '{subject}' not found.")
            before = effective_config(tx, self.defaults, subject)
            tx.set_config(key, None)
            return before

        return self.store.write(work)

    def get_mode(self, subject: str | None = None, *, default_to_global: bool = False) -> Mode:
        if subject and not default_to_global:
            stored = self.store.read(lambda tx: tx.get_mode(subject))
            if stored is None:
                raise ModeNotFoundError(
                    f"Subject '{subject}' does not have subject-level mode configured"
                )
            return stored
        return self.store.read(lambda tx: effective_mode(tx, subject))

    def set_mode(self, subject: str | None, mode: Mode, *, force: bool = False) -> Mode:
        """Confluent ``PUT /mode``; IMPORT on a non-empty scope needs ``force``."""
        key = GLOBAL if subject is None else check_subject(subject)

        def work(tx: StoreTx) -> Mode:
            if mode is Mode.IMPORT and not force:
                occupied = tx.versions(subject, True) if subject else tx.subjects(True)
                if occupied:
                    raise RegistryModeError(
                        "Cannot import since found existing subjects; use force=true to override"
                    )
            tx.set_mode(key, mode)
            return mode

        return self.store.write(work)

    def delete_mode(self, subject: str) -> Mode:
        def work(tx: StoreTx) -> Mode:
            stored = tx.get_mode(subject)
            if stored is None:
                raise SubjectNotFoundError(f"Subject '{subject}' not found.")
            tx.set_mode(subject, None)
            return stored

        return self.store.write(work)

    # -- registration and lookup -----------------------------------------------------------

    def register(
        self,
        subject: str,
        schema: str | Mapping[str, Any] | bool,
        *,
        references: Sequence[Reference] = (),
        schema_id: int | None = None,
        version: int | None = None,
    ) -> SchemaVersion:
        """Register ``schema`` under ``subject``; an already live schema returns its version.

        Checks the compatibility mode against the subject's live versions (skipped in IMPORT
        mode, where ``schema_id`` is required and ``version`` may be given).
        """
        check_subject(subject)
        if schema_id is not None and not known_id(schema_id):
            raise InvalidRequestError(f"a schema id is between 1 and {MAX_ID}, not {schema_id}")
        if version is not None:
            parse_version_id(version)  # 42202 outside 1..2^31-1
        candidate = Candidate.of(parse_schema_text(schema), _no_references(references))

        def work(tx: StoreTx) -> SchemaVersion:
            mode = effective_mode(tx, subject)
            if mode is Mode.READONLY:
                raise RegistryModeError(f"Subject {subject} is in read-only mode")
            if mode is Mode.IMPORT and schema_id is None:
                raise RegistryModeError(f"Subject {subject} is in import mode: give the schema id")
            if mode is Mode.READWRITE and schema_id is not None:
                raise RegistryModeError("An explicit schema id is accepted only in IMPORT mode")
            found = existing_version(tx, subject, candidate)
            if found is not None:
                return found
            if mode is Mode.READWRITE:
                if version is not None and version != tx.max_version(subject) + 1:
                    raise RegistryModeError(
                        f"Version {version} is not the next version of subject {subject}"
                    )
                config = effective_config(tx, self.defaults, subject)
                require_compatible(tx, config, subject, candidate.schema)
            previous = tx.latest_version(subject)
            changes, score = evolution.changes_between(
                None if previous is None else previous.schema, candidate.schema
            )
            return store_version(
                tx,
                subject,
                candidate,
                self.clock(),
                changes=changes,
                score=score,
                explicit_id=schema_id,
                explicit_version=version,
            )

        return self.store.write(work)

    def check_compatibility(
        self, subject: str, schema: str | Mapping[str, Any] | bool, version: int | str | None = None
    ) -> Any:
        """Confluent's compatibility test: against ``version``, or per mode when ``None``."""
        value = parse_schema_text(schema)
        number = None if version is None else parse_version_id(version)

        def work(tx: StoreTx) -> Any:
            config = effective_config(tx, self.defaults, subject)
            return compatibility(tx, config, subject, value, number)

        return self.store.read(work)

    def lookup(
        self, subject: str, schema: str | Mapping[str, Any] | bool, *, deleted: bool = False
    ) -> SchemaVersion:
        """The version of ``subject`` holding ``schema`` (40401 / 40403 when absent)."""
        candidate = Candidate.of(parse_schema_text(schema))

        def work(tx: StoreTx) -> SchemaVersion:
            versions = tx.versions(subject, include_deleted=deleted)
            if not versions:
                raise SubjectNotFoundError(f"Subject '{subject}' not found.")
            stored = tx.schema_by_fingerprint(candidate.fingerprint)
            for v in reversed(versions):
                if stored is not None and v.schema_id == stored.schema_id:
                    return v
            raise SchemaNotFoundError("Schema not found")

        return self.store.read(work)

    def cached_schema(self, schema_id: int) -> StoredSchema | None:
        """The schema under ``schema_id`` if this process has seen it (no I/O)."""
        return self._by_id.get(schema_id)

    def get_schema_by_id(self, schema_id: int) -> StoredSchema:
        """The schema under a global id; ids are never reassigned, so it is cached."""
        cached = self._by_id.get(schema_id)
        if cached is not None:
            return cached
        if not known_id(schema_id):
            raise SchemaNotFoundError(f"Schema {schema_id} not found")
        stored = self.store.read(lambda tx: tx.schema_by_id(schema_id))
        if stored is None:
            raise SchemaNotFoundError(f"Schema {schema_id} not found")
        with self._cache_lock:
            if len(self._by_id) >= _ID_CACHE_LIMIT:
                self._by_id.clear()
            self._by_id[schema_id] = stored
        return stored

    def subjects_of_schema(self, schema_id: int, *, deleted: bool = False) -> list[str]:
        return sorted({s for s, _ in self.versions_of_schema(schema_id, deleted=deleted)})

    def versions_of_schema(self, schema_id: int, *, deleted: bool = False) -> list[tuple[str, int]]:
        def work(tx: StoreTx) -> list[tuple[str, int]]:
            if not known_id(schema_id) or tx.schema_by_id(schema_id) is None:
                raise SchemaNotFoundError(f"Schema {schema_id} not found")
            return tx.versions_of_schema(schema_id, include_deleted=deleted)

        return self.store.read(work)

    def list_subjects(self, *, deleted: bool = False, prefix: str | None = None) -> list[str]:
        names = self.store.read(lambda tx: tx.subjects(include_deleted=deleted))
        return [n for n in names if prefix is None or n.startswith(prefix)]

    def list_versions(self, subject: str, *, deleted: bool = False) -> list[int]:
        versions = self.store.read(lambda tx: tx.versions(subject, include_deleted=deleted))
        if not versions:
            raise SubjectNotFoundError(f"Subject '{subject}' not found.")
        return [v.version for v in versions]

    def get_version(
        self, subject: str, version: int | str, *, deleted: bool = False
    ) -> SchemaVersion:
        """A version (``latest`` or ``-1`` for the newest live one)."""
        number = parse_version_id(version)
        return self.store.read(lambda tx: find_version(tx, subject, number, deleted))

    def get_servable_version(self, subject: str, version: int | str) -> SchemaVersion:
        """A version to transform *to*: 410 (VersionGoneError) once its sunset has passed."""
        number = parse_version_id(version)

        def work(tx: StoreTx) -> tuple[SchemaVersion, SubjectConfig, int]:
            found = find_version(tx, subject, number, False)
            latest = find_version(tx, subject, LATEST, False).version
            return found, effective_config(tx, self.defaults, subject), latest

        found, config, latest = self.store.read(work)
        return sunset.require_servable(found, latest, config, self.clock())

    def referenced_by(self, subject: str, version: int | str) -> list[int]:
        """Ids of schemas referencing this version: none, as references are not accepted."""
        self.get_version(subject, version)
        return []

    def delete_version(self, subject: str, version: int | str, *, permanent: bool = False) -> int:
        """Confluent semantics: soft first; ``permanent`` only after a soft delete."""
        number = parse_version_id(version)
        return self.store.write(lambda tx: deletion.delete_version(tx, subject, number, permanent))

    def delete_subject(self, subject: str, *, permanent: bool = False) -> list[int]:
        return self.store.write(lambda tx: deletion.delete_subject(tx, subject, permanent))

    # -- drift, quarantine, consumers ------------------------------------------------------

    def observe(
        self,
        subject: str,
        events: Iterable[Mapping[str, Any]] | ObserveBatch,
        *,
        counted: int | None = None,
        deadline: bool = False,
    ) -> ObserveResult:
        """Judge events of ``subject`` in order: one verdict each (registry/observation.py).

        ``events``: payloads, or an :class:`ObserveBatch` (positions, replays); ``counted``:
        how many of the subject's events the caller processed since its previous observation
        (at least the payloads given; the default); ``deadline``: the caller's hold deadline
        passed, so a subject without a version gets its first one from what it holds.
        """
        check_subject(subject)
        batch = (
            events
            if isinstance(events, ObserveBatch)
            else ObserveBatch.of(list(events), counted, deadline)
        )
        now = self.clock()
        return self.store.write(
            lambda tx: observation.observe(tx, self.defaults, subject, batch, now)
        )

    def list_quarantine(
        self, subject: str | None = None, status: QuarantineStatus | str | None = None
    ) -> list[QuarantineItem]:
        wanted = None if status is None else QuarantineStatus(status)
        return self.store.read(lambda tx: tx.list_quarantine(subject, wanted))

    def get_quarantine(self, quarantine_id: int) -> QuarantineItem:
        return self.store.read(lambda tx: evolution.quarantine_item(tx, quarantine_id))

    def accept_quarantine(self, quarantine_id: int) -> QuarantineItem:
        """Register the quarantined schema as a new version (a person's override)."""
        now = self.clock()
        return self.store.write(lambda tx: evolution.accept(tx, quarantine_id, now))

    def reject_quarantine(self, quarantine_id: int) -> QuarantineItem:
        """Close the quarantine and forget the drift it held (the running profile rolls back)."""
        now = self.clock()
        return self.store.write(lambda tx: evolution.reject(tx, quarantine_id, now))

    def drift_history(self, subject: str, limit: int = 200) -> list[DriftEvent]:
        """The subject's drift observations, oldest first (the newest ``limit`` of them)."""
        wanted = page_limit(limit)
        return list(reversed(self.store.read(lambda tx: tx.drift_history(subject, wanted))))

    def diff_versions(self, subject: str, old: int | str, new: int | str) -> Any:
        """The DriftReport between two versions of a subject."""
        from schemashift.core.diff import diff

        before = self.get_version(subject, old, deleted=True)
        after = self.get_version(subject, new, deleted=True)
        return diff(before.schema, after.schema)

    def declare_consumer(
        self, subject: str, consumer: str, fields: Sequence[str]
    ) -> ConsumerContract:
        """Record that ``consumer`` reads ``fields`` (JSON Pointers into the events)."""
        contract = evolution.consumer_contract(
            check_subject(subject), consumer, fields, self.clock()
        )
        self.store.write(lambda tx: tx.put_consumer(contract))
        return contract

    def remove_consumer(self, subject: str, consumer: str) -> bool:
        return self.store.write(lambda tx: tx.remove_consumer(subject, consumer))

    def list_consumers(self, subject: str) -> list[ConsumerContract]:
        return self.store.read(lambda tx: tx.consumers(subject))

    # -- outbox ----------------------------------------------------------------------------

    def read_outbox(self, after_seq: int, limit: int = 100) -> list[OutboxRecord]:
        """Records with ``seq > after_seq``, oldest first (at most ``limit``, ≤ 10,000)."""
        if after_seq >= 2**62:
            return []
        after, wanted = max(after_seq, 0), page_limit(limit)
        return self.store.read(lambda tx: tx.read_outbox(after, wanted))

    def pending_relay(self, limit: int = 100) -> list[OutboxRecord]:
        wanted = page_limit(limit)
        return self.store.read(lambda tx: tx.pending_relay(wanted))

    def mark_relayed(self, seqs: Iterable[int]) -> None:
        chosen = [seq for seq in seqs if 0 < seq < 2**62]
        now = self.clock()
        self.store.write(lambda tx: tx.mark_relayed(chosen, now))

    def sweep_sunsets(self) -> list[int]:
        """Write a ``version.sunset`` record for each version whose sunset has passed."""
        now = self.clock()
        return self.store.write(lambda tx: sunset.sweep(tx, self.defaults, now))

    # -- dead letters (registry/dead_letters.py) --------------------------------------------

    def record_dead_letters(self, items: Sequence[dead_letters.DeadLetter]) -> int:
        """Store what the worker dead-lettered; how many were new.

        A ``msg_id`` already stored (or repeated in ``items``) is skipped, so a worker that
        records again after a crash and redelivery adds nothing.
        """
        batch = [dead_letters.storable(item) for item in items]
        if not batch:
            return 0
        return self.store.write(lambda tx: tx.insert_dead_letters(batch))

    def list_dead_letters(
        self,
        *,
        subject: str | None = None,
        reason: str | None = None,
        state: str | None = "dead",
        quarantine_id: int | None = None,
        ids: Iterable[int] | None = None,
        cursor: int | None = None,
        limit: int = 100,
        oldest_first: bool = False,
    ) -> tuple[list[dead_letters.StoredDeadLetter], int | None]:
        """A page of dead letters, newest first (``oldest_first`` for the other way).

        Every given criterion must hold (``state=None``: any state). ``cursor`` is the
        ``next_cursor`` of the previous page (an id); ``limit`` is at most 1,000. Returns the
        rows and the next cursor, None after the last page.
        """
        selection = dead_letters.DeadLetterSelection.of(
            subject=subject, reason=reason, state=state, quarantine_id=quarantine_id, ids=ids
        )
        found = self.store.read(
            lambda tx: dead_letters.page(
                tx, selection, cursor=cursor, limit=limit, oldest_first=oldest_first
            )
        )
        return found.items, found.next_cursor

    def get_dead_letter(self, dead_letter_id: int) -> dead_letters.StoredDeadLetter:
        """One dead letter (DeadLetterNotFoundError, 404 40412, when there is none)."""
        return self.store.read(lambda tx: dead_letters.find(tx, dead_letter_id))

    def dead_letter_counts(self, subject: str | None = None) -> dict[str, dict[str, int]]:
        """``{state: {reason: n}}`` for ``subject`` (None: every subject), every state present."""
        return self.store.read(lambda tx: dead_letters.counts(tx, subject))

    def mark_replayed(self, ids: Iterable[int]) -> int:
        """Dead or parked rows among ``ids`` become ``replayed`` now; how many did."""
        chosen = [i for i in ids if 0 < i <= dead_letters.MAX_ROW_ID]
        if not chosen:
            return 0
        now = self.clock()
        return self.store.write(lambda tx: dead_letters.mark_replayed(tx, chosen, now))

    def park_to_dead(
        self,
        quarantine_id: int,
        reason: str = dead_letters.DRIFT_REJECTED,
        message: str | None = None,
    ) -> list[dead_letters.StoredDeadLetter]:
        """The rows a rejected quarantine held (``parked``) become dead letters with
        ``reason`` (and ``message``, by default one naming the quarantine)."""
        why = dead_letters.check_reason(reason)
        text = message if message is not None else dead_letters.rejected_message(quarantine_id)
        return self.store.write(lambda tx: dead_letters.park_to_dead(tx, quarantine_id, why, text))
