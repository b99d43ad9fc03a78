"""The web UI: hand-written pages under ``/`` and ``/ui/…`` and the JSON they read.

Pages are static files (``api/static/``) that fetch ``/ui/api/…`` and draw their charts as
inline SVG; nothing is loaded from the network. The JSON endpoints are views over the
registry (``app.state.registry``) plus live rates from the process's counters
(``app.state.metrics``), shaped for the pages rather than for API clients — those use the
Confluent and native ``/v1`` routes.

Subject names may contain ``/`` (the default ``<source>/<type>``), so subject-scoped JSON
endpoints take the subject as the ``subject`` query parameter.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from schemashift.api.ui_data import (
    DEGRADED_DEAD_LETTER_SHARE,
    Rates,
    RateWindow,
    as_plain,
    drift_points,
    schema_lines,
    subject_status,
)
from schemashift.errors import RegistryError, SubjectNotFoundError
from schemashift.monitoring.metrics import Metrics

if TYPE_CHECKING:
    from schemashift.registry.records import SchemaVersion
    from schemashift.registry.service import Registry

__all__ = ["STATIC_DIR", "router"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
SPARKLINE_POINTS = 30

router = APIRouter(include_in_schema=False)


# ---------------------------------------------------------------- pages and assets


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC_DIR / name, media_type=_MEDIA_TYPES[".html"])


@router.get("/")
async def subjects_page(request: Request) -> Response:
    # Confluent clients probe GET / and expect {}; browsers ask for HTML and get the UI.
    if "text/html" not in request.headers.get("accept", ""):
        return JSONResponse({})
    return _page("index.html")


@router.get("/ui")
async def ui_root() -> Response:
    return RedirectResponse("/", status_code=307)


@router.get("/ui/subjects/{subject:path}")
async def subject_page(subject: str) -> Response:
    del subject  # the page reads it from its own address
    return _page("subject.html")


@router.get("/ui/webhooks")
async def webhooks_page() -> Response:
    return _page("webhooks.html")


@router.get("/ui/static/{name}")
async def static_asset(name: str) -> Response:
    # Only plain file names directly inside static/: no sub-paths, no traversal.
    path = (STATIC_DIR / name).resolve()
    media = _MEDIA_TYPES.get(path.suffix)
    if path.parent != STATIC_DIR or media is None or not path.is_file():
        raise HTTPException(status_code=404, detail="no such asset")
    return FileResponse(path, media_type=media, headers={"Cache-Control": "no-cache"})


# ---------------------------------------------------------------- JSON for the pages


def _registry(request: Request) -> Registry:
    registry: Registry | None = getattr(request.app.state, "registry", None)
    if registry is None:
        raise HTTPException(status_code=503, detail="no registry configured")
    return registry


def _rates(request: Request) -> RateWindow:
    """The app's rate window, sampled from the metrics counters on each read."""
    state = request.app.state
    window = getattr(state, "ui_rates", None)
    if window is None:
        window = RateWindow()
        state.ui_rates = window
    metrics = getattr(state, "metrics", None)
    if metrics is not None:
        window.record(time.monotonic(), counter_totals(metrics))
    return window


def _degraded_share(request: Request) -> float:
    """The dead-letter share above which a subject shows as degraded."""
    return float(getattr(request.app.state, "degraded_share", DEGRADED_DEAD_LETTER_SHARE))


def counter_totals(metrics: Metrics) -> dict[str, tuple[float, float]]:
    """Per subject: (events received, events dead-lettered), summed over reasons."""
    totals: dict[str, list[float]] = {}
    for index, counter in enumerate((metrics.events_in, metrics.events_dead_lettered)):
        for family in counter.collect():
            for sample in family.samples:
                if not sample.name.endswith("_total"):
                    continue
                subject = sample.labels.get("subject", "")
                totals.setdefault(subject, [0.0, 0.0])[index] += float(sample.value)
    return {subject: (pair[0], pair[1]) for subject, pair in totals.items()}


def _open_quarantine(registry: Registry, subject: str | None) -> list[dict[str, Any]]:
    return [as_plain(item) for item in registry.list_quarantine(subject, "open")]


def _versions(registry: Registry, subject: str) -> list[int]:
    """The live version numbers; none for a subject whose first drift awaits a decision."""
    try:
        return sorted(registry.list_versions(subject))
    except SubjectNotFoundError:
        return []


def _subject_summary(
    registry: Registry, subject: str, open_items: int, rates: Rates, degraded_share: float
) -> dict[str, Any]:
    versions = _versions(registry, subject)
    # only what the sparkline shows: the list is polled, so keep each row's reads small
    history = [as_plain(e) for e in registry.drift_history(subject, SPARKLINE_POINTS)]
    points = drift_points(history)
    status = subject_status(
        open_items,
        points,
        now=datetime.now(UTC),
        dead_letter_rate=rates.dead_letter_rate,
        degraded_share=degraded_share,
    )
    return {
        "subject": subject,
        "latest_version": max(versions) if versions else None,
        "versions": len(versions),
        "drift": [p["score"] for p in points[-SPARKLINE_POINTS:]],
        "last_score": points[-1]["score"] if points else 0.0,
        "open_quarantines": open_items,
        "status": status,
        "events_per_second": round(rates.events_per_second, 2),
        "dead_letter_rate": round(rates.dead_letter_rate, 4),
    }


def _overview(
    registry: Registry, rates: dict[str, Rates], degraded_share: float
) -> list[dict[str, Any]]:
    subjects = sorted(registry.list_subjects())
    open_by_subject: dict[str, int] = {}
    for item in registry.list_quarantine(None, "open"):
        open_by_subject[item.subject] = open_by_subject.get(item.subject, 0) + 1
    # a subject whose first drift is quarantined has no version yet, but is shown
    for name in open_by_subject:
        if name not in subjects:
            subjects.append(name)
    idle = Rates(0.0, 0.0)
    return [
        _subject_summary(registry, s, open_by_subject.get(s, 0), rates.get(s, idle), degraded_share)
        for s in sorted(subjects)
    ]


@router.get("/ui/api/subjects")
async def subjects_json(request: Request) -> dict[str, Any]:
    registry = _registry(request)
    # rates are read here, on the event loop that records them, then handed to the thread
    rates = _rates(request).all_rates()
    rows = await asyncio.to_thread(_overview, registry, rates, _degraded_share(request))
    return {
        "subjects": rows,
        "totals": {
            "subjects": len(rows),
            "versions": sum(r["versions"] for r in rows),
            "open_quarantines": sum(r["open_quarantines"] for r in rows),
            "events_per_second": round(sum(r["events_per_second"] for r in rows), 2),
        },
    }


@router.get("/ui/api/activity")
async def activity_json(request: Request) -> dict[str, Any]:
    """The latest schema events (newest first), as the server's monitor saw them."""
    recent = getattr(request.app.state, "activity", None) or ()
    return {"events": list(reversed(list(recent)))}


def _version_view(version: SchemaVersion) -> dict[str, Any]:
    schema = version.schema
    return {
        "version": version.version,
        "schema_id": version.schema_id,
        "created_at": as_plain(version.created_at),
        "deleted": version.deleted,
        "schema": schema,
        "lines": [line.to_dict() for line in schema_lines(schema)],
    }


def _subject_detail(
    registry: Registry, subject: str, rates: Rates, degraded_share: float
) -> dict[str, Any]:
    numbers = _versions(registry, subject)
    versions = [_version_view(registry.get_version(subject, n)) for n in numbers]
    history = [as_plain(e) for e in registry.drift_history(subject)]
    quarantine = _open_quarantine(registry, subject)
    # a subject none of whose events could be conformed yet still has a page: its dead letters
    dead_letters = registry.dead_letter_counts(subject)
    recorded = any(dead_letters.values())
    if not versions and not history and not quarantine and not recorded:
        raise HTTPException(status_code=404, detail=f"subject {subject!r} not found")
    points = drift_points(history)
    consumers = [as_plain(c) for c in registry.list_consumers(subject)]
    for item in quarantine:
        item["lines"] = [line.to_dict() for line in schema_lines(item.get("schema") or {})]
    return {
        "subject": subject,
        "latest_version": numbers[-1] if numbers else None,
        "versions": versions,
        "drift": points,
        "history": history[-50:],
        "consumers": consumers,
        "policy": registry.effective_config(subject).to_dict(),
        "quarantine": quarantine,
        "status": subject_status(
            len(quarantine),
            points,
            now=datetime.now(UTC),
            dead_letter_rate=rates.dead_letter_rate,
            degraded_share=degraded_share,
        ),
        "events_per_second": round(rates.events_per_second, 2),
        "dead_letter_rate": round(rates.dead_letter_rate, 4),
    }


@router.get("/ui/api/subject")
async def subject_json(request: Request, subject: str = Query(..., min_length=1)) -> dict[str, Any]:
    registry = _registry(request)
    rates = _rates(request).rates(subject)
    return await asyncio.to_thread(
        _subject_detail, registry, subject, rates, _degraded_share(request)
    )


def _diff(registry: Registry, subject: str, old: int, new: int) -> dict[str, Any]:
    before = registry.get_version(subject, old, deleted=True)
    after = registry.get_version(subject, new, deleted=True)
    plain = as_plain(registry.diff_versions(subject, old, new))
    return {
        "subject": subject,
        "from": old,
        "to": new,
        "score": plain.get("score", 0.0),
        "changes": plain.get("changes", []),
        "rename_hints": plain.get("rename_hints", []),
        "old": [line.to_dict() for line in schema_lines(before.schema)],
        "new": [line.to_dict() for line in schema_lines(after.schema)],
    }


@router.get("/ui/api/diff")
async def diff_json(
    request: Request,
    subject: str = Query(..., min_length=1),
    old: int = Query(..., alias="from", ge=1),
    new: int = Query(..., alias="to", ge=1),
) -> dict[str, Any]:
    registry = _registry(request)
    try:
        return await asyncio.to_thread(_diff, registry, subject, old, new)
    except RegistryError as exc:
        raise HTTPException(status_code=exc.http_status, detail=exc.message) from exc


@router.post("/ui/api/quarantine/{quarantine_id}/{action}")
async def decide_quarantine(request: Request, quarantine_id: int, action: str) -> dict[str, Any]:
    """Accept (register the quarantined schema as a new version) or reject a drift."""
    registry = _registry(request)
    if action not in ("accept", "reject"):
        raise HTTPException(status_code=404, detail="action must be accept or reject")
    method = registry.accept_quarantine if action == "accept" else registry.reject_quarantine
    try:
        result = await asyncio.to_thread(method, quarantine_id)
    except RegistryError as exc:
        raise HTTPException(status_code=exc.http_status, detail=exc.message) from exc
    plain = as_plain(result)
    return {"action": action, "quarantine_id": quarantine_id, "result": plain}
