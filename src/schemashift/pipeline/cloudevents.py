"""Reading raw events: CloudEvents 1.0 (binary and structured JSON), batches, plain JSON.

Pure functions from bytes and headers to a value: a :class:`RawEvent` or an
:class:`Unreadable` with a stable ``code`` (the :class:`~schemashift.core.jsonparse.ParseCode`
values for payloads that are not strict JSON, plus the :class:`EventCode` values below), so
the worker can dead-letter with a machine-readable reason and keep running.

Which mode a message is in:

* **binary** — a ``ce-specversion`` header; the other attributes are ``ce-`` headers and the
  body is the data (a JSON object);
* **structured** — content type ``application/cloudevents+json``, or a JSON object with a
  ``specversion`` member; the data is the ``data`` member (or base64 ``data_base64``);
* **plain** — anything else: the body is the payload and the subject comes from the
  :class:`SubjectExtractor` (a JSON Pointer such as ``/type``, or a fixed subject).

A ``schemashift-subject`` header, when present, names the subject in every mode (the ingest
endpoint sets it for ``POST /v1/events?subject=…``).

A key repeated in one object follows the limits' :class:`~schemashift.core.jsonparse.DuplicateKeys`
policy: refused (``duplicate_key``), or its last value kept and the key listed in
:attr:`RawEvent.duplicate_keys`.

The subject of a CloudEvent is ``<source>/<type>`` by default (``SubjectStrategy``).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from schemashift.core.jsonparse import (
    DEFAULT_LIMITS,
    ParseCode,
    ParseLimits,
    loads_object_with_duplicates,
    loads_with_duplicates,
)
from schemashift.errors import PayloadError

SUBJECT_HEADER = "schemashift-subject"
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"
BATCH_CONTENT_TYPE = "application/cloudevents-batch+json"
_REQUIRED = ("id", "source", "type")


class EventCode(StrEnum):
    """Why a message is not a usable event (beside the strict-JSON ParseCode values)."""

    INVALID_CLOUDEVENT = "invalid_cloudevent"
    UNSUPPORTED_SPECVERSION = "unsupported_specversion"
    UNSUPPORTED_CONTENT_TYPE = "unsupported_content_type"
    MISSING_DATA = "missing_data"
    NO_SUBJECT = "no_subject"


class EventFormat(StrEnum):
    BINARY = "binary"
    STRUCTURED = "structured"
    PLAIN = "plain"


class SubjectStrategy(StrEnum):
    """How a CloudEvent names its subject."""

    SOURCE_TYPE = "source/type"
    TYPE = "type"


@dataclass(frozen=True, slots=True)
class RawEvent:
    """One readable event. ``body`` is the payload's own JSON bytes when the message had them
    (binary and plain mode), so a transformer can take its bytes fast path.

    ``duplicate_keys`` lists the keys the payload repeated, as JSON Pointers into the payload
    (``/build/git_ssh_url``; at most ``MAX_REPORTED_DUPLICATES``), when the limits keep the
    last value: ``payload`` holds that value, and ``body`` still holds the repeated keys, so
    a transformer reading it must keep the last value too (the default limits do). Empty
    normally. A key repeated in a structured event's envelope is not the payload's, and is
    not listed.
    """

    subject: str
    payload: dict[str, Any]
    format: EventFormat
    id: str | None = None
    source: str | None = None
    type: str | None = None
    time: str | None = None
    body: bytes | None = None
    duplicate_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A message that is not a usable event; ``subject`` when it could still be told."""

    code: str
    message: str
    subject: str | None = None


@dataclass(frozen=True, slots=True)
class SubjectExtractor:
    """Names the subject of plain JSON payloads (and how CloudEvents are named).

    ``pointer`` is a JSON Pointer into the payload (``/type``, ``/meta/kind``); ``fixed`` is
    one subject for every plain payload. With neither, plain payloads without a
    ``schemashift-subject`` header are unreadable (``no_subject``).
    """

    pointer: str | None = None
    fixed: str | None = None
    strategy: SubjectStrategy = SubjectStrategy.SOURCE_TYPE

    def __post_init__(self) -> None:
        if self.pointer is not None and self.fixed is not None:
            raise ValueError("give a JSON Pointer or a fixed subject, not both")
        if self.pointer is not None and not self.pointer.startswith("/"):
            raise ValueError(f"a JSON Pointer starts with '/': {self.pointer!r}")
        if self.fixed == "":
            raise ValueError("a fixed subject cannot be empty")

    @classmethod
    def parse(cls, spec: str | None) -> SubjectExtractor:
        """``/type`` → a pointer; any other text → a fixed subject; None → neither."""
        if not spec:
            return cls()
        return cls(pointer=spec) if spec.startswith("/") else cls(fixed=spec)

    def plain_subject(self, payload: Mapping[str, Any]) -> str | None:
        if self.fixed is not None:
            return self.fixed
        if self.pointer is None:
            return None
        value = resolve_pointer(payload, self.pointer)
        if isinstance(value, bool) or not isinstance(value, str | int):
            return None
        text = str(value)
        return text or None

    def event_subject(self, source: str, type_: str) -> str:
        if self.strategy is SubjectStrategy.TYPE:
            return type_
        return f"{source}/{type_}"


def resolve_pointer(document: Any, pointer: str) -> Any:
    """The value at an RFC 6901 JSON Pointer, or None when the path does not exist."""
    if pointer == "":
        return document
    node = document
    for raw in pointer[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping):
            if token not in node:
                return None
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names are case-insensitive in HTTP and CloudEvents; compare them lower-cased."""
    return {k.lower(): v for k, v in headers.items()}


def parse_message(
    body: bytes,
    headers: Mapping[str, str],
    extractor: SubjectExtractor,
    limits: ParseLimits = DEFAULT_LIMITS,
) -> RawEvent | Unreadable:
    """Read one bus message (or HTTP request body) as an event."""
    hdrs = lower_headers(headers) if headers else {}
    forced = hdrs.get(SUBJECT_HEADER) or None
    if "ce-specversion" in hdrs:
        return _binary(body, hdrs, extractor, limits, forced)
    content_type = _media_type(hdrs.get("content-type", ""))
    try:
        value, duplicates = loads_with_duplicates(body, limits)
    except PayloadError as exc:
        return Unreadable(exc.code, exc.message, forced)
    if content_type == STRUCTURED_CONTENT_TYPE or (
        isinstance(value, dict) and "specversion" in value
    ):
        return structured_event(value, extractor, limits, forced, duplicates)
    if not isinstance(value, dict):
        return Unreadable(ParseCode.NOT_AN_OBJECT, "the payload must be a JSON object", forced)
    subject = forced or extractor.plain_subject(value)
    if subject is None:
        return Unreadable(EventCode.NO_SUBJECT, _no_subject_message(extractor))
    return RawEvent(
        subject=subject,
        payload=value,
        format=EventFormat.PLAIN,
        body=bytes(body),
        duplicate_keys=duplicates,
    )


def structured_event(
    value: Any,
    extractor: SubjectExtractor,
    limits: ParseLimits = DEFAULT_LIMITS,
    forced_subject: str | None = None,
    duplicate_keys: tuple[str, ...] = (),
) -> RawEvent | Unreadable:
    """A decoded structured-mode CloudEvent (one element of a batch, or one message).

    ``duplicate_keys`` are the keys repeated in ``value`` (pointers into the event, as
    :func:`~schemashift.core.jsonparse.loads_with_duplicates` reports them); those inside
    ``data`` become the event's, relative to its payload.
    """
    if not isinstance(value, dict):
        return Unreadable(
            EventCode.INVALID_CLOUDEVENT, "a structured CloudEvent must be a JSON object"
        )
    attributes, problem = _attributes(value.get, forced_subject)
    if problem is not None:
        return problem
    subject = forced_subject or extractor.event_subject(attributes["source"], attributes["type"])
    if "data_base64" in value:
        encoded = value["data_base64"]
        try:
            raw = base64.b64decode(encoded, validate=True) if isinstance(encoded, str) else None
        except (binascii.Error, ValueError):
            raw = None
        if raw is None:
            return Unreadable(EventCode.INVALID_CLOUDEVENT, "data_base64 is not base64", subject)
        try:
            payload, repeated = loads_object_with_duplicates(raw, limits)
        except PayloadError as exc:
            return Unreadable(exc.code, exc.message, subject)
        return _event(attributes, subject, payload, EventFormat.STRUCTURED, raw, repeated)
    if "data" not in value:
        return Unreadable(EventCode.MISSING_DATA, "the CloudEvent has no data", subject)
    data = value["data"]
    if not isinstance(data, dict):
        return Unreadable(ParseCode.NOT_AN_OBJECT, "the event data must be a JSON object", subject)
    repeated = within(duplicate_keys, "/data")
    return _event(attributes, subject, data, EventFormat.STRUCTURED, None, repeated)


def parse_batch(
    body: bytes, extractor: SubjectExtractor, limits: ParseLimits = DEFAULT_LIMITS
) -> list[RawEvent | Unreadable] | Unreadable:
    """A ``application/cloudevents-batch+json`` body: a JSON array of structured events."""
    try:
        value, duplicates = loads_with_duplicates(body, limits)
    except PayloadError as exc:
        return Unreadable(exc.code, exc.message)
    if not isinstance(value, list):
        return Unreadable(EventCode.INVALID_CLOUDEVENT, "a CloudEvents batch is a JSON array")
    return [
        structured_event(item, extractor, limits, None, within(duplicates, f"/{index}"))
        for index, item in enumerate(value)
    ]


def within(pointers: tuple[str, ...], prefix: str) -> tuple[str, ...]:
    """The pointers below ``prefix`` (a JSON Pointer), made relative to it."""
    if not pointers:
        return pointers
    start = prefix + "/"
    return tuple(p[len(prefix) :] for p in pointers if p.startswith(start))


def _binary(
    body: bytes,
    hdrs: Mapping[str, str],
    extractor: SubjectExtractor,
    limits: ParseLimits,
    forced: str | None,
) -> RawEvent | Unreadable:
    values = {"specversion": hdrs.get("ce-specversion")}
    for name in (*_REQUIRED, "time"):
        values[name] = hdrs.get(f"ce-{name}")
    attributes, problem = _attributes(values.get, forced)
    if problem is not None:
        return problem
    subject = forced or extractor.event_subject(attributes["source"], attributes["type"])
    content_type = _media_type(hdrs.get("content-type", "application/json"))
    if content_type != "application/json" and not content_type.endswith("+json"):
        return Unreadable(
            EventCode.UNSUPPORTED_CONTENT_TYPE,
            f"binary-mode data must be JSON, got {content_type!r}",
            subject,
        )
    try:
        payload, repeated = loads_object_with_duplicates(body, limits)
    except PayloadError as exc:
        return Unreadable(exc.code, exc.message, subject)
    return _event(attributes, subject, payload, EventFormat.BINARY, bytes(body), repeated)


def _attributes(get: Any, forced: str | None) -> tuple[dict[str, str], Unreadable | None]:
    version = get("specversion")
    if version != "1.0":
        code = (
            EventCode.INVALID_CLOUDEVENT if version is None else EventCode.UNSUPPORTED_SPECVERSION
        )
        return {}, Unreadable(code, f"specversion must be '1.0', got {version!r}", forced)
    out: dict[str, str] = {}
    for name in _REQUIRED:
        value = get(name)
        if not isinstance(value, str) or not value:
            return {}, Unreadable(
                EventCode.INVALID_CLOUDEVENT,
                f"the CloudEvent attribute {name!r} must be a non-empty string",
                forced,
            )
        out[name] = value
    time = get("time")
    if isinstance(time, str):
        out["time"] = time
    return out, None


def _event(
    attributes: Mapping[str, str],
    subject: str,
    payload: dict[str, Any],
    fmt: EventFormat,
    body: bytes | None,
    duplicate_keys: tuple[str, ...],
) -> RawEvent:
    return RawEvent(
        subject=subject,
        payload=payload,
        format=fmt,
        id=attributes["id"],
        source=attributes["source"],
        type=attributes["type"],
        time=attributes.get("time"),
        body=body,
        duplicate_keys=duplicate_keys,
    )


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _no_subject_message(extractor: SubjectExtractor) -> str:
    if extractor.pointer is not None:
        return f"the payload has no string at {extractor.pointer} to name its subject"
    return "plain JSON needs a subject: configure a JSON Pointer or a fixed subject"
