"""The outbox seam and the CloudEvents 1.0 (structured JSON) body of a webhook request.

The dispatcher only needs ``read_outbox(after_seq, limit)`` from the registry
(:class:`OutboxReader`); :class:`schemashift.webhooks.memory.MemoryOutbox` is a public
in-memory implementation for tests and demos.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

import orjson

__all__ = [
    "DEFAULT_SOURCE",
    "EVENT_TYPE_PREFIX",
    "OutboxReader",
    "OutboxRecordLike",
    "cloudevent",
    "encode_event",
    "event_id",
]

DEFAULT_SOURCE = "/schemashift/registry"
EVENT_TYPE_PREFIX = "io.schemashift."


@runtime_checkable
class OutboxRecordLike(Protocol):
    """What the dispatcher reads of a registry ``OutboxRecord``."""

    @property
    def seq(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def version(self) -> int | None: ...
    @property
    def schema_id(self) -> int | None: ...
    @property
    def schema(self) -> Any: ...
    @property
    def changes(self) -> Any: ...
    @property
    def score(self) -> float | None: ...
    @property
    def time(self) -> Any: ...


class OutboxReader(Protocol):
    """The registry's outbox, read with the caller's own cursor (synchronous, like Registry)."""

    def read_outbox(self, after_seq: int, limit: int) -> Sequence[OutboxRecordLike]: ...


def event_id(seq: int, subscription_id: int) -> str:
    """The CloudEvents ``id``: the same for every attempt of one record to one subscription."""
    return f"{seq}-{subscription_id}"


def _iso_time(value: Any) -> str:
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def _json_safe(value: Any) -> Any:
    """Changes may be values with ``to_dict()`` (core.diff.Change) or plain dicts."""
    if value is None:
        return None
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _schema(value: Any) -> Any:
    # The registry may hand the schema as its canonical text; receivers want the object.
    if isinstance(value, str | bytes):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return _json_safe(value)


def cloudevent(
    record: OutboxRecordLike, subscription_id: int, *, source: str = DEFAULT_SOURCE
) -> dict[str, Any]:
    """The CloudEvents 1.0 structured-mode event for ``record`` sent to a subscription."""
    kind = str(record.kind)  # the registry's OutboxKind is a StrEnum; the wire wants text
    data: dict[str, Any] = {
        "kind": kind,
        "subject": record.subject,
        "version": record.version,
        "schemaId": record.schema_id,
        "schema": _schema(record.schema),
        "changes": _json_safe(record.changes),
        "score": record.score,
        "seq": record.seq,
    }
    quarantine_id = getattr(record, "quarantine_id", None)
    if quarantine_id is not None:  # what a receiver passes to accept/reject the drift
        data["quarantineId"] = quarantine_id
    return {
        "specversion": "1.0",
        "id": event_id(record.seq, subscription_id),
        "source": source,
        "type": EVENT_TYPE_PREFIX + kind,
        "subject": record.subject,
        "time": _iso_time(record.time),
        "datacontenttype": "application/json",
        # CloudEvents "sequence" extension: the outbox position, for ordering checks.
        "sequence": str(record.seq),
        "data": data,
    }


def encode_event(event: Mapping[str, Any]) -> bytes:
    """The request body; encoded once, stored, and re-sent byte for byte on every retry."""
    return orjson.dumps(event, option=orjson.OPT_SORT_KEYS)
