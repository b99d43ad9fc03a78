"""Small ASGI helpers for the auth middleware: canned answers, capture, JSON rewriting."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemashift.core.jsonparse import ParseLimits, loads
from schemashift.errors import PayloadError

# the API's own body rules (api/media.py), so the middleware reads a body as the route will
_BODY_LIMITS = ParseLimits(max_bytes=None, max_depth=128, max_keys=200_000)


@dataclass
class Captured:
    """A complete response from an inner ASGI app, held back so it can be rewritten."""

    status: int = 500
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    @property
    def is_json(self) -> bool:
        media = (self.header(b"content-type") or b"").split(b";")[0].strip().lower()
        return media == b"application/json" or media.endswith(b"+json")


async def capture(app: ASGIApp, scope: Scope, receive: Receive) -> Captured:
    """Run ``app`` and collect its whole response instead of sending it."""
    result = Captured()
    chunks: list[bytes] = []

    async def collect(message: Message) -> None:
        if message["type"] == "http.response.start":
            result.status = int(message["status"])
            result.headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))

    await app(scope, receive, collect)
    result.body = b"".join(chunks)
    return result


async def replay(captured: Captured, send: Send, body: bytes | None = None) -> None:
    """Send a captured response, with a new body (and a matching Content-Length) if given."""
    payload = captured.body if body is None else body
    headers = [(k, v) for k, v in captured.headers if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(payload)).encode("ascii")))
    await send({"type": "http.response.start", "status": captured.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def send_json(
    send: Send, status: int, document: Any, extra: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    body = json.dumps(document, separators=(",", ":")).encode("utf-8")
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def empty_receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def read_body(receive: Receive, max_bytes: int) -> bytes | None:
    """The whole request body; None once it passes ``max_bytes`` (or the client left)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def receive_from(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app ``body`` (already read), then waits as ``receive``."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return again


def body_field(body: bytes, name: str) -> str | None:
    """``body[name]`` if the body is a JSON object (parsed as strictly as the API parses
    bodies, so both read the same value) and that member is a string; else None."""
    try:
        document = loads(body, _BODY_LIMITS)
    except PayloadError:
        return None
    value = document.get(name) if isinstance(document, dict) else None
    return value if isinstance(value, str) else None


def filter_subjects(document: Any, readable: Callable[[str], bool]) -> Any:
    """Drop every subject the caller may not read from a list-shaped answer.

    Understands the shapes the list endpoints use: a list of subject names, a list of
    objects with a ``subject`` key, an object whose ``subjects`` key holds either, and a page
    (an object with ``items``) whose items keep only those naming a readable subject — an
    item of no known subject (``"subject": null``) is for readers of ``*`` alone.
    Objects with a ``subject`` key at other places are left alone: only list routes are
    filtered, and the table in :mod:`~schemashift.security.policy` says which those are.
    """
    if isinstance(document, list):
        kept: list[Any] = []
        for item in document:
            if isinstance(item, str):
                if readable(item):
                    kept.append(item)
            elif isinstance(item, dict) and isinstance(item.get("subject"), str):
                if readable(item["subject"]):
                    kept.append(item)
            else:
                kept.append(item)
        return kept
    if isinstance(document, dict) and isinstance(document.get("items"), list):
        items = [
            item
            for item in document["items"]
            if isinstance(item, dict)
            and isinstance(item.get("subject"), str)
            and readable(item["subject"])
        ]
        return {**document, "items": items}
    if isinstance(document, dict) and isinstance(document.get("subjects"), list):
        rows = filter_subjects(document["subjects"], readable)
        result = {**document, "subjects": rows}
        if isinstance(document.get("totals"), dict):
            result["totals"] = _totals_of(rows, document["totals"])
        return result
    return document


def _totals_of(rows: list[Any], totals: dict[str, Any]) -> dict[str, Any]:
    """Totals recomputed over the kept rows, so counts say nothing about hidden subjects.

    ``subjects`` becomes the number of rows; any other total is kept only if it is the sum
    of a numeric field of that name in every row, and then re-summed; the rest is dropped.
    """
    kept: dict[str, Any] = {"subjects": len(rows)} if "subjects" in totals else {}
    for key in totals:
        if key == "subjects":
            continue
        values = [row.get(key) if isinstance(row, dict) else None for row in rows]
        numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        if len(numbers) == len(values):
            total: float = sum(numbers)
            kept[key] = round(total, 6) if isinstance(total, float) else total
    return kept


def json_escaped(text: str) -> bytes:
    """How a JSON encoder that keeps non-ASCII characters writes ``text`` inside a string."""
    return json.dumps(text, ensure_ascii=False)[1:-1].encode("utf-8", "surrogatepass")
