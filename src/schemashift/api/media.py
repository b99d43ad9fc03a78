"""Request bodies and responses of the registry API.

Bodies are read as bytes and decoded with :mod:`schemashift.core.jsonparse` (strict: no NaN,
no duplicate keys, bounded size and depth), whatever the request's content type claims —
Confluent clients send ``application/vnd.schemaregistry.v1+json``, curl users send
``application/json`` or nothing. OpenAPI still documents each body (``body_doc``), so
schemathesis and client generators know the shapes.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response

from schemashift.core.jsonparse import ParseLimits, loads
from schemashift.errors import PayloadError

SCHEMA_REGISTRY_JSON = "application/vnd.schemaregistry.v1+json"
BODY_LIMITS = ParseLimits(max_bytes=8 * 1024 * 1024, max_depth=128, max_keys=200_000)


class RequestBodyError(Exception):
    """A body that is not strict JSON (400) or not the expected shape (422)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class RegistryJSONResponse(Response):
    """JSON rendered by orjson, served as Confluent's media type (clients accept it)."""

    media_type = SCHEMA_REGISTRY_JSON

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        return encode(content)


def encode(content: Any) -> bytes:
    try:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        # orjson refuses integers beyond 64 bits, which strict parsing lets through exactly
        return json.dumps(content, ensure_ascii=False, allow_nan=False).encode("utf-8")


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise RequestBodyError(400, "the request needs a JSON body")
    try:
        return loads(raw, BODY_LIMITS)
    except PayloadError as exc:
        raise RequestBodyError(400, f"invalid JSON body ({exc.code}): {exc.message}") from exc


async def object_body(request: Request) -> dict[str, Any]:
    value = await json_body(request)
    if not isinstance(value, dict):
        raise RequestBodyError(422, "the request body must be a JSON object")
    return value


def field(
    body: dict[str, Any], name: str, kind: type | tuple[type, ...], *, required: bool = False
) -> Any:
    """``body[name]`` if it has the JSON type ``kind``; 422 naming the field otherwise."""
    if name not in body or body[name] is None:
        if required:
            raise RequestBodyError(422, f"the field {name!r} is required")
        return None
    value = body[name]
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise RequestBodyError(422, f"the field {name!r} must be a number")
    if not isinstance(value, kind):
        names = {
            str: "a string",
            int: "an integer",
            list: "a list",
            dict: "an object",
            bool: "a boolean",
        }
        wanted = names.get(kind, "valid") if isinstance(kind, type) else "valid"
        raise RequestBodyError(422, f"the field {name!r} must be {wanted}")
    return value


def body_doc(schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    """``openapi_extra`` documenting a JSON body parsed by hand."""
    content = {media: {"schema": schema} for media in ("application/json", SCHEMA_REGISTRY_JSON)}
    return {"requestBody": {"required": required, "content": content}}
