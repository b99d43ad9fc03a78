"""One process, every part: the HTTP API and UI, the ingest endpoint, the stream worker(s),
the outbox relay, the webhook dispatcher, the monitor and (with ``demo``) the demo producer.

::

    producer ──POST /v1/events──▶ ingest ──raw──▶ bus ──▶ worker ──▶ registry (store + outbox)
                                                          │                │
                                        conformed / DLQ ◀─┘     relay ◀────┘──▶ webhooks
                                                                  │
                                                    schema.updated ──▶ bus ──▶ subscribers

``SchemaShiftServer.run()`` starts everything, serves until SIGINT/SIGTERM (or
:meth:`SchemaShiftServer.stop`), then stops in reverse order: the producer first (no new
events), the HTTP server, then the background parts, each given a grace period to finish
what it holds, and finally closes the bus and the store.

A background part that crashes is logged and restarted after a pause: one bad moment of the
store or the bus must not leave the process serving HTTP with a dead worker behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import socket
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import uvicorn

from schemashift.errors import BusError
from schemashift.monitoring.logs import get_logger, log_event
from schemashift.monitoring.metrics import Metrics
from schemashift.security.limits import install_body_limit
from schemashift.server.demo_producer import (
    CloudEvent,
    DemoProducer,
    HttpIngestSender,
    demo_events,
    prepare_demo,
)
from schemashift.server.monitor import Monitor, jetstream_lags
from schemashift.server.parts import build_parts, optional_routers
from schemashift.server.settings import ServerSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from schemashift.bus.base import Bus
    from schemashift.registry.service import Registry

__all__ = ["Runnable", "SchemaShiftServer"]

STOP_GRACE = 5.0  # seconds each part gets to finish after stop()
RESTART_PAUSE = 1.0  # seconds before a crashed part is restarted


class Runnable(Protocol):
    """A background part: ``run()`` until ``stop()`` is awaited."""

    async def run(self) -> None: ...

    async def stop(self) -> None: ...


class _HttpServer(uvicorn.Server):
    """uvicorn without its own signal handling: the composition owns SIGINT/SIGTERM.

    uvicorn re-raises a captured signal once its server has stopped, which for SIGTERM ends
    the process before the worker, relay and bus are shut down; we stop those first.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@dataclass
class _Part:
    name: str
    part: Runnable
    task: asyncio.Task[None] | None = None


class SchemaShiftServer:
    """The all-in-one server. ``await start()`` … ``await stop()``, or ``await run()``.

    ``demo_source`` replaces the project's generator as the demo's events (tests pass a short
    schedule). ``registry``, ``bus`` and ``app`` are available once :meth:`start` returned.
    """

    def __init__(
        self, settings: ServerSettings, *, demo_source: Iterator[CloudEvent] | None = None
    ) -> None:
        self.settings = settings
        self.demo_source = demo_source
        self.metrics = Metrics()
        self.url = ""
        self._registry: Registry | None = None
        self._bus: Bus | None = None
        self._app: FastAPI | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._parts: list[_Part] = []
        self._http: _HttpServer | None = None
        self._http_task: asyncio.Task[None] | None = None
        self._sender: HttpIngestSender | None = None
        self._stopping = False
        self._closers: list[Any] = []

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            raise RuntimeError("the server has not started")
        return self._registry

    @property
    def bus(self) -> Bus:
        if self._bus is None:
            raise RuntimeError("the server has not started")
        return self._bus

    @property
    def app(self) -> FastAPI:
        if self._app is None:
            raise RuntimeError("the server has not started")
        return self._app

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the server runs on (the in-process bus is bound to it: tests that
        read that bus run their coroutines here, ``run_coroutine_threadsafe``)."""
        if self._loop is None:
            raise RuntimeError("the server has not started")
        return self._loop

    @property
    def log(self) -> logging.Logger:
        return get_logger("server")

    async def start(self) -> None:
        """Open the store and the bus, serve HTTP, then start the background parts."""
        from schemashift.api.app import create_app
        from schemashift.registry.service import Registry as RegistryService

        self._loop = asyncio.get_running_loop()
        auth = None
        if self.settings.auth_config is not None:
            from schemashift.security.config import load_auth_config

            auth = load_auth_config(self.settings.auth_config)
        from schemashift.security.exposure import require_auth_for_host

        # no open registry on a network interface by accident (InsecureExposureError)
        require_auth_for_host(self.settings.host, auth, self.settings.insecure)
        # bind first: a taken port fails before anything is opened, and a port chosen by
        # the OS (port 0) is known before the parts are told the registry's address
        sock = _bind(self.settings.host, self.settings.port)
        port = int(sock.getsockname()[1])
        self.settings = s = self.settings.with_port(port)
        self.url = f"http://{_url_host(s.host)}:{port}"
        try:
            registry = self._registry = await asyncio.to_thread(RegistryService.from_url, s.db_url)
            self._closers.append(registry)
            bus = self._bus = await _connect(s)
            parts = await build_parts(s, registry=registry, bus=bus, metrics=self.metrics)
            self._closers.extend(parts.closers)
        except BaseException:
            sock.close()
            raise
        state: dict[str, Any] = {
            "bus": bus,
            "metrics": self.metrics,
            "settings": s,
            **parts.state,
        }
        app = self._app = create_app(registry, routers=optional_routers(s, parts), state=state)
        # every body is bounded before any route reads it (ingest keeps its own smaller limit)
        install_body_limit(app)
        if auth is not None:
            from schemashift.security.middleware import install_auth

            install_auth(app, auth)

        config = uvicorn.Config(
            app, log_config=None, access_log=False, lifespan="on", server_header=False
        )
        self._http = _HttpServer(config)
        self._http_task = asyncio.create_task(self._http.serve(sockets=[sock]), name="http")
        while not self._http.started:
            if self._http_task.done():
                self._http_task.result()  # re-raise why the HTTP server could not start
                raise RuntimeError("the HTTP server stopped during start-up")
            await asyncio.sleep(0.02)

        for name, part in parts.runnables:
            self._launch(name, part)
        monitor = Monitor(
            registry,
            self.metrics,
            interval=s.monitor_interval,
            lag_warning=s.lag_warning,
            lag_probe=functools.partial(jetstream_lags, bus),
        )
        app.state.activity = monitor.recent  # the UI's activity feed
        self._launch("monitor", monitor)
        if s.demo:
            await asyncio.to_thread(prepare_demo, registry)
            self._sender = HttpIngestSender(self.url)
            events = self.demo_source
            if events is None:
                cycle = max(100, int(s.demo_rate * s.demo_cycle_seconds))
                events = demo_events(s.demo_seed, cycle=cycle)
            self._launch("demo", DemoProducer(events, self._sender, rate=s.demo_rate))
        log_event(
            self.log,
            "server.started",
            url=self.url,
            db=_redact(s.db_url),
            bus=_redact(s.bus_url),
            parts=[p.name for p in self._parts],
        )

    def _launch(self, name: str, part: Runnable) -> None:
        entry = _Part(name, part)
        entry.task = asyncio.create_task(self._supervise(entry), name=name)
        self._parts.append(entry)

    async def _supervise(self, entry: _Part) -> None:
        while not self._stopping:
            try:
                await entry.part.run()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log_event(
                    self.log, "part.crashed", level=logging.ERROR, exc_info=True, part=entry.name
                )
                await asyncio.sleep(RESTART_PAUSE)

    def request_stop(self) -> None:
        """Begin a graceful stop (what SIGINT/SIGTERM do); a second request forces it."""
        if self._http is None:
            return
        if self._http.should_exit:
            self._http.force_exit = True
        self._http.should_exit = True

    def install_signal_handlers(self) -> None:
        """Route SIGINT and SIGTERM to :meth:`request_stop` (main thread, Unix)."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self.request_stop)

    async def wait(self) -> None:
        """Until the HTTP server exits (SIGINT/SIGTERM in the main thread, or :meth:`stop`)."""
        if self._http_task is not None:
            await asyncio.shield(self._http_task)

    async def run(self) -> None:
        await self.start()
        try:
            await self.wait()
        finally:
            await self.stop()

    async def stop(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        # the producer first (no new events), then HTTP, then the parts that drain the bus
        producers = [p for p in self._parts if p.name == "demo"]
        await asyncio.gather(*(_stop_part(p) for p in producers))
        if self._http is not None:
            self._http.should_exit = True
        if self._http_task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._http_task), STOP_GRACE)
        await asyncio.gather(*(_stop_part(p) for p in self._parts if p.name != "demo"))
        if self._sender is not None:
            await self._sender.aclose()
        if self._bus is not None:
            with contextlib.suppress(Exception):
                await self._bus.close()
        for closer in reversed(self._closers):
            close = getattr(closer, "close", None)
            if callable(close):
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(close)
        log_event(self.log, "server.stopped", url=self.url)


async def _stop_part(entry: _Part) -> None:
    with contextlib.suppress(Exception):
        await entry.part.stop()
    if entry.task is None:
        return
    try:
        await asyncio.wait_for(asyncio.shield(entry.task), STOP_GRACE)
    except (TimeoutError, Exception):
        entry.task.cancel()
        with contextlib.suppress(BaseException):
            await entry.task


async def _connect(settings: ServerSettings) -> Bus:
    """The bus, or BusError after ``bus_connect_timeout`` (a NATS client retries forever)."""
    from schemashift.bus import connect_bus

    limit = settings.bus_connect_timeout
    try:
        return await asyncio.wait_for(
            connect_bus(settings.bus_url, prefix=settings.bus_prefix), limit
        )
    except TimeoutError:
        raise BusError(
            f"cannot reach the bus at {_redact(settings.bus_url)} within {limit:g}s"
        ) from None


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _redact(url: str) -> str:
    """A URL without its password, for logs."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, location = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{location}" if ":" in credentials else url
