"""A real HTTP receiver on a loopback port, for testing webhook consumers and the dispatcher.

    async with LoopbackReceiver(lambda request: 200) as receiver:
        ...  # point a subscription at receiver.url
        await receiver.wait_for(3)
        assert [r.json()["id"] for r in receiver.accepted] == [...]

``respond`` decides each answer: a status code, or ``(status, headers)``; it may be async,
and may never return (a receiver that accepts the connection and never answers). Built on
asyncio streams and h11 (which httpx already depends on) — no web framework involved.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import h11
import orjson

__all__ = ["LoopbackReceiver", "ReceivedRequest", "Response", "hang"]

Response = int | tuple[int, Mapping[str, str]]
Responder = Callable[["ReceivedRequest"], Response | Awaitable[Response]]


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


async def hang(request: ReceivedRequest) -> Response:
    """A responder that never answers (until the receiver is closed)."""
    del request
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


class LoopbackReceiver:
    """Records every request; ``accepted`` holds those answered with a 2xx status."""

    def __init__(
        self,
        respond: Responder = lambda request: 200,
        path: str = "/hook",
        *,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.respond = respond
        self.path = path
        self.tls = tls
        self.requests: list[ReceivedRequest] = []
        self.accepted: list[ReceivedRequest] = []
        self._changed = asyncio.Condition()
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}{self.path}"

    async def __aenter__(self) -> LoopbackReceiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._handlers):
            task.cancel()
        for task in list(self._handlers):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def wait_for(self, count: int, *, timeout: float = 30.0) -> list[ReceivedRequest]:
        """Wait until ``count`` requests were accepted; the timeout only guards against hangs."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(self.accepted) >= count)
        return list(self.accepted)

    async def wait_for_requests(self, count: int, *, timeout: float = 30.0) -> None:
        """Wait until ``count`` requests arrived, whatever the answer."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(self.requests) >= count)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await self._connection(reader, writer)
        except (ConnectionError, ssl.SSLError, h11.ProtocolError):
            pass  # the client went away, refused our certificate or spoke nonsense
        except asyncio.CancelledError:
            # close() cancels open connections; end normally, because asyncio's stream
            # protocol asks a finished handler for its exception and logs a cancelled one.
            pass
        finally:
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        head: h11.Request | None = None
        body = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(65536))
            elif isinstance(event, h11.Request):
                head, body = event, bytearray()
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage) and head is not None:
                await self._answer(conn, writer, head, bytes(body))
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    return
                conn.start_next_cycle()
            else:  # ConnectionClosed, PAUSED
                return

    async def _answer(
        self, conn: h11.Connection, writer: asyncio.StreamWriter, head: h11.Request, body: bytes
    ) -> None:
        request = ReceivedRequest(
            method=head.method.decode(),
            path=head.target.decode(),
            headers={k.decode().lower(): v.decode() for k, v in head.headers},
            body=body,
        )
        async with self._changed:
            self.requests.append(request)
            self._changed.notify_all()
        answer = self.respond(request)
        if inspect.isawaitable(answer):
            answer = await answer
        status, extra = (answer, {}) if isinstance(answer, int) else answer
        headers = [("content-length", "0"), *extra.items()]
        writer.write(conn.send(h11.Response(status_code=status, headers=headers)) or b"")
        writer.write(conn.send(h11.EndOfMessage()) or b"")
        await writer.drain()
        if 200 <= status < 300:
            async with self._changed:
                self.accepted.append(request)
                self._changed.notify_all()
