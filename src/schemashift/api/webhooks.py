"""``/v1/webhooks``: subscriptions, deliveries, dead letters and re-sends.

Reads the :class:`~schemashift.webhooks.Webhooks` service from ``app.state.webhooks``.
Errors answer ``{"error_code": …, "message": …}`` like the registry routes.

    POST   /v1/webhooks                               create (answers the secret, once)
    GET    /v1/webhooks                               list, with pending/dead counts
    GET    /v1/webhooks/{id}                          one subscription
    PATCH  /v1/webhooks/{id}                          change url, subjects, kinds, secret, …
    DELETE /v1/webhooks/{id}                          delete it with its deliveries
    GET    /v1/webhooks/deliveries                    ?subscription=&status=&limit=&before=
    GET    /v1/webhooks/deliveries/{id}               one delivery, its attempts and its event
    POST   /v1/webhooks/deliveries/{id}/resend        queue it again
    GET    /v1/webhooks/dead-letters                  ?subscription=&limit=&before=
    POST   /v1/webhooks/dead-letters/resend           ?subscription= — queue them all again
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from schemashift.webhooks.errors import (
    DeliveryNotFoundError,
    SubscriptionNotFoundError,
    TargetUrlError,
    WebhookError,
)
from schemashift.webhooks.model import DeliveryStatus
from schemashift.webhooks.service import ALL_KINDS, Webhooks

__all__ = ["router"]

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

T = TypeVar("T")

# Confluent-style numbering: HTTP status followed by a detail number.
ERROR_CODES: dict[type[WebhookError], int] = {
    SubscriptionNotFoundError: 40410,
    DeliveryNotFoundError: 40411,
    TargetUrlError: 42211,
}
MAX_PAGE = 1000


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    subjects: list[str] = Field(default_factory=lambda: ["*"])
    kinds: list[str] = Field(default_factory=lambda: list(ALL_KINDS))
    secret: str | None = None
    enabled: bool = True
    description: str = ""


class SubscriptionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = None
    subjects: list[str] | None = None
    kinds: list[str] | None = None
    secret: str | None = None
    enabled: bool | None = None
    description: str | None = None


class WebhooksUnavailable(WebhookError):
    http_status = 503


def _service(request: Request) -> Webhooks:
    service = getattr(request.app.state, "webhooks", None)
    if not isinstance(service, Webhooks):
        raise WebhooksUnavailable("webhooks are not configured on this server")
    return service


def _error(exc: WebhookError) -> JSONResponse:
    code = next(
        (c for cls, c in ERROR_CODES.items() if isinstance(exc, cls)), exc.http_status * 100
    )
    return JSONResponse({"error_code": code, "message": exc.message}, status_code=exc.http_status)


def _answer(call: Callable[[], T], render: Callable[[T], Any], status_code: int = 200) -> Response:
    try:
        value = call()
    except WebhookError as exc:
        return _error(exc)
    return JSONResponse(render(value), status_code=status_code)


def _status(status: str | None) -> DeliveryStatus | None:
    if status is None:
        return None
    try:
        return DeliveryStatus(status)
    except ValueError:
        known = ", ".join(s.value for s in DeliveryStatus)
        raise _BadQuery(f"unknown status {status!r} (known: {known})") from None


class _BadQuery(WebhookError):
    http_status = 422


def _subscription_view(service: Webhooks, subscription_id: int) -> dict[str, Any]:
    subscription = service.get(subscription_id)
    return _with_counts(service.store.counts(), subscription.to_dict())


def _with_counts(counts: dict[int, dict[str, int]], view: dict[str, Any]) -> dict[str, Any]:
    mine = counts.get(view["id"], {})
    view["pending"] = mine.get(DeliveryStatus.PENDING.value, 0)
    view["dead"] = mine.get(DeliveryStatus.DEAD.value, 0)
    return view


@router.post("", status_code=201)
def create_subscription(body: SubscriptionIn, request: Request) -> Response:
    def call() -> dict[str, Any]:
        service = _service(request)
        created = service.create(
            body.url,
            subjects=body.subjects,
            kinds=body.kinds,
            secret=body.secret,
            enabled=body.enabled,
            description=body.description,
        )
        return created.to_dict(include_secret=True)

    return _answer(call, lambda view: view, status_code=201)


@router.get("")
def list_subscriptions(request: Request) -> Response:
    def call() -> list[dict[str, Any]]:
        service = _service(request)
        counts = service.store.counts()
        return [_with_counts(counts, s.to_dict()) for s in service.list_subscriptions()]

    return _answer(call, lambda views: views)


@router.get("/deliveries")
def list_deliveries(
    request: Request,
    subscription: int | None = None,
    status: str | None = None,
    limit: int = Query(100, ge=1, le=MAX_PAGE),
    before: int | None = None,
) -> Response:
    def call() -> list[dict[str, Any]]:
        found = _service(request).deliveries(
            subscription_id=subscription, status=_status(status), limit=limit, before_id=before
        )
        return [d.to_dict() for d in found]

    return _answer(call, lambda views: views)


@router.get("/deliveries/{delivery_id}")
def get_delivery(delivery_id: int, request: Request) -> Response:
    def call() -> dict[str, Any]:
        delivery, attempts = _service(request).delivery(delivery_id)
        view = delivery.to_dict()
        view["attempts_log"] = [a.to_dict() for a in attempts]
        view["event"] = orjson.loads(delivery.body)
        return view

    return _answer(call, lambda view: view)


@router.post("/deliveries/{delivery_id}/resend", status_code=202)
def resend_delivery(delivery_id: int, request: Request) -> Response:
    return _answer(
        lambda: _service(request).resend(delivery_id), lambda d: d.to_dict(), status_code=202
    )


@router.get("/dead-letters")
def list_dead_letters(
    request: Request,
    subscription: int | None = None,
    limit: int = Query(100, ge=1, le=MAX_PAGE),
    before: int | None = None,
) -> Response:
    def call() -> list[dict[str, Any]]:
        found = _service(request).deliveries(
            subscription_id=subscription,
            status=DeliveryStatus.DEAD,
            limit=limit,
            before_id=before,
        )
        return [d.to_dict() for d in found]

    return _answer(call, lambda views: views)


@router.post("/dead-letters/resend", status_code=202)
def resend_dead_letters(request: Request, subscription: int | None = None) -> Response:
    return _answer(
        lambda: _service(request).resend_dead(subscription),
        lambda count: {"requeued": count},
        status_code=202,
    )


@router.get("/{subscription_id}")
def get_subscription(subscription_id: int, request: Request) -> Response:
    return _answer(lambda: _subscription_view(_service(request), subscription_id), lambda v: v)


@router.patch("/{subscription_id}")
def update_subscription(
    subscription_id: int, body: SubscriptionPatch, request: Request
) -> Response:
    def call() -> dict[str, Any]:
        service = _service(request)
        updated = service.update(subscription_id, **body.model_dump(exclude_unset=True))
        # A new secret is shown once, in the answer to the request that set it.
        view = updated.to_dict(include_secret=body.secret is not None)
        return _with_counts(service.store.counts(), view)

    return _answer(call, lambda view: view)


@router.delete("/{subscription_id}", status_code=204)
def delete_subscription(subscription_id: int, request: Request) -> Response:
    try:
        _service(request).delete(subscription_id)
    except WebhookError as exc:
        return _error(exc)
    return Response(status_code=204)
