"""The HTTP side of the commands that talk to a running server (``webhooks``, ``dlq``).

One client per command run, one way to call a route, one way to say what went wrong: an
answer of 400 or more becomes :class:`ApiError` with the server's ``message`` (or its
validation ``detail``) on one line, and :func:`fail` prints it — or an unreachable server —
as the command's single error line.
"""

from __future__ import annotations

from typing import Any, TextIO

import httpx
import orjson

__all__ = ["ApiError", "call", "fail", "open_client"]


class ApiError(Exception):
    """The server refused (``status`` ≥ 400), or the command itself did (``status`` 0)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def open_client(
    base_url: str,
    token: str | None,
    *,
    timeout: float,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(
        base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
    )


def call(client: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    """The decoded answer of one request (None for 204); ApiError for an error answer."""
    response = client.request(method, path, **kwargs)
    if response.status_code == 204:
        return None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400:
        message = body.get("message") if isinstance(body, dict) else None
        if message is None and isinstance(body, dict) and "detail" in body:
            message = orjson.dumps(body["detail"]).decode()
        text = message or response.text.strip() or response.reason_phrase
        raise ApiError(response.status_code, " ".join(str(text).split()))
    return body


def fail(command: str, exc: Exception, url: str, stderr: TextIO) -> int:
    """Print the one error line of ``schemashift <command>`` for ``exc``; the exit code."""
    if isinstance(exc, ApiError):
        prefix = f"HTTP {exc.status}: " if exc.status else ""
        stderr.write(f"schemashift {command}: {prefix}{exc.message}\n")
    else:
        stderr.write(f"schemashift {command}: cannot reach {url}: {exc}\n")
    return 1
