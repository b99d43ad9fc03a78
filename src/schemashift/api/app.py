"""``create_app``: the registry's HTTP application, to which other parts add routers.

Confluent-compatible routes and the native ``/v1`` registry routes are built in; the
ingest, UI, monitoring and webhook routers are passed by whoever composes the server, and
read what they need from ``request.app.state`` (``registry``, ``bus``, ``metrics``, …).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI

from schemashift import __version__
from schemashift.api import confluent, dead_letters, native
from schemashift.api.errors import install_error_handlers
from schemashift.api.media import RegistryJSONResponse
from schemashift.registry.service import Registry

log = logging.getLogger("schemashift.api")

SUNSET_SWEEP_SECONDS = 60.0


async def _sweep_sunsets(registry: Registry, every: float) -> None:
    """Write ``version.sunset`` records as versions pass their sunset (every process may; the
    store's write lock and the recorded flag make each record appear once)."""
    while True:
        try:
            await asyncio.to_thread(registry.sweep_sunsets)
        except Exception:  # a transient store failure must not end the loop
            log.exception("sunset sweep failed")
        await asyncio.sleep(every)


def create_app(
    registry: Registry,
    *,
    routers: Sequence[APIRouter] = (),
    state: Mapping[str, Any] = {},
) -> FastAPI:
    """The HTTP app over ``registry``; ``routers`` are added after the registry's own routes.

    ``state["sunset_sweep_seconds"]`` sets how often sunsets are recorded (0 disables).
    """
    sweep_every = float(state.get("sunset_sweep_seconds", SUNSET_SWEEP_SECONDS))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = None
        if sweep_every > 0:
            task = asyncio.create_task(_sweep_sunsets(registry, sweep_every))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(
        title="schemashift registry",
        version=__version__,
        description=(
            "A Confluent Schema Registry compatible API for JSON Schema, plus native /v1"
            " endpoints for drift, quarantine, policy and consumer contracts."
        ),
        default_response_class=RegistryJSONResponse,
        lifespan=lifespan,
    )
    app.state.registry = registry
    app.state.schema_bodies = {}
    for key, value in state.items():
        setattr(app.state, key, value)
    install_error_handlers(app)
    app.include_router(confluent.router)
    app.include_router(native.router)
    app.include_router(dead_letters.router)
    for extra in routers:
        app.include_router(extra)
    # last, so that a UI router passed in serves "/" to browsers instead
    app.include_router(confluent.root_router)
    return app
