"""Drift handling inside the registry's write transactions: observe, quarantine, consumers.

``observe`` merges a batch into the subject's persisted running profile and diffs the
merged schema against the latest version. Registering the *merged* schema (not the batch's)
means data seen before still validates, which is what BACKWARD asks for. What the policy
refuses is quarantined with the report and a bounded set of offending samples; the same
proposed schema seen again updates the open quarantine instead of opening another.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from schemashift.core.canonical import canonical_bytes, fingerprint
from schemashift.errors import InvalidSchemaError, RegistryModeError
from schemashift.registry.config import Mode, SubjectConfig
from schemashift.registry.decisions import (
    ObserveDecision,
    compatibility_targets,
    consumer_conflicts,
    decide_drift,
    decide_first_version,
)
from schemashift.registry.queries import effective_config, effective_mode
from schemashift.registry.records import (
    ConsumerContract,
    Decision,
    DriftEvent,
    ObserveResult,
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

if TYPE_CHECKING:
    from schemashift.core.profile import Profile

MAX_SAMPLES = 20  # offending samples kept per quarantine item
MAX_SAMPLE_BYTES = 64 * 1024  # larger samples are not kept (the dead-letter stream has them)


def batch_profile(data: Iterable[Mapping[str, Any]] | Any) -> tuple[Profile, list[dict[str, Any]]]:
    """A profile of the batch and the samples worth keeping should it be quarantined."""
    from schemashift.core.profile import Profile

    if isinstance(data, Profile):
        return data, []
    profile = Profile()
    samples: list[dict[str, Any]] = []
    for payload in data:
        if not isinstance(payload, Mapping):
            raise InvalidRequestError("observe takes JSON objects (event payloads)")
        profile.add(payload)
        if len(samples) < MAX_SAMPLES and len(canonical_bytes(payload)) <= MAX_SAMPLE_BYTES:
            samples.append(dict(payload))
    return profile, samples


def changes_between(old: Any | None, new: Any) -> tuple[list[dict[str, Any]], float | None]:
    """The changes and drift score of a registration, for its outbox record."""
    if old is None:
        return [], None
    from schemashift.core.diff import diff

    report = diff(old, new)
    return [c.to_dict() for c in report.changes], float(report.score)


def _with_context(report: Any, subject: str, base_version: int, inferred: Any, count: int) -> Any:
    if dataclasses.is_dataclass(report) and not isinstance(report, type):
        names = {f.name for f in dataclasses.fields(report)}
        extra = {
            "subject": subject,
            "base_version": base_version,
            "inferred_schema": inferred,
            "sample_count": count,
        }
        return dataclasses.replace(report, **{k: v for k, v in extra.items() if k in names})
    return report


def observe(
    tx: StoreTx,
    defaults: SubjectConfig,
    subject: str,
    batch: Profile,
    samples: Sequence[dict[str, Any]],
    now: datetime,
) -> ObserveResult:
    from schemashift.core.profile import Profile

    stored, since, baseline = tx.get_profile(subject)
    running = Profile.from_dict(stored) if stored is not None else Profile()
    merged = running.merge(batch)
    since += batch.count
    config = effective_config(tx, defaults, subject)
    mode = effective_mode(tx, subject)
    latest = tx.latest_version(subject)
    candidate = merged.finish()
    report: Any = None
    changes: list[dict[str, Any]] = []
    score = 0.0

    if latest is None:
        decision = decide_first_version(merged.count, config)
    else:
        report, changes, score, compat_ok, messages = _judge(
            tx, config, subject, latest, candidate, merged, baseline
        )
        decision = decide_drift(
            score=score,
            samples_since_version=since,
            config=config,
            compatible=compat_ok,
            incompatibilities=messages,
            conflicting_consumers=consumer_conflicts(changes, tx.consumers(subject)),
        )
    if decision.decision is Decision.REGISTERED and mode is not Mode.READWRITE:
        decision = ObserveDecision(
            Decision.QUARANTINED, (f"subject is in {mode.value} mode: nothing registers by itself",)
        )

    version = schema_id = quarantine_id = None
    base_version = None if latest is None else latest.version
    tx.put_profile(subject, merged.to_dict(), since, baseline)
    if decision.decision is Decision.REGISTERED:
        proposed = Candidate.of(candidate)
        # an older live version may hold exactly this schema: Confluent never lists a schema
        # twice in a subject, so that version is the answer
        registered = existing_version(tx, subject, proposed) or store_version(
            tx, subject, proposed, now, changes=changes, score=None if latest is None else score
        )
        version, schema_id = registered.version, registered.schema_id
    elif decision.decision is Decision.QUARANTINED:
        quarantine_id = _quarantine(
            tx, subject, base_version, candidate, report, decision, changes, score, samples, now
        )
    if decision.decision is not Decision.NONE and (score > 0 or latest is None):
        tx.append_drift(
            DriftEvent(
                subject=subject,
                time=now,
                base_version=base_version,
                score=score,
                decision=decision.decision,
                version=version,
                quarantine_id=quarantine_id,
                changes=tuple(changes),
                sample_count=merged.count,
            )
        )
    return ObserveResult(
        subject=subject,
        decision=decision.decision,
        report=report,
        sample_count=merged.count,
        version=version,
        schema_id=schema_id,
        quarantine_id=quarantine_id,
        reasons=decision.reasons,
    )


def _judge(
    tx: StoreTx,
    config: SubjectConfig,
    subject: str,
    latest: Any,
    candidate: Any,
    merged: Profile,
    baseline: dict[str, Any] | None,
) -> tuple[Any, list[dict[str, Any]], float, bool, tuple[str, ...]]:
    """The drift report, its changes and score, and whether the candidate is compatible (with
    the reasons when not). A version the checker cannot read makes both undecided: the
    drift counts as maximal and incompatible, so it is quarantined, never registered."""
    from schemashift.core.compat import check_compatibility
    from schemashift.core.diff import diff
    from schemashift.core.profile import Profile

    # the baseline is the running profile as of the latest version: with both profiles the
    # diff can tell a rename (same values under a new name) from a removal
    old_profile = Profile.from_dict(baseline) if baseline is not None else None
    try:
        report = _with_context(
            diff(latest.schema, candidate, old_profile=old_profile, new_profile=merged),
            subject,
            latest.version,
            candidate,
            merged.count,
        )
    except InvalidSchemaError as exc:
        return None, [], 1.0, False, (f"compatibility could not be decided: {exc}",)
    changes = [c.to_dict() for c in report.changes]
    score = float(report.score)
    if config.compatibility.value == "NONE":
        return report, changes, score, True, ()
    earlier = (
        [v.schema for v in tx.versions(subject, include_deleted=False)]
        if config.compatibility.transitive
        else [latest.schema]
    )
    old = compatibility_targets(config.compatibility, earlier)
    # judged against the data actually seen ("observed"): a constraint the old schema lacked
    # is only a finding if some value seen violates it
    try:
        result = check_compatibility(
            old, candidate, config.compatibility.value, policy="observed", profile=merged
        )
    except InvalidSchemaError as exc:
        # an earlier version the checker cannot read: undecided means not allowed
        return report, changes, score, False, (f"compatibility could not be decided: {exc}",)
    messages = tuple(f"{f.path or '/'}: {f.message}" for f in result.findings[:10])
    return report, changes, score, bool(result.compatible), messages


def _quarantine(
    tx: StoreTx,
    subject: str,
    base_version: int | None,
    candidate: Any,
    report: Any,
    decision: ObserveDecision,
    changes: list[dict[str, Any]],
    score: float,
    samples: Sequence[dict[str, Any]],
    now: datetime,
) -> int:
    consumers = tuple(c.consumer for c in tx.consumers(subject) if consumer_conflicts(changes, [c]))
    report_dict = {} if report is None else report.to_dict()
    key = fingerprint(candidate)
    existing = tx.open_quarantine_for(subject, key)
    if existing is not None:
        kept = (list(existing.samples) + list(samples))[:MAX_SAMPLES]
        tx.update_quarantine(
            dataclasses.replace(
                existing,
                report=report_dict,
                reasons=decision.reasons,
                consumers=consumers,
                samples=tuple(kept),
                base_version=base_version,
            )
        )
        return existing.quarantine_id
    item = QuarantineItem(
        quarantine_id=0,
        subject=subject,
        base_version=base_version,
        status=QuarantineStatus.OPEN,
        schema=candidate,
        report=report_dict,
        reasons=decision.reasons,
        consumers=consumers,
        samples=tuple(samples),
        created_at=now,
    )
    new_id = tx.insert_quarantine(item, key)
    tx.append_outbox(
        OutboxKind.DRIFT_QUARANTINED,
        subject,
        now=now,
        version=base_version,
        changes=changes,
        score=score,
        quarantine_id=new_id,
    )
    return new_id


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
    candidate = Candidate.of(item.schema)
    version = existing_version(tx, item.subject, candidate)
    if version is None:
        version = store_version(
            tx,
            item.subject,
            candidate,
            now,
            changes=item.report.get("changes", []),
            score=item.report.get("score"),
        )
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


def reject(tx: StoreTx, quarantine_id: int, now: datetime) -> QuarantineItem:
    from schemashift.core.profile import Profile

    item = _open_item(tx, quarantine_id)
    closed = dataclasses.replace(item, status=QuarantineStatus.REJECTED, resolved_at=now)
    tx.update_quarantine(closed)
    # forget the refused data: roll the running profile back to the latest version's baseline
    _, _, baseline = tx.get_profile(item.subject)
    tx.put_profile(item.subject, baseline or Profile().to_dict(), 0, baseline)
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
