"""``POST /v1/events``: the HTTP way onto the raw stream.

Accepts:

* one CloudEvent in structured mode (``application/cloudevents+json``, or any JSON object
  with ``specversion``) or binary mode (``ce-`` headers, JSON body);
* a batch (``application/cloudevents-batch+json``: a JSON array of structured events);
* plain JSON with ``?subject=<name>``: one object, or an array of objects.

Every event is read strictly before anything is published: the same reader the worker uses,
with the same limits (``app.state.event_limits``, else
:data:`~schemashift.core.jsonparse.DEFAULT_LIMITS`: a repeated key keeps its last value
unless the server runs with ``--json-duplicates reject``). An array is read element by
element: the whole body is decoded at once first (the fast path); only when that fails is it
cut into its top-level elements (:func:`~schemashift.core.jsonparse.split_array`, a linear
byte scan) and each element decoded on its own, so one bad element (``NaN``, an integer of
5,000 digits, invalid UTF-8, a repeated key under ``reject``) is refused alone. A body that
cannot be cut (not an array, unbalanced brackets, garbage between elements) is one refusal
at index 0 with the whole body's code (``malformed_json`` for those).

Answers:

* ``202 {"accepted": n, "rejected": [{"index", "code", "message"}, ...]}`` when at least one
  event was accepted: each event that cannot be read is listed with its index in the body
  (0 for a single event) and its stable code, and never enters the pipeline;
* ``400`` with the same body when none was accepted;
* ``413`` for a body over ``app.state.ingest_max_bytes`` (5 MiB by default), refused before
  it is read in full; ``503`` without a bus, or when the bus cannot take the events.

What is published: a single event's body as sent; for an array element, its canonical
re-encoding, or its own bytes when the body had to be cut or the element repeated a key (so
the worker reads the same payload and sees the repetition). Repeated keys are not counted
here: the worker that reads the event counts them (``schemashift_duplicate_keys_total``),
so an event is counted once. CloudEvents are published with the ``Nats-Msg-Id``
``ce:<source>:<id>``, so a producer retrying a POST does not duplicate them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from schemashift.bus.base import Bus, OutgoingMessage
from schemashift.core.canonical import canonical_bytes
from schemashift.core.jsonparse import (
    DEFAULT_LIMITS,
    ParseCode,
    ParseLimits,
    loads_with_duplicates,
    measure,
    split_array,
)
from schemashift.errors import BusError, PayloadError
from schemashift.pipeline.cloudevents import (
    BATCH_CONTENT_TYPE,
    STRUCTURED_CONTENT_TYPE,
    SUBJECT_HEADER,
    EventCode,
    EventFormat,
    RawEvent,
    SubjectExtractor,
    Unreadable,
    lower_headers,
    parse_message,
    structured_event,
)
from schemashift.pipeline.subjects import BusSubjects

__all__ = ["DEFAULT_MAX_BYTES", "router"]

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
_EXTRACTOR = SubjectExtractor()

router = APIRouter(tags=["ingest"])


class _TooLarge(Exception):
    pass


@router.post("/v1/events", status_code=202)
async def ingest_events(
    request: Request, subject: str | None = Query(None, min_length=1)
) -> JSONResponse:
    """Publish raw events to the bus; answers how many were accepted."""
    limit = int(getattr(request.app.state, "ingest_max_bytes", DEFAULT_MAX_BYTES))
    try:
        body = await _read_body(request, limit)
    except _TooLarge:
        return _error(413, "too_large", f"the body exceeds the limit of {limit} bytes")
    bus: Bus | None = getattr(request.app.state, "bus", None)
    if bus is None:
        return _error(503, "no_bus", "this server has no bus to publish events to")
    limits = _event_limits(request)
    headers = lower_headers(dict(request.headers))
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    subjects = BusSubjects(bus.prefix)
    accepted: list[OutgoingMessage] = []
    rejected: list[dict[str, Any]] = []

    def take(index: int, result: RawEvent | Unreadable, message: OutgoingMessage | None) -> None:
        if isinstance(result, Unreadable):
            rejected.append({"index": index, "code": result.code, "message": result.message})
        elif message is not None:
            accepted.append(message)

    if subject is not None and "ce-specversion" not in headers and media != BATCH_CONTENT_TYPE:
        for index, (result, raw) in enumerate(_plain(body, subject, limits)):
            take(index, result, _plain_message(subjects, subject, raw, result))
    elif "ce-specversion" in headers:
        result = parse_message(body, headers, _EXTRACTOR, limits)
        ce_headers = {k: v for k, v in headers.items() if k.startswith("ce-")}
        ce_headers["content-type"] = headers.get("content-type", "application/json")
        take(0, result, _ce_message(subjects, result, body, ce_headers))
    elif media == BATCH_CONTENT_TYPE:
        for index, (result, raw) in enumerate(_batch(body, limits)):
            take(index, result, _ce_message(subjects, result, raw, _STRUCTURED))
    else:
        result = parse_message(body, {"content-type": media}, _EXTRACTOR, limits)
        if isinstance(result, Unreadable) and result.code == EventCode.NO_SUBJECT:
            result = Unreadable(EventCode.NO_SUBJECT, "plain JSON needs ?subject=<name>")
        take(0, result, _ce_message(subjects, result, body, _STRUCTURED))

    if not accepted:
        return JSONResponse({"accepted": 0, "rejected": rejected}, status_code=400)
    try:
        await bus.publish_many(accepted)
    except BusError as exc:
        return _error(503, "bus_unavailable", str(exc))
    return JSONResponse({"accepted": len(accepted), "rejected": rejected}, status_code=202)


_STRUCTURED = {"content-type": STRUCTURED_CONTENT_TYPE}


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _event_limits(request: Request) -> ParseLimits:
    limits = getattr(request.app.state, "event_limits", None)
    return limits if isinstance(limits, ParseLimits) else DEFAULT_LIMITS


@dataclass(frozen=True, slots=True)
class _Element:
    """One document of the body: decoded, or refused with ``error``."""

    value: Any = None
    raw: bytes | None = None  # its own bytes; None: publish its canonical re-encoding
    duplicates: tuple[str, ...] = ()
    error: PayloadError | None = None

    def published(self) -> bytes:
        return self.raw if self.raw is not None else canonical_bytes(self.value)


def _read(body: bytes, limits: ParseLimits) -> tuple[bool, list[_Element]]:
    """Whether ``body`` is an array, and its elements (or the one document it is).

    The whole body is decoded at once; only when that fails, or when it repeated a key (so
    that each element is published with its own bytes), is it cut into its elements, each
    decoded on its own.
    """
    try:
        value, duplicates = loads_with_duplicates(body, _batch_limits(limits))
    except PayloadError as exc:
        spans = split_array(body)
        if spans is None:
            return False, [_Element(raw=body, error=exc)]
        return True, [_element(body[start:end], limits) for start, end in spans]
    if not isinstance(value, list):
        return False, [_Element(value, body, duplicates, _over_event_limits(value, limits))]
    if duplicates:
        spans = split_array(body)
        if spans is not None and len(spans) == len(value):
            return True, [_element(body[start:end], limits) for start, end in spans]
    return True, [_Element(item, None, (), _over_event_limits(item, limits)) for item in value]


def _element(raw: bytes, limits: ParseLimits) -> _Element:
    try:
        value, duplicates = loads_with_duplicates(raw, _element_limits(limits))
    except PayloadError as exc:
        return _Element(raw=raw, error=exc)
    return _Element(value, raw, duplicates)


def _plain(
    body: bytes, subject: str, limits: ParseLimits
) -> list[tuple[RawEvent | Unreadable, bytes]]:
    """One object, or each object of an array, as plain events of ``subject``."""
    _, elements = _read(body, limits)
    out: list[tuple[RawEvent | Unreadable, bytes]] = []
    for element in elements:
        if element.error is not None:
            error = element.error
            out.append((Unreadable(error.code, error.message, subject), b""))
        elif isinstance(element.value, dict):
            event = RawEvent(
                subject=subject,
                payload=element.value,
                format=EventFormat.PLAIN,
                duplicate_keys=element.duplicates,
            )
            out.append((event, element.published()))
        else:
            out.append(
                (Unreadable(ParseCode.NOT_AN_OBJECT, "each event must be a JSON object"), b"")
            )
    return out


# A batch is many events: its body is bounded by the ingest size limit, its nesting by one
# level more than an event's; key counts and depth are then checked per event, so a batch of
# 500 ordinary events (17,500 keys) is not refused for the key limit of a single event.
def _batch_limits(limits: ParseLimits) -> ParseLimits:
    depth = None if limits.max_depth is None else limits.max_depth + 1
    return replace(limits, max_bytes=None, max_depth=depth, max_keys=None)


# An element decoded on its own gets the event's limits but no size bound: the body's limit
# bounds it already, as when the whole body decodes at once.
def _element_limits(limits: ParseLimits) -> ParseLimits:
    return replace(limits, max_bytes=None)


def _over_event_limits(item: Any, limits: ParseLimits) -> PayloadError | None:
    if not isinstance(item, dict | list):
        return None
    depth, keys = measure(item, limits.max_depth)
    if limits.max_depth is not None and depth > limits.max_depth:
        return PayloadError(ParseCode.TOO_DEEP, f"nesting deeper than {limits.max_depth}")
    if limits.max_keys is not None and keys > limits.max_keys:
        return PayloadError(
            ParseCode.TOO_MANY_KEYS,
            f"{keys} object keys exceed the limit of {limits.max_keys}",
        )
    return None


def _batch(body: bytes, limits: ParseLimits) -> list[tuple[RawEvent | Unreadable, bytes]]:
    is_array, elements = _read(body, limits)
    if not is_array:
        error = elements[0].error
        if error is not None:
            return [(Unreadable(error.code, error.message), body)]
        return [(Unreadable(EventCode.INVALID_CLOUDEVENT, "a batch is a JSON array"), body)]
    out: list[tuple[RawEvent | Unreadable, bytes]] = []
    for element in elements:
        if element.error is not None:
            out.append((Unreadable(element.error.code, element.error.message), b""))
        else:
            event = structured_event(element.value, _EXTRACTOR, limits, None, element.duplicates)
            out.append((event, element.published()))
    return out


def _plain_message(
    subjects: BusSubjects, subject: str, raw: bytes, result: RawEvent | Unreadable
) -> OutgoingMessage | None:
    if isinstance(result, Unreadable):
        return None
    headers = {"content-type": "application/json", SUBJECT_HEADER: subject}
    return OutgoingMessage(subjects.raw(subject), raw, headers)


def _ce_message(
    subjects: BusSubjects, result: RawEvent | Unreadable, raw: bytes, headers: dict[str, str]
) -> OutgoingMessage | None:
    if isinstance(result, Unreadable):
        return None
    msg_id = f"ce:{result.source}:{result.id}"
    return OutgoingMessage(subjects.raw(result.subject), raw, dict(headers), msg_id)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error_code": code, "message": message}, status_code=status)
