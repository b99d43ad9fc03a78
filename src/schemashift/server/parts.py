"""Building the background parts and routers of one server process from its settings.

Kept apart from the lifecycle in ``server/app.py`` so each part's construction — and which
parts a given role runs (all-in-one, API-only, worker-only) — reads in one place.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter

from schemashift.monitoring.logs import get_logger, log_event
from schemashift.monitoring.metrics import Metrics
from schemashift.server.settings import ServerSettings

__all__ = ["Parts", "build_parts", "optional_routers"]


@dataclass
class Parts:
    runnables: list[tuple[str, Any]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    closers: list[Any] = field(default_factory=list)
    routers: list[APIRouter] = field(default_factory=list)


def _router(module_name: str) -> APIRouter | None:
    """``module.router`` if the module exists (parts built by others may be absent)."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            return None
        raise
    router = getattr(module, "router", None)
    return router if isinstance(router, APIRouter) else None


async def build_parts(
    settings: ServerSettings, *, registry: Any, bus: Any, metrics: Metrics
) -> Parts:
    parts = Parts()
    # the limits event payloads are read with (--json-duplicates), at HTTP ingest here and
    # in the workers below, so both read an event alike
    parts.state["event_limits"] = settings.event_limits
    _add_pipeline(parts, settings, registry=registry, bus=bus, metrics=metrics)
    _add_webhooks(parts, settings, registry=registry, metrics=metrics)
    return parts


def _add_pipeline(
    parts: Parts, settings: ServerSettings, *, registry: Any, bus: Any, metrics: Metrics
) -> None:
    try:
        from schemashift.pipeline.relay import OutboxRelay
        from schemashift.pipeline.worker import Worker, WorkerOptions
    except ImportError as exc:  # a build without the pipeline still serves the API and UI
        log_event(get_logger("server"), "part.unavailable", part="pipeline", error=str(exc))
        return
    options = WorkerOptions(limits=settings.event_limits)
    relay = (
        OutboxRelay(registry, bus, metrics=metrics, registry_url=settings.public_url)
        if settings.relay
        else None
    )
    for index in range(settings.workers):
        worker = Worker(
            registry,
            bus,
            metrics=metrics,
            registry_url=settings.public_url,
            options=options,
            # a version registered here is relayed now, not at the relay's next poll
            on_registered=None if relay is None else relay.wake,
        )
        parts.runnables.append((f"worker-{index + 1}", worker))
    if relay is not None:
        parts.runnables.append(("relay", relay))
        parts.state["relay"] = relay


def _add_webhooks(
    parts: Parts, settings: ServerSettings, *, registry: Any, metrics: Metrics
) -> None:
    """The webhook service and dispatcher, when the webhooks package is installed."""
    try:
        from schemashift.webhooks import (
            DispatcherOptions,
            UrlPolicy,
            WebhookDispatcher,
            Webhooks,
            WebhookStore,
        )
    except ImportError:
        return
    store = WebhookStore.from_url(settings.db_url)
    store.create_tables()
    parts.closers.append(store)
    # SCHEMASHIFT_WEBHOOK_ALLOW(_LOOPBACK): the operator's target allow-list, checked both
    # when a subscription is made and before every delivery
    policy = UrlPolicy.from_env()
    dispatcher = WebhookDispatcher(
        store,
        registry,
        metrics=metrics,
        url_policy=policy,
        # events then carry "dataschema": the registry URL of the version they announce
        options=DispatcherOptions(registry_url=settings.public_url),
    )
    parts.state["webhooks"] = Webhooks(store, url_policy=policy, on_change=dispatcher.wake)
    parts.state["webhook_dispatcher"] = dispatcher
    if settings.relay:
        parts.runnables.append(("webhooks", dispatcher))


def optional_routers(settings: ServerSettings, parts: Parts) -> Sequence[APIRouter]:
    """The routers this process serves, in matching order (UI last: it owns ``/``)."""
    names = ["schemashift.api.ingest", "schemashift.api.monitoring", "schemashift.api.webhooks"]
    if settings.ui:
        names.append("schemashift.api.ui")
    routers = [r for r in (_router(name) for name in names) if r is not None]
    return [*parts.routers, *routers]
