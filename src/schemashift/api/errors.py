"""Every error the registry API answers is ``{"error_code": int, "message": str}``.

Confluent clients read ``error_code`` (40401, 42201, …); the HTTP status follows Confluent's
(404, 409, 422, …). Database trouble that outlived the store's retries is a 503 with code
50001 — never a bare 500 — so clients and load balancers know to retry.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from schemashift.api.media import RegistryJSONResponse, RequestBodyError
from schemashift.errors import InvalidSchemaError, PayloadError, RegistryError, StoreError


class DocumentedJSONResponse(RegistryJSONResponse, JSONResponse):
    """The registry's JSON answer, as the registry routes' default class: FastAPI documents
    a route's return type as its response schema only for ``JSONResponse`` subclasses (else
    it writes ``{"type": "string"}``). Rendering and media type are RegistryJSONResponse's."""


class ErrorBody(BaseModel):
    """Every error answer: Confluent's ``error_code`` (40401, 42201, …) and a message."""

    error_code: int
    message: str


#: the error answers any registry route may give, declared on the routers so the OpenAPI
#: document lists them (FastAPI's own 422 ``HTTPValidationError`` is never what is sent)
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (400, "the body is not strict JSON, or a request value is malformed"),
        (404, "the subject, version, schema id or quarantine item does not exist"),
        (409, "the schema is incompatible, or the request conflicts with the subject's state"),
        (413, "the body is larger than the limit"),
        (422, "the schema, version id, configuration or body shape is invalid"),
        (503, "the backend data store is unavailable (retry)"),
    )
}


def error_response(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    return RegistryJSONResponse(
        {"error_code": code, "message": message}, status_code=status, headers=headers
    )


async def _registry_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RegistryError)
    return error_response(exc.http_status, exc.error_code, exc.message)


async def _invalid_schema(request: Request, exc: Exception) -> Response:
    message = str(exc)
    if not message.lower().startswith("invalid schema"):
        message = f"Invalid schema: {message}"
    return error_response(422, 42201, message)


async def _payload_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PayloadError)
    return error_response(400, 400, f"{exc.code}: {exc.message}")


async def _body_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestBodyError)
    return error_response(exc.status, exc.status, exc.message)


async def _store_error(request: Request, exc: Exception) -> Response:
    return error_response(503, 50001, f"Error in the backend data store: {exc}")


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()))
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return error_response(422, 422, "; ".join(parts) or "invalid request")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404 and exc.detail == "Not Found":
        message = f"HTTP 404 Not Found: {request.url.path}"
    else:
        message = str(exc.detail)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # RFC 9110: a 405 lists every method the resource supports; Starlette names only those
        # of the first route whose path matched, and one path has several routes here
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return error_response(exc.status_code, exc.status_code, message, headers)


def _allowed_methods(request: Request) -> list[str]:
    allowed: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        methods = getattr(route, "methods", None)
        if match is not Match.NONE and methods:
            allowed |= set(methods)
    return sorted(allowed)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RegistryError, _registry_error)
    app.add_exception_handler(InvalidSchemaError, _invalid_schema)
    app.add_exception_handler(PayloadError, _payload_error)
    app.add_exception_handler(RequestBodyError, _body_error)
    app.add_exception_handler(StoreError, _store_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
