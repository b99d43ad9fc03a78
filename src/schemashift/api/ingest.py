"""``POST /v1/events``: the HTTP way onto the raw stream.

Accepts, and answers ``202 {"accepted": n, "rejected": [...]}``:

* one CloudEvent in structured mode (``application/cloudevents+json``, or any JSON object
  with ``specversion``) or binary mode (``ce-`` headers, JSON body);
* a batch (``application/cloudevents-batch+json``: a JSON array of structured events);
* plain JSON with ``?subject=<name>``: one object, or an array of objects.

Every event is read strictly (the same reader the worker uses) before anything is
published; events that cannot be read are listed in ``rejected`` with their index and stable
code and never enter the pipeline (``400`` when none could be accepted). A body over the limit
(``app.state.ingest_max_bytes``, 5 MiB by default) is refused with ``413`` before it is read
in full; a bus that cannot take the events gives ``503``. CloudEvents are published with the
``Nats-Msg-Id`` ``ce:<source>:<id>``, so a producer retrying a POST does not duplicate them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from schemashift.bus.base import Bus, OutgoingMessage
from schemashift.core.canonical import canonical_bytes
from schemashift.core.jsonparse import DEFAULT_LIMITS, ParseCode, ParseLimits, loads, measure
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
        for index, (result, raw) in enumerate(_plain(body, subject)):
            take(index, result, _plain_message(subjects, subject, raw, result))
    elif "ce-specversion" in headers:
        result = parse_message(body, headers, _EXTRACTOR)
        ce_headers = {k: v for k, v in headers.items() if k.startswith("ce-")}
        ce_headers["content-type"] = headers.get("content-type", "application/json")
        take(0, result, _ce_message(subjects, result, body, ce_headers))
    elif media == BATCH_CONTENT_TYPE:
        for index, (result, raw) in enumerate(_batch(body)):
            take(index, result, _ce_message(subjects, result, raw, _STRUCTURED))
    else:
        result = parse_message(body, {"content-type": media}, _EXTRACTOR)
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


def _plain(body: bytes, subject: str) -> list[tuple[RawEvent | Unreadable, bytes]]:
    """One object, or each object of an array, as plain events of ``subject``."""
    try:
        value = loads(body, _BATCH_LIMITS)
    except PayloadError as exc:
        return [(Unreadable(exc.code, exc.message, subject), body)]
    items = value if isinstance(value, list) else [value]
    out: list[tuple[RawEvent | Unreadable, bytes]] = []
    for item in items:
        raw = body if item is value else canonical_bytes(item)
        problem = _over_event_limits(item)
        if problem is not None:
            out.append((Unreadable(problem.code, problem.message, subject), raw))
        elif isinstance(item, dict):
            out.append((RawEvent(subject=subject, payload=item, format=EventFormat.PLAIN), raw))
        else:
            out.append(
                (Unreadable(ParseCode.NOT_AN_OBJECT, "each event must be a JSON object"), raw)
            )
    return out


# A batch is many events: its body is bounded by the ingest size limit, its nesting by one
# level more than an event's; key counts and depth are then checked per event, so a batch of
# 500 ordinary events (17,500 keys) is not refused for the key limit of a single event.
_BATCH_LIMITS = ParseLimits(
    max_bytes=None,
    max_depth=None if DEFAULT_LIMITS.max_depth is None else DEFAULT_LIMITS.max_depth + 1,
    max_keys=None,
)


def _over_event_limits(item: Any) -> PayloadError | None:
    if not isinstance(item, dict | list):
        return None
    depth, keys = measure(item, DEFAULT_LIMITS.max_depth)
    if DEFAULT_LIMITS.max_depth is not None and depth > DEFAULT_LIMITS.max_depth:
        return PayloadError(ParseCode.TOO_DEEP, f"nesting deeper than {DEFAULT_LIMITS.max_depth}")
    if DEFAULT_LIMITS.max_keys is not None and keys > DEFAULT_LIMITS.max_keys:
        return PayloadError(
            ParseCode.TOO_MANY_KEYS,
            f"{keys} object keys exceed the limit of {DEFAULT_LIMITS.max_keys}",
        )
    return None


def _batch(body: bytes) -> list[tuple[RawEvent | Unreadable, bytes]]:
    try:
        value = loads(body, _BATCH_LIMITS)
    except PayloadError as exc:
        return [(Unreadable(exc.code, exc.message), body)]
    if not isinstance(value, list):
        return [(Unreadable(EventCode.INVALID_CLOUDEVENT, "a batch is a JSON array"), body)]
    out: list[tuple[RawEvent | Unreadable, bytes]] = []
    for item in value:
        problem = _over_event_limits(item)
        if problem is not None:
            out.append((Unreadable(problem.code, problem.message), canonical_bytes(item)))
        else:
            out.append((structured_event(item, _EXTRACTOR), canonical_bytes(item)))
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
