"""The values the registry hands out: versions, outbox records, quarantine items, results."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from schemashift.core.canonical import canonical_text
from schemashift.core.jsonparse import ParseLimits, loads

# what the registry wrote itself is read back without the payload bounds (a large profile
# or schema accepted once must stay readable); integers stay exact
STORED_LIMITS = ParseLimits(
    max_bytes=None, max_depth=None, max_keys=None, reject_duplicate_keys=False
)


def load_stored(text: str) -> Any:
    """Decode JSON text the registry stored."""
    return loads(text, STORED_LIMITS)


class OutboxKind(StrEnum):
    SCHEMA_UPDATED = "schema.updated"
    DRIFT_QUARANTINED = "drift.quarantined"
    QUARANTINE_ACCEPTED = "quarantine.accepted"
    QUARANTINE_REJECTED = "quarantine.rejected"
    VERSION_SUNSET = "version.sunset"


class Decision(StrEnum):
    """What :meth:`Registry.observe` did with a batch of observations."""

    NONE = "none"
    REGISTERED = "registered"
    QUARANTINED = "quarantined"
    INSUFFICIENT_SAMPLES = "insufficient_samples"
    OUTLIER = "outlier"


class Verdict(StrEnum):
    """What became of one observed event (registry/observation.py; docs/pipeline.md)."""

    ACCEPTED = "accepted"  # the latest version takes it as it is
    REGISTERED = "registered"  # a version registered in this observation takes it
    WAITING = "waiting"  # the subject has no version yet: hold it
    OUTLIER = "outlier"  # subtractive or modifying drift without support
    QUARANTINED = "quarantined"  # drift held for a person's decision
    REJECTED = "rejected"  # drift a person rejected
    IGNORED = "ignored"  # drift under the subject's threshold: the version stays


class QuarantineStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Reference:
    """A Confluent schema reference: ``name`` resolves to ``subject`` at ``version``."""

    name: str
    subject: str
    version: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "subject": self.subject, "version": self.version}


@dataclass(frozen=True, slots=True)
class StoredSchema:
    """A schema under its global id. The text is canonical; ids are never reassigned."""

    schema_id: int
    schema_text: str
    fingerprint: str
    references: tuple[Reference, ...] = ()


@dataclass(frozen=True, slots=True)
class SchemaVersion:
    """One version of one subject."""

    subject: str
    version: int
    schema_id: int
    schema_text: str
    references: tuple[Reference, ...] = ()
    deleted: bool = False
    created_at: datetime | None = None
    superseded_at: datetime | None = None

    @property
    def schema(self) -> Any:
        """The schema as a JSON value (a dict, or a boolean schema)."""
        return load_stored(self.schema_text)

    def to_dict(self) -> dict[str, Any]:
        """Confluent's representation of a subject version."""
        out: dict[str, Any] = {
            "subject": self.subject,
            "version": self.version,
            "id": self.schema_id,
            "schemaType": "JSON",
            "schema": self.schema_text,
        }
        if self.references:
            out["references"] = [r.to_dict() for r in self.references]
        return out


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """One entry of the transactional outbox; ``seq`` is global and gap-free in commit order."""

    seq: int
    kind: OutboxKind
    subject: str
    version: int | None
    schema_id: int | None
    schema: dict[str, Any] | None
    changes: tuple[dict[str, Any], ...]
    score: float | None
    time: datetime
    quarantine_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "kind": self.kind.value,
            "subject": self.subject,
            "version": self.version,
            "schema_id": self.schema_id,
            "schema": self.schema,
            "changes": list(self.changes),
            "score": self.score,
            "time": self.time.isoformat(),
            "quarantine_id": self.quarantine_id,
        }


@dataclass(frozen=True, slots=True)
class QuarantineItem:
    """Drift the policy did not let through, with the samples that showed it."""

    quarantine_id: int
    subject: str
    base_version: int | None
    status: QuarantineStatus
    schema: dict[str, Any]
    report: dict[str, Any]
    reasons: tuple[str, ...]
    consumers: tuple[str, ...]
    samples: tuple[dict[str, Any], ...]
    created_at: datetime
    resolved_at: datetime | None = None
    resolved_version: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.quarantine_id,
            "subject": self.subject,
            "base_version": self.base_version,
            "status": self.status.value,
            "schema": self.schema,
            "report": self.report,
            "reasons": list(self.reasons),
            "consumers": list(self.consumers),
            "samples": list(self.samples),
            "created_at": self.created_at.isoformat(),
            "resolved_at": None if self.resolved_at is None else self.resolved_at.isoformat(),
            "resolved_version": self.resolved_version,
        }


@dataclass(frozen=True, slots=True)
class DriftEvent:
    """One observation that showed structural drift, and what was decided."""

    subject: str
    time: datetime
    base_version: int | None
    score: float
    decision: Decision
    version: int | None
    quarantine_id: int | None
    changes: tuple[dict[str, Any], ...]
    sample_count: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "time": self.time.isoformat(),
            "base_version": self.base_version,
            "score": self.score,
            "decision": self.decision.value,
            "version": self.version,
            "quarantine_id": self.quarantine_id,
            "changes": list(self.changes),
            "sample_count": self.sample_count,
        }


@dataclass(frozen=True, slots=True)
class ConsumerContract:
    """A consumer of a subject and the fields (JSON Pointers into events) it reads."""

    subject: str
    consumer: str
    fields: tuple[str, ...]
    declared_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "consumer": self.consumer,
            "fields": list(self.fields),
            "declared_at": self.declared_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class EventVerdict:
    """The fate of one observed event: its verdict, the changes it showed (``Change``
    dicts), the version that takes it (accepted/registered/ignored), the quarantine that
    holds or rejected it, and why."""

    verdict: Verdict
    changes: tuple[dict[str, Any], ...] = ()
    version: int | None = None
    quarantine_id: int | None = None
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "changes": list(self.changes),
            "version": self.version,
            "quarantine_id": self.quarantine_id,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True, slots=True)
class ObserveResult:
    """What :meth:`Registry.observe` decided: one verdict per event (in order), the batch's
    most consequential decision with its drift report, and the subject's state after it.

    ``version``/``schema_id``: the last version this observation registered;
    ``latest_version``: the subject's latest version after it; ``redrive_outliers``: earlier
    outliers may now be taken (a new version, or their change gained support) — re-drive
    them; ``outliers_open``: outliers still waiting for their change to gain support.
    """

    subject: str
    decision: Decision
    report: Any | None  # a schemashift.core.diff.DriftReport (None before the first version)
    sample_count: int
    version: int | None = None
    schema_id: int | None = None
    quarantine_id: int | None = None
    reasons: tuple[str, ...] = field(default=())
    verdicts: tuple[EventVerdict, ...] = field(default=())
    latest_version: int | None = None
    redrive_outliers: bool = False
    outliers_open: int = 0

    def to_dict(self) -> dict[str, Any]:
        report = None if self.report is None else self.report.to_dict()
        return {
            "subject": self.subject,
            "decision": self.decision.value,
            "report": report,
            "sample_count": self.sample_count,
            "version": self.version,
            "id": self.schema_id,
            "quarantine_id": self.quarantine_id,
            "reasons": list(self.reasons),
            "verdicts": [v.to_dict() for v in self.verdicts],
            "latest_version": self.latest_version,
            "redrive_outliers": self.redrive_outliers,
            "outliers_open": self.outliers_open,
        }


def schema_text(schema: Any) -> str:
    """The canonical text under which a schema is stored."""
    return canonical_text(schema)
