"""A request-body size limit enforced before anything reads the body: 413, not a full read.

Endpoints read bodies whole (``await request.body()``), so without a limit in front of them
a client could make the process buffer gigabytes before any parser gets to refuse it. This
middleware refuses a declared ``Content-Length`` over the limit at once, and counts the
bytes of chunked bodies as they arrive, answering 413 as soon as the count passes the
limit, without waiting for (or keeping) the rest.
"""

from __future__ import annotations

import json

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DEFAULT_MAX_BODY_BYTES", "BodySizeLimit", "install_body_limit"]

DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024


class _TooLarge(HTTPException):
    """Raised from ``receive``; an HTTPException so the app's own handlers answer 413 too."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"request body larger than {max_bytes} bytes")


def install_body_limit(app: FastAPI, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
    """Answer 413 to any request whose body exceeds ``max_bytes``."""
    app.add_middleware(BodySizeLimit, max_bytes=max_bytes)


class BodySizeLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {"error_code": 413, "message": f"request body larger than {self.max_bytes} bytes"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
