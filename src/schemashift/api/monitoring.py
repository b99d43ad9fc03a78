"""Operational endpoints: Prometheus ``/metrics``, liveness ``/healthz``, readiness ``/readyz``.

- ``/healthz`` answers 200 while the process serves HTTP; it checks nothing else, so an
  orchestrator restarts only a process that is truly stuck.
- ``/readyz`` answers 200 only when the store and the bus are reachable, else 503 with the
  failing check, so a load balancer stops routing to an instance that cannot do its job.
- ``/metrics`` renders ``app.state.metrics``. Gauges that describe shared state (open
  quarantines) are refreshed from the store at scrape time, so every instance of a
  distributed set-up reports the same truth rather than what it alone happened to see.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from schemashift.monitoring.metrics import CONTENT_TYPE_LATEST, Metrics

if TYPE_CHECKING:
    from schemashift.registry.service import Registry

__all__ = ["check_bus", "check_store", "router"]

READY_TIMEOUT = 2.0  # seconds a readiness check may take before it counts as failed

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def check_store(registry: Any) -> str:
    """``"ok"`` if the registry's store answers a read, else why not."""
    try:
        registry.list_subjects()
    except Exception as exc:  # any failure of the store means "not ready"; say which
        return f"error: {type(exc).__name__}: {exc}"
    return "ok"


def check_bus(bus: Any) -> str:
    """``"ok"`` if the bus is connected (``unreachable_for() == 0``), else for how long not."""
    try:
        down_for = float(bus.unreachable_for())
    except Exception as exc:  # a bus that cannot even report its state is not ready
        return f"error: {type(exc).__name__}: {exc}"
    return "ok" if down_for == 0.0 else f"error: unreachable for {down_for:.1f}s"


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    state = request.app.state
    checks: dict[str, str] = {}
    registry = getattr(state, "registry", None)
    if registry is None:
        checks["store"] = "error: no registry configured"
    else:
        try:
            checks["store"] = await asyncio.wait_for(
                asyncio.to_thread(check_store, registry), READY_TIMEOUT
            )
        except TimeoutError:
            checks["store"] = f"error: no answer within {READY_TIMEOUT}s"
    bus = getattr(state, "bus", None)
    # an API-only instance may run without a bus; then there is nothing to check
    checks["bus"] = "ok" if bus is None else check_bus(bus)
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


def refresh_shared_gauges(metrics: Metrics, registry: Registry) -> None:
    """Set gauges whose truth lives in the store (open quarantines)."""
    metrics.quarantines_open.set(len(registry.list_quarantine(None, "open")))


@router.get("/metrics")
async def metrics_endpoint(request: Request) -> Response:
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is None:
        return Response("# no metrics configured\n", media_type=CONTENT_TYPE_LATEST)
    registry = getattr(request.app.state, "registry", None)
    if registry is not None:
        # a scrape must still answer when the store is down (/readyz reports that)
        with contextlib.suppress(Exception):
            await asyncio.to_thread(refresh_shared_gauges, metrics, registry)
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
