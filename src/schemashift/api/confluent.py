"""Confluent Schema Registry compatible routes (JSON Schema only).

Enough of Confluent's REST API that ``confluent_kafka.schema_registry`` (the client, the
JSON serializer and deserializer) works unchanged. Subjects may contain ``/``; clients send
it percent-encoded, the server decodes it, so subject parameters use the ``path``
converter and the more specific routes come first. Boolean query parameters accept
``true``/``True``/``false``/``False`` (the Python client sends ``str(bool)``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from schemashift.api.errors import ERROR_RESPONSES, DocumentedJSONResponse
from schemashift.api.media import (
    SCHEMA_REGISTRY_JSON,
    RegistryJSONResponse,
    RequestBodyError,
    body_doc,
    encode,
    field,
    object_body,
)
from schemashift.errors import InvalidSchemaError
from schemashift.registry.config import ConfigPatch, parse_compatibility, parse_mode
from schemashift.registry.records import SchemaVersion
from schemashift.registry.refusals import InvalidRequestError
from schemashift.registry.service import Registry

router = APIRouter(
    default_response_class=DocumentedJSONResponse, tags=["confluent"], responses=ERROR_RESPONSES
)

SUBJECT = "{subject:path}"
SCHEMA_BODY = body_doc(
    {
        "type": "object",
        "required": ["schema"],
        "properties": {
            "schema": {"type": "string", "description": "the JSON Schema, as JSON text"},
            "schemaType": {"type": "string", "enum": ["JSON"]},
            "references": {"type": "array", "maxItems": 0},
            "id": {"type": "integer", "minimum": 1},
            "version": {"type": "integer", "minimum": 1},
        },
    }
)
# null (or no level at all) leaves the configuration as it is and answers the level in force
COMPAT_BODY = body_doc(
    {
        "type": "object",
        "properties": {
            "compatibility": {"type": ["string", "null"]},
            "compatibilityLevel": {"type": ["string", "null"]},
        },
    }
)


def _answer(schema: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that returns a ``Response`` (FastAPI cannot see its shape)."""
    return {200: {"content": {SCHEMA_REGISTRY_JSON: {"schema": schema}}}}


SCHEMA_BY_ID = _answer(
    {
        "type": "object",
        "required": ["schema"],
        "properties": {"schema": {"type": "string"}, "schemaType": {"type": "string"}},
    }
)
RAW_SCHEMA = _answer({"type": ["object", "boolean"], "description": "the JSON Schema itself"})
MODE_BODY = body_doc(
    {"type": "object", "required": ["mode"], "properties": {"mode": {"type": "string"}}}
)


def registry_of(request: Request) -> Registry:
    """The app's registry, once the request's names are known to be storable.

    PostgreSQL cannot hold a NUL character in text, so a name containing one can never exist;
    refusing it here keeps such lookups a client error instead of a database failure.
    """
    for value in (*request.path_params.values(), *request.query_params.values()):
        if isinstance(value, str) and "\x00" in value:
            raise InvalidRequestError("names must not contain NUL characters")
    registry: Registry = request.app.state.registry
    return registry


def _page(items: Sequence[Any], offset: int, limit: int) -> list[Any]:
    start = max(offset, 0)
    return list(items[start:] if limit < 0 else items[start : start + limit])


async def _schema_request(request: Request) -> dict[str, Any]:
    body = await object_body(request)
    text = field(body, "schema", str, required=True)
    kind = field(body, "schemaType", str)
    if kind is not None and kind.upper() != "JSON":
        raise InvalidSchemaError(
            f"Invalid schema: schema type {kind!r} is not supported (JSON only)"
        )
    refs = field(body, "references", list)
    if refs:
        raise InvalidSchemaError(
            "Invalid schema: schema references are not supported; inline the referenced"
            " definitions under $defs"
        )
    return {
        "schema": text,
        "id": field(body, "id", int),
        "version": field(body, "version", int),
    }


def _version_body(version: SchemaVersion) -> dict[str, Any]:
    return version.to_dict()


# -- schemas by id ----------------------------------------------------------------------------


@router.get("/schemas/ids/{schema_id}", responses=SCHEMA_BY_ID)
async def get_schema_by_id(
    request: Request, schema_id: int, subject: str | None = None, format: str | None = None
) -> Response:
    """The schema under a global id (what deserializers fetch; answered from memory)."""
    del subject, format
    # encoded answers per app: a global id never changes its schema, so this never goes stale
    bodies: dict[int, bytes] = request.app.state.schema_bodies
    cached = bodies.get(schema_id)
    if cached is None:
        registry = registry_of(request)
        stored = registry.cached_schema(schema_id)
        if stored is None:
            stored = await asyncio.to_thread(registry.get_schema_by_id, schema_id)
        cached = encode({"schema": stored.schema_text, "schemaType": "JSON"})
        if len(bodies) < 50_000:
            bodies[schema_id] = cached
    return RegistryJSONResponse(cached)


@router.get("/schemas/ids/{schema_id}/schema", responses=RAW_SCHEMA)
def get_raw_schema_by_id(request: Request, schema_id: int) -> Response:
    return RegistryJSONResponse(
        registry_of(request).get_schema_by_id(schema_id).schema_text.encode()
    )


@router.get("/schemas/ids/{schema_id}/subjects")
def subjects_of_schema(
    request: Request,
    schema_id: int,
    deleted: bool = False,
    offset: int = 0,
    limit: int = -1,
    subject: str | None = None,
) -> list[str]:
    names = registry_of(request).subjects_of_schema(schema_id, deleted=deleted)
    return _page([n for n in names if subject is None or n == subject], offset, limit)


@router.get("/schemas/ids/{schema_id}/versions")
def versions_of_schema(
    request: Request,
    schema_id: int,
    deleted: bool = False,
    offset: int = 0,
    limit: int = -1,
    subject: str | None = None,
) -> list[dict[str, Any]]:
    pairs = registry_of(request).versions_of_schema(schema_id, deleted=deleted)
    items = [{"subject": s, "version": v} for s, v in pairs if subject is None or s == subject]
    return _page(items, offset, limit)


@router.get("/schemas/types")
def schema_types() -> list[str]:
    return ["JSON"]


@router.get("/contexts")
def contexts() -> list[str]:
    return ["."]


# -- subjects and versions (most specific routes first) ---------------------------------------


@router.get("/subjects")
def list_subjects(
    request: Request,
    deleted: bool = False,
    subjectPrefix: str | None = None,
    offset: int = 0,
    limit: int = -1,
) -> list[str]:
    prefix = None if subjectPrefix in (None, ":*:") else subjectPrefix
    return _page(registry_of(request).list_subjects(deleted=deleted, prefix=prefix), offset, limit)


@router.get(f"/subjects/{SUBJECT}/versions/{{version}}/referencedby")
def referenced_by(request: Request, subject: str, version: str) -> list[int]:
    return registry_of(request).referenced_by(subject, version)


@router.get(f"/subjects/{SUBJECT}/versions/{{version}}/schema", responses=RAW_SCHEMA)
def get_raw_version(
    request: Request, subject: str, version: str, deleted: bool = False
) -> Response:
    found = registry_of(request).get_version(subject, version, deleted=deleted)
    return RegistryJSONResponse(found.schema_text.encode())


@router.get(f"/subjects/{SUBJECT}/versions/{{version}}")
def get_version(
    request: Request, subject: str, version: str, deleted: bool = False
) -> dict[str, Any]:
    return _version_body(registry_of(request).get_version(subject, version, deleted=deleted))


@router.delete(f"/subjects/{SUBJECT}/versions/{{version}}")
def delete_version(request: Request, subject: str, version: str, permanent: bool = False) -> int:
    return registry_of(request).delete_version(subject, version, permanent=permanent)


@router.get(f"/subjects/{SUBJECT}/versions")
def list_versions(
    request: Request, subject: str, deleted: bool = False, offset: int = 0, limit: int = -1
) -> list[int]:
    return _page(registry_of(request).list_versions(subject, deleted=deleted), offset, limit)


@router.post(f"/subjects/{SUBJECT}/versions", openapi_extra=SCHEMA_BODY)
async def register(request: Request, subject: str, normalize: bool = False) -> dict[str, Any]:
    """Register a schema (returns the existing id when it is already live in the subject)."""
    del normalize  # schemas are always stored in canonical form
    spec = await _schema_request(request)
    found = await asyncio.to_thread(
        registry_of(request).register,
        subject,
        spec["schema"],
        schema_id=spec["id"],
        version=spec["version"],
    )
    return {"id": found.schema_id}


@router.post(f"/subjects/{SUBJECT}", openapi_extra=SCHEMA_BODY)
async def lookup(
    request: Request, subject: str, deleted: bool = False, normalize: bool = False
) -> dict[str, Any]:
    """Which version of the subject holds this schema."""
    del normalize
    spec = await _schema_request(request)
    found = await asyncio.to_thread(
        registry_of(request).lookup, subject, spec["schema"], deleted=deleted
    )
    return _version_body(found)


@router.delete(f"/subjects/{SUBJECT}")
def delete_subject(request: Request, subject: str, permanent: bool = False) -> list[int]:
    return registry_of(request).delete_subject(subject, permanent=permanent)


# -- compatibility ----------------------------------------------------------------------------


async def _compatibility(
    request: Request, subject: str, version: str | None, verbose: bool
) -> dict[str, Any]:
    spec = await _schema_request(request)
    result = await asyncio.to_thread(
        registry_of(request).check_compatibility, subject, spec["schema"], version
    )
    answer: dict[str, Any] = {"is_compatible": bool(result.compatible)}
    if verbose:
        answer["messages"] = [f"{f.path or '/'}: {f.message} ({f.code})" for f in result.findings]
    return answer


@router.post(f"/compatibility/subjects/{SUBJECT}/versions/{{version}}", openapi_extra=SCHEMA_BODY)
async def compatibility_with_version(
    request: Request, subject: str, version: str, verbose: bool = False, normalize: bool = False
) -> dict[str, Any]:
    del normalize
    return await _compatibility(request, subject, version, verbose)


@router.post(f"/compatibility/subjects/{SUBJECT}/versions", openapi_extra=SCHEMA_BODY)
async def compatibility_with_all(
    request: Request, subject: str, verbose: bool = False, normalize: bool = False
) -> dict[str, Any]:
    del normalize
    return await _compatibility(request, subject, None, verbose)


# -- config and mode --------------------------------------------------------------------------


@router.get("/config")
def get_global_config(request: Request) -> dict[str, Any]:
    return {"compatibilityLevel": registry_of(request).get_config().compatibility.value}


@router.get(f"/config/{SUBJECT}")
def get_subject_config(
    request: Request, subject: str, defaultToGlobal: bool = False
) -> dict[str, Any]:
    config = registry_of(request).get_config(subject, default_to_global=defaultToGlobal)
    return {"compatibilityLevel": config.compatibility.value}


async def _put_config(request: Request, subject: str | None) -> dict[str, Any]:
    body = await object_body(request)
    level = body.get("compatibility", body.get("compatibilityLevel"))
    registry = registry_of(request)
    if level is None:
        current = await asyncio.to_thread(registry.effective_config, subject)
        return {"compatibility": current.compatibility.value}
    patch = ConfigPatch(compatibility=parse_compatibility(level))
    config = await asyncio.to_thread(registry.set_config, subject, patch)
    return {"compatibility": config.compatibility.value}


@router.put("/config", openapi_extra=COMPAT_BODY)
async def put_global_config(request: Request) -> dict[str, Any]:
    return await _put_config(request, None)


@router.put(f"/config/{SUBJECT}", openapi_extra=COMPAT_BODY)
async def put_subject_config(request: Request, subject: str) -> dict[str, Any]:
    return await _put_config(request, subject)


@router.delete("/config")
def delete_global_config(request: Request) -> dict[str, Any]:
    before = registry_of(request).delete_config(None)
    return {"compatibilityLevel": before.compatibility.value}


@router.delete(f"/config/{SUBJECT}")
def delete_subject_config(request: Request, subject: str) -> dict[str, Any]:
    before = registry_of(request).delete_config(subject)
    return {"compatibilityLevel": before.compatibility.value}


@router.get("/mode")
def get_global_mode(request: Request) -> dict[str, Any]:
    return {"mode": registry_of(request).get_mode().value}


@router.get(f"/mode/{SUBJECT}")
def get_subject_mode(
    request: Request, subject: str, defaultToGlobal: bool = False
) -> dict[str, Any]:
    return {"mode": registry_of(request).get_mode(subject, default_to_global=defaultToGlobal).value}


async def _put_mode(request: Request, subject: str | None, force: bool) -> dict[str, Any]:
    body = await object_body(request)
    if "mode" not in body:
        raise RequestBodyError(422, "the field 'mode' is required")
    mode = parse_mode(body["mode"])
    result = await asyncio.to_thread(registry_of(request).set_mode, subject, mode, force=force)
    return {"mode": result.value}


@router.put("/mode", openapi_extra=MODE_BODY)
async def put_global_mode(request: Request, force: bool = False) -> dict[str, Any]:
    return await _put_mode(request, None, force)


@router.put(f"/mode/{SUBJECT}", openapi_extra=MODE_BODY)
async def put_subject_mode(request: Request, subject: str, force: bool = False) -> dict[str, Any]:
    return await _put_mode(request, subject, force)


@router.delete(f"/mode/{SUBJECT}")
def delete_subject_mode(request: Request, subject: str) -> dict[str, Any]:
    return {"mode": registry_of(request).delete_mode(subject).value}


root_router = APIRouter(
    default_response_class=DocumentedJSONResponse, tags=["confluent"], responses=ERROR_RESPONSES
)


@root_router.get("/")
def root() -> dict[str, Any]:
    """Confluent's liveness answer (``{}``); a UI router added before it takes ``/`` instead."""
    return {}
