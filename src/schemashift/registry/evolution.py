"""Quarantine decisions and consumer contracts, inside the registry's write transactions.

How events are judged and versions evolve is registry/observation.py; here a person's
answer to a quarantine: *accept* registers the quarantined drift as a new version (the
latest version widened by the quarantine's samples, so it still takes everything the
latest took) and *reject* closes it and remembers the refused changes, so events showing
them become ``drift_rejected`` dead letters instead of reopening the question. Both write
an outbox record (``quarantine.accepted`` / ``quarantine.rejected``: the quarantine-decided
records workers follow to re-drive or dead-letter the events they parked).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from schemashift.core.canonical import fingerprint
from schemashift.errors import RegistryModeError
from schemashift.registry.config import Mode
from schemashift.registry.queries import effective_mode
from schemashift.registry.records import (
    ConsumerContract,
    OutboxKind,
    QuarantineItem,
    QuarantineStatus,
)
from schemashift.registry.refusals import (
    InvalidRequestError,
    QuarantineClosedError,
    QuarantineNotFoundError,
)
from schemashift.registry.registration import Candidate, existing_version, store_version
from schemashift.registry.store import StoreTx


def changes_between(old: Any | None, new: Any) -> tuple[list[dict[str, Any]], float | None]:
    """The changes and drift score of a registration, for its outbox record."""
    if old is None:
        return [], None
    from schemashift.core.diff import diff

    report = diff(old, new)
    return [c.to_dict() for c in report.changes], float(report.score)


def quarantine_item(tx: StoreTx, quarantine_id: int) -> QuarantineItem:
    item = tx.get_quarantine(quarantine_id) if 1 <= quarantine_id < 2**31 else None
    if item is None:
        raise QuarantineNotFoundError(f"Quarantine {quarantine_id} not found")
    return item


def _open_item(tx: StoreTx, quarantine_id: int) -> QuarantineItem:
    item = quarantine_item(tx, quarantine_id)
    if item.status is not QuarantineStatus.OPEN:
        raise QuarantineClosedError(f"Quarantine {quarantine_id} is already {item.status.value}")
    return item


def accept(tx: StoreTx, quarantine_id: int, now: datetime) -> QuarantineItem:
    item = _open_item(tx, quarantine_id)
    if effective_mode(tx, item.subject) is Mode.READONLY:
        raise RegistryModeError(f"Subject {item.subject} is in read-only mode")
    latest = tx.latest_version(item.subject)
    schema = _accepted_schema(item, None if latest is None else latest.schema)
    candidate = Candidate.of(schema)
    version = existing_version(tx, item.subject, candidate)
    if version is None:
        changes, score = (
            changes_between(latest.schema, schema)
            if latest is not None
            else (item.report.get("changes", []), item.report.get("score"))
        )
        version = store_version(tx, item.subject, candidate, now, changes=changes, score=score)
    closed = dataclasses.replace(
        item, status=QuarantineStatus.ACCEPTED, resolved_at=now, resolved_version=version.version
    )
    tx.update_quarantine(closed)
    tx.append_outbox(
        OutboxKind.QUARANTINE_ACCEPTED,
        item.subject,
        now=now,
        version=version.version,
        schema_id=version.schema_id,
        schema_text=version.schema_text,
        changes=item.report.get("changes", []),
        score=item.report.get("score"),
        quarantine_id=item.quarantine_id,
    )
    return closed


def _accepted_schema(item: QuarantineItem, latest: Any | None) -> Any:
    """What accepting ``item`` registers: the latest version widened by the quarantine's
    samples (the latest may have moved on since the quarantine opened, and a new version
    must still take everything it took); its proposed schema when there is no version or
    no sample to widen by."""
    from schemashift.core.widen import widen

    if latest is None or not isinstance(latest, dict):
        return item.schema
    if not item.samples:
        if item.base_version is not None and fingerprint(latest) == fingerprint(item.schema):
            return latest
        body = {k: v for k, v in latest.items() if k != "$schema"}
        return {"$schema": latest.get("$schema"), "anyOf": [body, item.schema]}
    schema = latest
    for sample in item.samples:
        schema = widen(schema, sample).schema
    return schema


def reject(tx: StoreTx, quarantine_id: int, now: datetime) -> QuarantineItem:
    from schemashift.registry.evidence import Evidence, change_key

    item = _open_item(tx, quarantine_id)
    closed = dataclasses.replace(item, status=QuarantineStatus.REJECTED, resolved_at=now)
    tx.update_quarantine(closed)
    # remember the refused changes: events showing them are dead letters (drift_rejected)
    # from now on instead of opening the same question again
    evidence = Evidence.from_dict(tx.get_evidence(item.subject))
    for change in item.report.get("changes", ()):
        evidence.rejected[change_key(change)] = item.quarantine_id
        evidence.pending.discard(change_key(change))
    tx.put_evidence(item.subject, evidence.to_dict())
    tx.append_outbox(
        OutboxKind.QUARANTINE_REJECTED,
        item.subject,
        now=now,
        version=item.base_version,
        changes=item.report.get("changes", []),
        score=item.report.get("score"),
        quarantine_id=item.quarantine_id,
    )
    return closed


def consumer_contract(
    subject: str, consumer: str, fields: Sequence[str], now: datetime
) -> ConsumerContract:
    if not consumer or len(consumer) > 255 or any(ord(c) < 32 for c in consumer):
        raise InvalidRequestError("a consumer name has 1 to 255 characters, no control characters")
    if isinstance(fields, str) or not all(isinstance(f, str) for f in fields):
        raise InvalidRequestError('fields is a list of JSON Pointers such as "/order/id"')
    bad = [f for f in fields if f and not f.startswith("/")]
    if bad:
        raise InvalidRequestError(f"fields must be JSON Pointers (start with '/'): {bad[:5]}")
    if len(fields) > 1000:
        raise InvalidRequestError("at most 1000 fields per consumer")
    return ConsumerContract(subject, consumer, tuple(dict.fromkeys(fields)), now)
