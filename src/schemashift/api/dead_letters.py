"""``/v1/dead-letters``: what the pipeline could not conform — listed, shown and re-driven.

    GET  /v1/dead-letters           ?subject=&reason=&state=&quarantine_id=&cursor=&limit=
                                    → {"items": [...], "next_cursor": id | null}, newest first
    GET  /v1/dead-letters/counts    ?subject= → {"subject", "counts": {state: {reason: n}}}
    GET  /v1/dead-letters/{id}      one dead letter with its original payload
    POST /v1/dead-letters/replay    {"subject"?, "reason"?, "ids"?, "quarantine_id"?, "all"?,
                                     "limit"?} → {"replayed": n}

Reads go to ``app.state.registry``; a replay publishes through ``app.state.bus`` (503 when
the process has none) with :func:`schemashift.pipeline.redrive.replay`. Errors answer
``{"error_code", "message"}`` like every registry route. Access control (``--auth-config``):
see :mod:`schemashift.security.policy` — reads need ``read`` on the subject (lists are
filtered, a hidden id answers like a missing one), a replay ``write`` on the subject it names
or on ``*``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from schemashift.api.confluent import registry_of
from schemashift.api.errors import ERROR_RESPONSES, DocumentedJSONResponse
from schemashift.api.media import RequestBodyError, body_doc, object_body
from schemashift.errors import BusError, RegistryError
from schemashift.pipeline.redrive import replay
from schemashift.registry.dead_letters import (
    MAX_PAGE,
    MAX_QUARANTINE_ID,
    MAX_ROW_ID,
    DeadLetterState,
)
from schemashift.registry.refusals import DeadLetterNotFoundError

__all__ = ["router"]

MAX_REPLAY = 10_000  # rows one replay request re-drives at most
MAX_REPLAY_IDS = 1_000

router = APIRouter(
    prefix="/v1/dead-letters",
    default_response_class=DocumentedJSONResponse,
    tags=["dead letters"],
    responses=ERROR_RESPONSES,
)


class BusUnavailableError(RegistryError):
    """This process has no bus to publish to, or the bus failed (retry)."""

    http_status = 503
    error_code = 50302


class DeadLetterView(BaseModel):
    id: int
    subject: str | None
    reason: str
    message: str
    path: str | None
    details: list[dict[str, Any]]
    quarantine_id: int | None
    headers: dict[str, str]
    time: str
    state: str
    replayed_at: str | None
    raw_subject: str
    raw_seq: int
    data_base64: str
    data: Any = None


class DeadLetterPage(BaseModel):
    items: list[DeadLetterView]
    next_cursor: int | None


class DeadLetterCounts(BaseModel):
    subject: str | None
    counts: dict[str, dict[str, int]]


class ReplayAnswer(BaseModel):
    replayed: int


REPLAY_BODY = body_doc(
    {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        # null is the same as leaving a field out
        "properties": {
            "subject": {"type": ["string", "null"]},
            "reason": {"type": ["string", "null"]},
            "ids": {
                "type": ["array", "null"],
                "items": {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID},
                "minItems": 1,
                "maxItems": MAX_REPLAY_IDS,
            },
            "quarantine_id": {
                "type": ["integer", "null"],
                "minimum": 1,
                "maximum": MAX_QUARANTINE_ID,
            },
            "all": {
                "type": ["boolean", "null"],
                "description": "true: replay every dead letter (no other selector needed)",
            },
            "limit": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_REPLAY},
        },
    }
)


@router.get("", response_model=DeadLetterPage)
def list_dead_letters(
    request: Request,
    subject: str | None = None,
    reason: str | None = None,
    state: DeadLetterState = DeadLetterState.DEAD,
    quarantine_id: int | None = Query(None, ge=1, le=MAX_QUARANTINE_ID),
    cursor: int | None = Query(None, ge=1, le=MAX_ROW_ID),
    limit: int = Query(100, ge=1, le=MAX_PAGE),
) -> dict[str, Any]:
    """Dead letters newest first; pass ``next_cursor`` back as ``cursor`` for the next page."""
    items, next_cursor = registry_of(request).list_dead_letters(
        subject=subject,
        reason=reason,
        state=state.value,
        quarantine_id=quarantine_id,
        cursor=cursor,
        limit=limit,
    )
    return {"items": [item.to_dict() for item in items], "next_cursor": next_cursor}


@router.get("/counts", response_model=DeadLetterCounts)
def dead_letter_counts(request: Request, subject: str | None = None) -> dict[str, Any]:
    """How many dead letters, by state and reason, for a subject (or every subject)."""
    return {"subject": subject, "counts": registry_of(request).dead_letter_counts(subject)}


@router.post("/replay", response_model=ReplayAnswer, openapi_extra=REPLAY_BODY)
async def replay_dead_letters(request: Request) -> dict[str, int]:
    """Publish the selected dead letters to the raw stream again (then mark them replayed).

    Selectors narrow together; at least one is required, or ``"all": true`` for every dead
    letter. One request re-drives at most ``limit`` (10,000) of them.
    """
    selection = _selection(await object_body(request))
    bus = getattr(request.app.state, "bus", None)
    if bus is None:
        raise BusUnavailableError("this server has no bus to re-drive dead letters to")
    try:
        count = await replay(registry_of(request), bus, **selection)
    except BusError as exc:
        raise BusUnavailableError(f"the bus failed: {exc}") from exc
    return {"replayed": count}


@router.get("/{dead_letter_id}", response_model=DeadLetterView)
def get_dead_letter(request: Request, dead_letter_id: int) -> dict[str, Any]:
    """One dead letter: why, where, and the original message (bytes and decoded payload)."""
    if not 0 < dead_letter_id <= MAX_ROW_ID:
        raise DeadLetterNotFoundError(f"Dead letter {dead_letter_id} not found")
    return registry_of(request).get_dead_letter(dead_letter_id).to_dict()


def _selection(body: dict[str, Any]) -> dict[str, Any]:
    """The replay's keyword arguments from its body; 422 naming what is wrong."""
    known = {"subject", "reason", "ids", "quarantine_id", "all", "limit"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise RequestBodyError(422, f"unknown field(s) {unknown}; replay takes {sorted(known)}")
    selection: dict[str, Any] = {}
    for name in ("subject", "reason"):
        value = body.get(name)
        if value is not None:
            if not isinstance(value, str) or "\x00" in value:
                raise RequestBodyError(422, f"the field {name!r} must be a string without NUL")
            selection[name] = value
    if body.get("ids") is not None:
        selection["ids"] = _ids(body["ids"])
    if body.get("quarantine_id") is not None:
        selection["quarantine_id"] = _number(body, "quarantine_id", MAX_QUARANTINE_ID)
    everything = body.get("all")
    if everything is not None and not isinstance(everything, bool):
        raise RequestBodyError(422, "the field 'all' must be a boolean")
    if not selection and everything is not True:
        raise RequestBodyError(
            422,
            "name what to replay (subject, reason, ids, quarantine_id),"
            ' or send {"all": true} to replay every dead letter',
        )
    selection["limit"] = (
        MAX_REPLAY if body.get("limit") is None else _number(body, "limit", MAX_REPLAY)
    )
    return selection


def _number(body: dict[str, Any], name: str, highest: int) -> int:
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= highest:
        raise RequestBodyError(422, f"the field {name!r} must be an integer from 1 to {highest}")
    return value


def _ids(value: Any) -> list[int]:
    if not isinstance(value, list) or not 0 < len(value) <= MAX_REPLAY_IDS:
        raise RequestBodyError(422, f"'ids' must be a list of 1 to {MAX_REPLAY_IDS} ids")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or not 0 < item <= MAX_ROW_ID:
            raise RequestBodyError(422, "every id in 'ids' must be an integer from 1 to 2^63-1")
    return list(value)
