"""Dead letters kept by the registry: what the worker recorded, and the work on them.

The stream worker publishes every event it cannot conform to the dead-letter stream *and*
records it here (:meth:`Registry.record_dead_letters`), so that people can list, inspect and
re-drive it (``/v1/dead-letters``, ``schemashift dlq``, the subject page of the UI).

A row's ``msg_id`` is the raw input's identity ``<raw stream>:<seq>``: recording it again (a
worker that crashed after recording and before acknowledging records again on redelivery) is
a no-op. A row is in one of three states:

* ``dead`` — waits for a person (or a fixed policy) to re-drive it;
* ``parked`` — held by an open quarantine (``quarantine_id``); accepting the quarantine
  re-drives it, rejecting it turns it into a ``dead`` letter (:func:`park_to_dead`);
* ``replayed`` — published to the raw stream again at ``replayed_at``; if it fails again, the
  worker records it anew under the new input's identity.

Values in, values out: the functions here run inside one store transaction; the service
(:class:`~schemashift.registry.service.Registry`) opens it.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from schemashift.core.jsonparse import ParseLimits, loads
from schemashift.errors import PayloadError
from schemashift.registry.refusals import DeadLetterNotFoundError, InvalidRequestError

if TYPE_CHECKING:
    from schemashift.registry.store import StoreTx

__all__ = [
    "DeadLetter",
    "DeadLetterSelection",
    "DeadLetterState",
    "StoredDeadLetter",
    "decode_payload",
    "storable",
]

MAX_PAGE = 1_000  # rows per page of a listing
MAX_IDS = 10_000  # ids in one selection
MAX_ROW_ID = 2**63 - 1  # ids are BigInteger
MAX_QUARANTINE_ID = 2**31 - 1
MAX_MSG_ID = 255
MAX_REASON = 64
MAX_SUBJECT = 255
DRIFT_REJECTED = "drift_rejected"
# a recorded payload is shown decoded when it is JSON by the pipeline's own strict rules, and
# within these bounds (dead letters are often hostile payloads: decoding one stays bounded)
DISPLAY_LIMITS = ParseLimits(max_bytes=1_048_576, max_depth=64, max_keys=10_000)


class DeadLetterState(StrEnum):
    DEAD = "dead"
    PARKED = "parked"
    REPLAYED = "replayed"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One input the worker could not conform, as it records it.

    ``path`` is the JSON Pointer of the first reason (None when the reason has no place, such
    as malformed JSON); ``details`` are the transformer's reasons (``code``, ``path``,
    ``message``); ``data`` and ``headers`` are the original message's, byte for byte.
    """

    msg_id: str
    subject: str | None
    reason: str
    message: str
    path: str | None
    details: tuple[dict[str, Any], ...]
    quarantine_id: int | None
    headers: dict[str, str]
    data: bytes
    raw_subject: str
    raw_seq: int
    time: datetime
    state: str = DeadLetterState.DEAD.value

    def __post_init__(self) -> None:
        if not 0 < len(self.msg_id) <= MAX_MSG_ID:
            raise ValueError(f"msg_id must be 1 to {MAX_MSG_ID} characters, got {self.msg_id!r}")
        if not 0 < len(self.reason) <= MAX_REASON:
            raise ValueError(f"reason must be 1 to {MAX_REASON} characters, got {self.reason!r}")
        if self.state not in (DeadLetterState.DEAD, DeadLetterState.PARKED):
            raise ValueError(f"a dead letter is recorded dead or parked, not {self.state!r}")
        if self.state == DeadLetterState.PARKED and self.quarantine_id is None:
            raise ValueError("a parked dead letter names the quarantine that holds it")
        if self.quarantine_id is not None and not 0 < self.quarantine_id <= MAX_QUARANTINE_ID:
            raise ValueError(f"quarantine_id out of range: {self.quarantine_id}")
        if not 0 <= self.raw_seq <= MAX_ROW_ID:
            raise ValueError(f"raw_seq out of range: {self.raw_seq}")
        if self.time.tzinfo is None:
            raise ValueError("time must be an aware datetime (UTC)")


@dataclass(frozen=True, slots=True)
class StoredDeadLetter:
    """A recorded dead letter: what was recorded, its row id, and its state."""

    id: int
    msg_id: str
    subject: str | None
    reason: str
    message: str
    path: str | None
    details: tuple[dict[str, Any], ...]
    quarantine_id: int | None
    headers: dict[str, str]
    data: bytes
    raw_subject: str
    raw_seq: int
    time: datetime
    state: str
    replayed_at: datetime | None = None

    def payload(self) -> Any:
        """The original bytes decoded as JSON, or None when they are not (strict) JSON."""
        return decode_payload(self.data)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "subject": self.subject,
            "reason": self.reason,
            "message": self.message,
            "path": self.path,
            "details": list(self.details),
            "quarantine_id": self.quarantine_id,
            "headers": dict(self.headers),
            "time": self.time.isoformat(),
            "state": self.state,
            "replayed_at": None if self.replayed_at is None else self.replayed_at.isoformat(),
            "raw_subject": self.raw_subject,
            "raw_seq": self.raw_seq,
            "data_base64": base64.b64encode(self.data).decode("ascii"),
            "data": self.payload(),
        }


@dataclass(frozen=True, slots=True)
class DeadLetterSelection:
    """Which rows: every given criterion holds (``state=None``: any state)."""

    subject: str | None = None
    reason: str | None = None
    state: str | None = DeadLetterState.DEAD.value
    quarantine_id: int | None = None
    ids: tuple[int, ...] | None = None

    @classmethod
    def of(
        cls,
        *,
        subject: str | None = None,
        reason: str | None = None,
        state: str | None = DeadLetterState.DEAD.value,
        quarantine_id: int | None = None,
        ids: Iterable[int] | None = None,
    ) -> DeadLetterSelection:
        """A checked selection; 42208 for a state or number no row can have."""
        if state is not None and state not in DeadLetterState._value2member_map_:
            known = ", ".join(s.value for s in DeadLetterState)
            raise InvalidRequestError(f"unknown dead-letter state {state!r} (known: {known})")
        if quarantine_id is not None and not 0 < quarantine_id <= MAX_QUARANTINE_ID:
            raise InvalidRequestError(f"quarantine id out of range: {quarantine_id}")
        chosen = None
        if ids is not None:
            chosen = tuple(sorted(set(ids)))
            if len(chosen) > MAX_IDS:
                raise InvalidRequestError(f"at most {MAX_IDS} ids in one selection")
            if chosen and not (chosen[0] > 0 and chosen[-1] <= MAX_ROW_ID):
                raise InvalidRequestError("dead-letter ids are between 1 and 2^63-1")
        return cls(subject, reason, state, quarantine_id, chosen)


def decode_payload(data: bytes) -> Any:
    """``data`` decoded as the pipeline decodes payloads, or None if it would refuse them."""
    try:
        return loads(data, DISPLAY_LIMITS)
    except PayloadError:
        return None


def _clean(text: str) -> str:
    """Text any database stores: no NUL (PostgreSQL refuses it), no lone surrogates."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _clean_json(value: Any) -> Any:
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, Mapping):
        return {_clean(str(k)): _clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_json(v) for v in value]
    return value


def _nameable(subject: str) -> bool:
    return 0 < len(subject) <= MAX_SUBJECT and not any(ord(c) < 32 for c in subject)


def storable(item: DeadLetter) -> DeadLetter:
    """``item`` as the store can hold it on every database.

    Texts lose NUL characters and lone surrogates. A subject that can never name a registry
    subject (empty, over 255 characters, control characters) is recorded as unknown — the
    name stays in ``details`` (``code: unnamed_subject``) — so no real subject's readers are
    shown it and the row still lands.
    """
    subject = item.subject
    details = tuple(_clean_json(dict(d)) for d in item.details)
    if subject is not None and not _nameable(subject):
        details = (*details, {"code": "unnamed_subject", "subject": _clean(subject)})
        subject = None
    return dataclasses.replace(
        item,
        msg_id=_clean(item.msg_id),
        subject=subject,
        reason=_clean(item.reason),
        message=_clean(item.message),
        path=None if item.path is None else _clean(item.path),
        details=details,
        headers={_clean(k): _clean(v) for k, v in item.headers.items()},
        raw_subject=_clean(item.raw_subject),
    )


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing and the cursor of the next (None: this was the last)."""

    items: list[StoredDeadLetter] = field(default_factory=list)
    next_cursor: int | None = None


def page_size(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE))


def page(
    tx: StoreTx,
    selection: DeadLetterSelection,
    *,
    cursor: int | None,
    limit: int,
    oldest_first: bool,
) -> Page:
    """Up to ``limit`` rows past ``cursor`` (an id) in id order, newest first by default."""
    if cursor is not None and not 0 <= cursor <= MAX_ROW_ID:
        raise InvalidRequestError("a dead-letter cursor is an id between 0 and 2^63-1")
    size = page_size(limit)
    rows = tx.select_dead_letters(
        selection, cursor=cursor, limit=size + 1, oldest_first=oldest_first
    )
    more = len(rows) > size
    items = rows[:size]
    return Page(items, items[-1].id if more else None)


def find(tx: StoreTx, dead_letter_id: int) -> StoredDeadLetter:
    found = tx.dead_letter_by_id(dead_letter_id) if 0 < dead_letter_id <= MAX_ROW_ID else None
    if found is None:
        raise DeadLetterNotFoundError(f"Dead letter {dead_letter_id} not found")
    return found


def counts(tx: StoreTx, subject: str | None) -> dict[str, dict[str, int]]:
    """``{state: {reason: n}}`` with every state present (empty when none)."""
    found = tx.count_dead_letters(subject)
    return {
        state.value: dict(sorted(found.get(state.value, {}).items())) for state in DeadLetterState
    }


def mark_replayed(tx: StoreTx, ids: Sequence[int], now: datetime) -> int:
    """Dead or parked rows among ``ids`` become replayed at ``now``; how many did."""
    return tx.update_dead_letters(
        ids,
        from_states=(DeadLetterState.DEAD.value, DeadLetterState.PARKED.value),
        state=DeadLetterState.REPLAYED.value,
        replayed_at=now,
    )


def park_to_dead(
    tx: StoreTx, quarantine_id: int, reason: str, message: str
) -> list[StoredDeadLetter]:
    """The rows parked by a rejected quarantine become dead letters with ``reason``."""
    selection = DeadLetterSelection.of(
        quarantine_id=quarantine_id, state=DeadLetterState.PARKED.value
    )
    rows = tx.select_dead_letters(selection, cursor=None, limit=None, oldest_first=True)
    tx.update_dead_letters(
        [row.id for row in rows],
        from_states=(DeadLetterState.PARKED.value,),
        state=DeadLetterState.DEAD.value,
        reason=reason,
        message=message,
    )
    dead = DeadLetterState.DEAD.value
    return [dataclasses.replace(r, state=dead, reason=reason, message=message) for r in rows]


def rejected_message(quarantine_id: int) -> str:
    return (
        f"quarantine {quarantine_id} was rejected: the drift this event showed was not"
        " accepted as a new version"
    )


def check_reason(reason: str) -> str:
    if not 0 < len(reason) <= MAX_REASON:
        raise InvalidRequestError(f"a dead-letter reason is 1 to {MAX_REASON} characters")
    return _clean(reason)


def headers_of(value: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()}
