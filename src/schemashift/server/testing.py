"""A real server in a background thread, for tests (ours and users').

    with running_server(ServerSettings(db_url=f"sqlite:///{tmp}/t.db", port=0)) as server:
        httpx.post(f"{server.url}/v1/events", ...)

The server runs its own event loop in a daemon thread; leaving the block stops it gracefully
(producer, HTTP, worker, relay, bus, store — as SIGTERM would) and waits for the thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from schemashift.server.app import SchemaShiftServer
from schemashift.server.demo_producer import CloudEvent
from schemashift.server.settings import ServerSettings

__all__ = ["running_server"]


@contextmanager
def running_server(
    settings: ServerSettings,
    *,
    demo_source: Iterator[CloudEvent] | None = None,
    timeout: float = 30.0,
) -> Iterator[SchemaShiftServer]:
    """Start a :class:`SchemaShiftServer`; yield it once it serves HTTP; stop it on exit."""
    server = SchemaShiftServer(settings, demo_source=demo_source)
    started = threading.Event()
    failure: list[BaseException] = []
    loop_box: list[asyncio.AbstractEventLoop] = []

    async def main() -> None:
        loop_box.append(asyncio.get_running_loop())
        try:
            await server.start()
        except BaseException as exc:
            failure.append(exc)
            started.set()
            await server.stop()
            return
        started.set()
        try:
            await server.wait()
        finally:
            await server.stop()

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="schemashift-server")
    thread.daemon = True
    thread.start()
    if not started.wait(timeout):
        raise TimeoutError(f"the server did not start within {timeout}s")
    if failure:
        thread.join(timeout)
        raise failure[0]
    try:
        yield server
    finally:
        loop_box[0].call_soon_threadsafe(server.request_stop)
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError(f"the server did not stop within {timeout}s")
