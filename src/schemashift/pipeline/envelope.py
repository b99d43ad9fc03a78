"""What the pipeline writes to the bus: conformed events, dead letters, schema updates.

* **Conformed event** — CloudEvents *binary mode*: the body is the conformed payload (with
  ``schemaVersion``), the attributes are ``ce-`` headers, ``ce-dataschema`` is
  ``<registry URL>/subjects/<subject>/versions/<n>/schema``; ``schemashift-subject`` and
  ``schemashift-version`` repeat the registry coordinates for consumers that skip parsing.
* **Dead letter** — a JSON record: ``reason`` (a stable code), ``message``, ``subject``
  (null when it could not be told), ``time``, the original bytes (``data_base64``) and
  headers, the raw stream sequence and delivery count, and the transformer's ``details``.
* **Schema update** — a structured CloudEvent of type ``io.schemashift.<outbox kind>``
  (``io.schemashift.schema.updated`` for a new version) whose data is the outbox record.

Every output of one input carries the same ``Nats-Msg-Id``, derived from the input's
stream and sequence, so a redelivered input never produces a second copy.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import orjson

from schemashift.bus.base import OutgoingMessage
from schemashift.core.canonical import canonical_bytes
from schemashift.pipeline.cloudevents import STRUCTURED_CONTENT_TYPE, SUBJECT_HEADER
from schemashift.pipeline.subjects import BusSubjects

VERSION_HEADER = "schemashift-version"
REASON_HEADER = "schemashift-reason"
UPDATE_TYPE_PREFIX = "io.schemashift."
SCHEMA_UPDATED = "io.schemashift.schema.updated"
DEFAULT_SOURCE = "schemashift"


class DeadLetterReason:
    """Reason codes the worker adds to the parse and transform codes (docs/pipeline.md)."""

    MAX_DELIVER_EXCEEDED = "max_deliver_exceeded"
    # parked (not dead): an open quarantine holds the event until a person decides
    QUARANTINED = "quarantined"
    # subtractive or modifying drift that too few of the subject's recent events show
    OUTLIER = "outlier"
    # drift a person rejected (a parked event of that quarantine, or a later one showing it)
    DRIFT_REJECTED = "drift_rejected"
    # no longer produced (a subject gets its first version at its hold deadline); kept so
    # dead letters written by earlier releases still read
    NO_SCHEMA = "no_schema"


def dataschema_url(registry_url: str, subject: str, version: int) -> str:
    return (
        f"{registry_url.rstrip('/')}/subjects/{quote(subject, safe='')}/versions/{version}/schema"
    )


def input_identity(stream: str, seq: int) -> str:
    """The idempotency key of every output of one raw message."""
    return f"{stream}:{seq}"


@dataclass(frozen=True, slots=True)
class ConformedTemplate:
    """The headers every conformed event of one (subject, version) shares, built once."""

    bus_subject: str
    headers: Mapping[str, str]

    @classmethod
    def build(
        cls, subjects: BusSubjects, registry_url: str, subject: str, version: int
    ) -> ConformedTemplate:
        return cls(
            bus_subject=subjects.events(subject),
            headers={
                "ce-specversion": "1.0",
                "ce-dataschema": dataschema_url(registry_url, subject, version),
                "content-type": "application/json",
                SUBJECT_HEADER: subject,
                VERSION_HEADER: str(version),
            },
        )

    def message(
        self,
        body: bytes,
        *,
        msg_id: str,
        event_id: str | None,
        source: str | None,
        type_: str | None,
        time: str | None,
        subject: str,
    ) -> OutgoingMessage:
        headers = dict(self.headers)
        headers["ce-id"] = event_id or msg_id
        headers["ce-source"] = source or DEFAULT_SOURCE
        headers["ce-type"] = type_ or subject
        if time:
            headers["ce-time"] = time
        return OutgoingMessage(self.bus_subject, body, headers, msg_id)


def dead_letter(
    subjects: BusSubjects,
    *,
    reason: str,
    message: str,
    subject: str | None,
    data: bytes,
    headers: Mapping[str, str],
    raw_subject: str,
    raw_seq: int,
    delivery_count: int,
    msg_id: str,
    now: datetime,
    details: Sequence[Mapping[str, Any]] = (),
    quarantine_id: int | None = None,
    parked: bool = False,
) -> OutgoingMessage:
    """The dead-letter record of one raw message (on the parked stream when ``parked``)."""
    record: dict[str, Any] = {
        "reason": reason,
        "message": message,
        "subject": subject,
        "time": now.isoformat(),
        "raw_subject": raw_subject,
        "raw_seq": raw_seq,
        "delivery_count": delivery_count,
        "headers": {k: v for k, v in headers.items() if k != "Nats-Msg-Id"},
        "data_base64": base64.b64encode(data).decode("ascii"),
        "details": list(details),
    }
    if quarantine_id is not None:
        record["quarantine_id"] = quarantine_id
    out_headers = {"content-type": "application/json", REASON_HEADER: reason}
    if subject is not None:
        out_headers[SUBJECT_HEADER] = subject
    target = subjects.parked(subject) if parked and subject is not None else subjects.dlq(subject)
    return OutgoingMessage(target, orjson.dumps(record), out_headers, msg_id)


def decode_dead_letter(body: bytes) -> dict[str, Any]:
    """A dead-letter record with ``data`` restored to the original bytes."""
    record: dict[str, Any] = orjson.loads(body)
    record["data"] = base64.b64decode(record["data_base64"])
    return record


def schema_update_event(
    record: Mapping[str, Any], *, registry_url: str, source: str = DEFAULT_SOURCE
) -> dict[str, Any]:
    """The CloudEvent announcing one outbox record (``record`` is ``OutboxRecord.to_dict()``)."""
    event: dict[str, Any] = {
        "specversion": "1.0",
        "type": UPDATE_TYPE_PREFIX + str(record["kind"]),
        "source": source,
        "id": f"outbox-{record['seq']}",
        "subject": record["subject"],
        "time": record["time"],
        "datacontenttype": "application/json",
        "data": dict(record),
    }
    if record.get("version") is not None:
        event["dataschema"] = dataschema_url(registry_url, record["subject"], record["version"])
    return event


def schema_update_message(
    subjects: BusSubjects, record: Mapping[str, Any], *, registry_url: str
) -> OutgoingMessage:
    event = schema_update_event(record, registry_url=registry_url)
    return OutgoingMessage(
        subjects.schemas(str(record["subject"])),
        canonical_bytes(event),  # exact for integers past 64 bits inside schemas
        {"content-type": STRUCTURED_CONTENT_TYPE},
        event["id"],
    )


@dataclass(frozen=True, slots=True)
class SchemaUpdate:
    """One ``schema.updated`` event, as workers and subscribers read it."""

    subject: str
    version: int
    schema_id: int | None
    schema: dict[str, Any]
    changes: tuple[dict[str, Any], ...]
    score: float | None
    seq: int
    time: str
    dataschema: str | None


def parse_schema_update(body: bytes) -> SchemaUpdate | None:
    """The update a message announces; None for other outbox kinds or unreadable bodies."""
    try:
        event = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(event, dict) or event.get("type") != SCHEMA_UPDATED:
        return None
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("schema"), dict):
        return None
    version, subject = data.get("version"), data.get("subject")
    if not isinstance(version, int) or isinstance(version, bool) or not isinstance(subject, str):
        return None
    return SchemaUpdate(
        subject=subject,
        version=version,
        schema_id=data.get("schema_id"),
        schema=data["schema"],
        changes=tuple(data.get("changes") or ()),
        score=data.get("score"),
        seq=int(data.get("seq") or 0),
        time=str(data.get("time") or ""),
        dataschema=event.get("dataschema"),
    )


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """Any outbox record as the relay publishes it (``schema.updated``, ``drift.quarantined``,
    ``quarantine.accepted``, ``quarantine.rejected``, ``version.sunset``): what a worker needs
    to follow versions and quarantine decisions."""

    kind: str
    subject: str
    version: int | None
    schema_id: int | None
    schema: dict[str, Any] | None
    quarantine_id: int | None
    seq: int


def parse_outbox_event(body: bytes) -> OutboxEvent | None:
    """The outbox record a message announces; None for unreadable bodies."""
    try:
        event = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(event, dict) or not str(event.get("type", "")).startswith(UPDATE_TYPE_PREFIX):
        return None
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("subject"), str):
        return None

    def integer(name: str) -> int | None:
        value = data.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    schema = data.get("schema")
    return OutboxEvent(
        kind=str(data.get("kind") or event["type"][len(UPDATE_TYPE_PREFIX) :]),
        subject=data["subject"],
        version=integer("version"),
        schema_id=integer("schema_id"),
        schema=schema if isinstance(schema, dict) else None,
        quarantine_id=integer("quarantine_id"),
        seq=integer("seq") or 0,
    )
