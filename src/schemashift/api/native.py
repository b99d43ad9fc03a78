"""Native registry routes under ``/v1``: observe, diff, quarantine, policy, drift, consumers.

These expose what Confluent's API has no words for. Subjects may contain ``/`` and come
first in the path, so each route ends in a fixed word (``/observe``, ``/diff``, …).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Query, Request

from schemashift.api.confluent import registry_of
from schemashift.api.errors import ERROR_RESPONSES, DocumentedJSONResponse
from schemashift.api.media import (
    RequestBodyError,
    body_doc,
    field,
    json_body,
    object_body,
)
from schemashift.registry.config import ConfigPatch
from schemashift.registry.decisions import sunset_deadline
from schemashift.registry.records import QuarantineStatus

router = APIRouter(
    prefix="/v1",
    default_response_class=DocumentedJSONResponse,
    tags=["native"],
    responses=ERROR_RESPONSES,
)

SUBJECT = "{subject:path}"
MAX_OBSERVE_BATCH = 10_000

OBSERVE_BODY = body_doc(
    {
        "oneOf": [
            {"type": "array", "items": {"type": "object"}, "maxItems": MAX_OBSERVE_BATCH},
            {
                "type": "object",
                "required": ["payloads"],
                "properties": {
                    "payloads": {
                        "type": "array",
                        "items": {"type": "object"},
                        "maxItems": MAX_OBSERVE_BATCH,
                    },
                    # the subject's events the caller processed, the payloads being the last
                    "counted": {"type": "integer", "minimum": 0},
                    # the caller's hold deadline passed: a first version from what is held
                    "deadline": {"type": "boolean"},
                },
            },
        ]
    }
)
CONFIG_BODY = body_doc(
    {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            # null: not set here, inherited from the global defaults
            "compatibility": {"type": ["string", "null"]},
            "drift_threshold": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
            "min_samples": {"type": ["integer", "null"], "minimum": 1},
            "auto_register": {"type": ["boolean", "null"]},
            # share of the last support_window events that must show subtractive drift
            "min_support": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
            "support_window": {"type": ["integer", "null"], "minimum": 1},
            # null (or -1): a superseded version stays servable forever
            "sunset_seconds": {"type": ["integer", "null"], "minimum": -1},
        },
    }
)
CONSUMER_BODY = body_doc(
    {
        "type": "object",
        "required": ["fields"],
        "properties": {"fields": {"type": "array", "items": {"type": "string"}}},
    }
)


@router.post(f"/subjects/{SUBJECT}/observe", openapi_extra=OBSERVE_BODY)
async def observe(request: Request, subject: str) -> dict[str, Any]:
    """Judge events of the subject in order: one verdict each, and the decision they led to
    (docs/pipeline.md, "The fate of an event")."""
    body = await json_body(request)
    payloads = body.get("payloads") if isinstance(body, dict) else body
    if not isinstance(payloads, list) or not all(isinstance(p, dict) for p in payloads):
        raise RequestBodyError(
            422, 'observe takes a JSON array of event objects, or {"payloads": [...]}'
        )
    if len(payloads) > MAX_OBSERVE_BATCH:
        raise RequestBodyError(422, f"at most {MAX_OBSERVE_BATCH} payloads per request")
    options = body if isinstance(body, dict) else {}
    counted, deadline = options.get("counted"), options.get("deadline", False)
    if "counted" in options and (
        isinstance(counted, bool) or not isinstance(counted, int) or not 0 <= counted < 2**62
    ):
        raise RequestBodyError(422, "counted is a number of events (an integer >= 0)")
    if not isinstance(deadline, bool):
        raise RequestBodyError(422, "deadline is true or false")
    result = await asyncio.to_thread(
        lambda: registry_of(request).observe(subject, payloads, counted=counted, deadline=deadline)
    )
    return result.to_dict()


@router.get(f"/subjects/{SUBJECT}/diff")
def diff_versions(
    request: Request,
    subject: str,
    from_version: str = Query(alias="from"),
    to_version: str = Query("latest", alias="to"),
) -> dict[str, Any]:
    """The changes and drift score between two versions of a subject."""
    report = registry_of(request).diff_versions(subject, from_version, to_version)
    result: dict[str, Any] = report.to_dict()
    return result


@router.get(f"/subjects/{SUBJECT}/drift")
def drift_history(
    request: Request, subject: str, limit: int = Query(200, ge=1, le=10_000)
) -> list[dict[str, Any]]:
    return [e.to_dict() for e in registry_of(request).drift_history(subject, limit)]


@router.get(f"/subjects/{SUBJECT}/versions/{{version}}")
def servable_version(request: Request, subject: str, version: str) -> dict[str, Any]:
    """A version to transform to: 410 once superseded for longer than its sunset period."""
    registry = registry_of(request)
    found = registry.get_servable_version(subject, version)
    config = registry.effective_config(subject)
    deadline = sunset_deadline(found.superseded_at, config.sunset_seconds)
    body = found.to_dict()
    body["schema"] = found.schema
    body["created_at"] = None if found.created_at is None else found.created_at.isoformat()
    body["superseded_at"] = None if found.superseded_at is None else found.superseded_at.isoformat()
    body["sunset_at"] = None if deadline is None else deadline.isoformat()
    return body


@router.get(f"/subjects/{SUBJECT}/consumers")
def list_consumers(request: Request, subject: str) -> list[dict[str, Any]]:
    return [c.to_dict() for c in registry_of(request).list_consumers(subject)]


@router.put(f"/subjects/{SUBJECT}/consumers/{{consumer}}", openapi_extra=CONSUMER_BODY)
async def declare_consumer(request: Request, subject: str, consumer: str) -> dict[str, Any]:
    """Declare which fields (JSON Pointers) a consumer reads; drift breaking them is held."""
    body = await object_body(request)
    fields = field(body, "fields", list, required=True)
    contract = await asyncio.to_thread(
        registry_of(request).declare_consumer, subject, consumer, fields
    )
    return contract.to_dict()


@router.delete(f"/subjects/{SUBJECT}/consumers/{{consumer}}")
def remove_consumer(request: Request, subject: str, consumer: str) -> dict[str, Any]:
    return {"removed": registry_of(request).remove_consumer(subject, consumer)}


@router.get("/quarantine")
def list_quarantine(
    request: Request, subject: str | None = None, status: QuarantineStatus | None = None
) -> list[dict[str, Any]]:
    return [q.to_dict() for q in registry_of(request).list_quarantine(subject, status)]


@router.get("/quarantine/{quarantine_id}")
def get_quarantine(request: Request, quarantine_id: int) -> dict[str, Any]:
    return registry_of(request).get_quarantine(quarantine_id).to_dict()


@router.post("/quarantine/{quarantine_id}/accept")
def accept_quarantine(request: Request, quarantine_id: int) -> dict[str, Any]:
    """Register the quarantined schema as the subject's next version."""
    return registry_of(request).accept_quarantine(quarantine_id).to_dict()


@router.post("/quarantine/{quarantine_id}/reject")
def reject_quarantine(request: Request, quarantine_id: int) -> dict[str, Any]:
    """Refuse the drift; the subject's running profile forgets it."""
    return registry_of(request).reject_quarantine(quarantine_id).to_dict()


def _config_answer(request: Request, subject: str | None) -> dict[str, Any]:
    registry = registry_of(request)
    return {
        "subject": subject,
        "config": registry.effective_config(subject).to_dict(),
        "stored": registry.config_patch(subject).to_dict(),
    }


@router.get("/config")
def get_global_config(request: Request) -> dict[str, Any]:
    return _config_answer(request, None)


@router.get(f"/config/{SUBJECT}")
def get_subject_config(request: Request, subject: str) -> dict[str, Any]:
    """The effective policy of a subject and what it sets itself (the rest is inherited)."""
    return _config_answer(request, subject)


async def _put_config(request: Request, subject: str | None) -> dict[str, Any]:
    patch = ConfigPatch.from_dict(await object_body(request))
    await asyncio.to_thread(registry_of(request).set_config, subject, patch)
    return await asyncio.to_thread(_config_answer, request, subject)


@router.put("/config", openapi_extra=CONFIG_BODY)
async def put_global_config(request: Request) -> dict[str, Any]:
    return await _put_config(request, None)


@router.put(f"/config/{SUBJECT}", openapi_extra=CONFIG_BODY)
async def put_subject_config(request: Request, subject: str) -> dict[str, Any]:
    return await _put_config(request, subject)


@router.get("/outbox")
def read_outbox(
    request: Request, after: int = Query(0, ge=0), limit: int = Query(100, ge=1, le=1000)
) -> list[dict[str, Any]]:
    """Outbox records after a cursor, in commit order (what the relay and webhooks read)."""
    return [r.to_dict() for r in registry_of(request).read_outbox(after, limit)]
