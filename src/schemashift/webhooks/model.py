"""Values of the webhooks part: event kinds, subscriptions, deliveries and attempts.

A subscription names a target URL, the subjects it follows, the event kinds it wants and the
secret its requests are signed with. Subject patterns are the ones of the auth grants
(:mod:`schemashift.security.patterns`), always matched against the *whole* subject name:
an exact name (``orders/created``), a glob (``orders/*``, ``*`` for all; ``?`` one
character) matched in linear time, or ``re:<regex>`` for a Python regular expression
(``re.fullmatch``) — so ``orders/*`` never matches ``legacy-orders/x``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from schemashift.security.patterns import PatternError, SubjectPattern
from schemashift.webhooks.errors import InvalidSubscriptionError

__all__ = [
    "MAX_PATTERN_LENGTH",
    "MIN_SECRET_LENGTH",
    "Attempt",
    "Delivery",
    "DeliveryStatus",
    "EventKind",
    "Subscription",
    "compile_pattern",
    "parse_kinds",
]

MAX_PATTERN_LENGTH = 256
MIN_SECRET_LENGTH = 16
MAX_SUBJECT_PATTERNS = 64


class EventKind(StrEnum):
    """The outbox record kinds a subscription can ask for (docs/architecture.md)."""

    SCHEMA_UPDATED = "schema.updated"
    DRIFT_QUARANTINED = "drift.quarantined"
    QUARANTINE_ACCEPTED = "quarantine.accepted"
    QUARANTINE_REJECTED = "quarantine.rejected"
    VERSION_SUNSET = "version.sunset"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


def compile_pattern(pattern: str) -> SubjectPattern:
    """Parse a subject pattern; it is always matched against the whole subject name."""
    if not pattern:
        raise InvalidSubscriptionError("a subject pattern must not be empty (use '*' for all)")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise InvalidSubscriptionError(
            f"a subject pattern is limited to {MAX_PATTERN_LENGTH} characters"
        )
    try:
        return SubjectPattern.parse(pattern)
    except PatternError as exc:
        raise InvalidSubscriptionError(f"invalid subject pattern {pattern!r}: {exc}") from exc


def parse_kinds(kinds: Iterable[str]) -> frozenset[EventKind]:
    """Event kinds from their names; an unknown name is refused, not ignored."""
    parsed: set[EventKind] = set()
    for name in kinds:
        try:
            parsed.add(EventKind(name))
        except ValueError:
            known = ", ".join(k.value for k in EventKind)
            raise InvalidSubscriptionError(
                f"unknown event kind {name!r} (known: {known})"
            ) from None
    if not parsed:
        raise InvalidSubscriptionError("a subscription needs at least one event kind")
    return frozenset(parsed)


@dataclass(frozen=True)
class Subscription:
    """A consumer's standing request: events of ``kinds`` for subjects matching ``subjects``."""

    id: int
    url: str
    subjects: tuple[str, ...]
    kinds: frozenset[EventKind]
    secret: str = field(repr=False)
    enabled: bool = True
    description: str = ""
    created_at: float = 0.0
    _compiled: tuple[SubjectPattern, ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        if not self.subjects:
            raise InvalidSubscriptionError("a subscription needs at least one subject pattern")
        if len(self.subjects) > MAX_SUBJECT_PATTERNS:
            raise InvalidSubscriptionError(
                f"a subscription is limited to {MAX_SUBJECT_PATTERNS} subject patterns"
            )
        if len(self.secret) < MIN_SECRET_LENGTH:
            raise InvalidSubscriptionError(
                f"a secret needs at least {MIN_SECRET_LENGTH} characters"
            )
        if not self.kinds:
            raise InvalidSubscriptionError("a subscription needs at least one event kind")
        object.__setattr__(self, "_compiled", tuple(compile_pattern(p) for p in self.subjects))

    def wants(self, kind: str, subject: str) -> bool:
        """Whether an outbox record of ``kind`` about ``subject`` is delivered here."""
        if str(kind) not in self.kinds:
            return False
        return any(p.matches(subject) for p in self._compiled)

    def to_dict(self, *, include_secret: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "url": self.url,
            "subjects": list(self.subjects),
            "kinds": sorted(k.value for k in self.kinds),
            "enabled": self.enabled,
            "description": self.description,
            "created_at": self.created_at,
        }
        if include_secret:
            out["secret"] = self.secret
        return out


@dataclass(frozen=True)
class Delivery:
    """One outbox record on its way to one subscription; ``body`` never changes on retry."""

    id: int
    subscription_id: int
    seq: int
    subject: str
    kind: str
    event_id: str
    body: bytes = field(repr=False)
    status: DeliveryStatus
    attempts: int
    next_attempt_at: float
    created_at: float
    updated_at: float
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "subscription_id": self.subscription_id,
            "seq": self.seq,
            "subject": self.subject,
            "kind": self.kind,
            "event_id": self.event_id,
            "status": self.status.value,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at,
            "last_status_code": self.last_status_code,
            "last_error": self.last_error,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "delivered_at": self.delivered_at,
        }


@dataclass(frozen=True)
class Attempt:
    """The record of one HTTP request for a delivery."""

    delivery_id: int
    number: int
    at: float
    outcome: str
    status_code: int | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "at": self.at,
            "outcome": self.outcome,
            "status_code": self.status_code,
            "error": self.error,
        }
