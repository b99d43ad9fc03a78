"""The outbox seam and the CloudEvents 1.0 (structured JSON) body of a webhook request.

The dispatcher only needs ``read_outbox(after_seq, limit)`` from the registry
(:class:`OutboxReader`); :class:`schemashift.webhooks.memory.MemoryOutbox` is a public
in-memory implementation for tests and demos.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote

import orjson

__all__ = [
    "DEFAULT_SOURCE",
    "EVENT_TYPE_PREFIX",
    "OutboxReader",
    "OutboxRecordLike",
    "cloudevent",
    "dataschema_url",
    "encode_event",
    "event_id",
    "record_data",
]

DEFAULT_SOURCE = "schemashift"  # as the bus relay's schema-update events
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


def record_data(record: OutboxRecordLike) -> dict[str, Any]:
    """The event's ``data``: the outbox record, keyed like ``OutboxRecord.to_dict()`` — the
    same data the bus relay publishes, so one parser serves bus and webhook consumers."""
    return {
        "seq": record.seq,
        "kind": str(record.kind),  # the registry's OutboxKind is a StrEnum; the wire wants text
        "subject": record.subject,
        "version": record.version,
        "schema_id": record.schema_id,
        "schema": _schema(record.schema),
        "changes": _json_safe(record.changes) or [],
        "score": record.score,
        "time": _iso_time(record.time),
        "quarantine_id": getattr(record, "quarantine_id", None),
    }


def dataschema_url(registry_url: str, subject: str, version: int) -> str:
    """Where the version's schema is served (as the pipeline's conformed events say)."""
    return (
        f"{registry_url.rstrip('/')}/subjects/{quote(subject, safe='')}/versions/{version}/schema"
    )


def cloudevent(
    record: OutboxRecordLike,
    subscription_id: int,
    *,
    source: str = DEFAULT_SOURCE,
    registry_url: str | None = None,
) -> dict[str, Any]:
    """The CloudEvents 1.0 structured-mode event for ``record`` sent to a subscription."""
    data = record_data(record)
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id(record.seq, subscription_id),
        "source": source,
        "type": EVENT_TYPE_PREFIX + data["kind"],
        "subject": record.subject,
        "time": data["time"],
        "datacontenttype": "application/json",
        # CloudEvents "sequence" extension: the outbox position, for ordering checks.
        "sequence": str(record.seq),
        "data": data,
    }
    if registry_url is not None and record.version is not None:
        event["dataschema"] = dataschema_url(registry_url, record.subject, record.version)
    return event


def encode_event(event: Mapping[str, Any]) -> bytes:
    """The request body; encoded once, stored, and re-sent byte for byte on every retry."""
    return orjson.dumps(event, option=orjson.OPT_SORT_KEYS)
