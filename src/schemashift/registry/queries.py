"""Reads and checks shared by the service's operations, inside one store transaction.

The effective configuration and mode (subject over global over defaults), version lookup with
Confluent's not-found codes, and the validation of names, ids and submitted schemas.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schemashift.core.jsonparse import ParseLimits, loads
from schemashift.errors import (
    InvalidSchemaError,
    PayloadError,
    SubjectNotFoundError,
    VersionNotFoundError,
)
from schemashift.registry.config import Mode, SubjectConfig
from schemashift.registry.decisions import LATEST
from schemashift.registry.records import SchemaVersion
from schemashift.registry.refusals import InvalidRequestError
from schemashift.registry.store import StoreTx

GLOBAL = ""  # the store's key for the global configuration and mode
MAX_SUBJECT_LENGTH = 255
MAX_ID = 2**31 - 1  # ids and versions are 32-bit, as in Confluent's registry
MAX_PAGE = 10_000
# bounds on a schema submitted as text: generous for real schemas, finite for hostile ones
SCHEMA_LIMITS = ParseLimits(max_bytes=4 * 1024 * 1024, max_depth=256, max_keys=200_000)


def known_id(value: int) -> bool:
    """Whether ``value`` can name a stored id at all (larger ones would overflow the SQL)."""
    return 1 <= value <= MAX_ID


def page_limit(limit: int) -> int:
    return max(0, min(limit, MAX_PAGE))


def check_subject(subject: str) -> str:
    if not subject or len(subject) > MAX_SUBJECT_LENGTH or any(ord(c) < 32 for c in subject):
        raise InvalidRequestError(
            f"invalid subject name {subject[:80]!r}: 1 to {MAX_SUBJECT_LENGTH} characters,"
            " no control characters"
        )
    return subject


def parse_schema_text(schema: str | Mapping[str, Any] | bool) -> Any:
    """A schema from the API (JSON text) or from Python (a dict), checked; 42201 if unusable."""
    from schemashift.core.schema import check_schema

    if isinstance(schema, str):
        try:
            value = loads(schema, SCHEMA_LIMITS)
        except PayloadError as exc:
            raise InvalidSchemaError(f"Invalid schema: not strict JSON ({exc.message})") from exc
    else:
        value = schema
    if not isinstance(value, dict | bool):
        raise InvalidSchemaError("Invalid schema: a JSON Schema is an object or a boolean")
    check_schema(value)
    return value


def effective_config(tx: StoreTx, defaults: SubjectConfig, subject: str | None) -> SubjectConfig:
    """Defaults, overlaid by the stored global patch, overlaid by the subject's."""
    effective = defaults
    global_patch = tx.get_config(GLOBAL)
    if global_patch is not None:
        effective = global_patch.apply_to(effective)
    if subject:
        patch = tx.get_config(subject)
        if patch is not None:
            effective = patch.apply_to(effective)
    return effective


def effective_mode(tx: StoreTx, subject: str | None) -> Mode:
    if subject:
        mode = tx.get_mode(subject)
        if mode is not None:
            return mode
    return tx.get_mode(GLOBAL) or Mode.READWRITE


def find_version(tx: StoreTx, subject: str, number: int, deleted: bool) -> SchemaVersion:
    """Version ``number`` (or :data:`LATEST`) of ``subject``; 40401 / 40402 when absent.

    ``deleted`` lets soft-deleted versions be found (and ``latest`` be one of them).
    """
    versions = tx.versions(subject, include_deleted=True)
    if not versions or (not deleted and all(v.deleted for v in versions)):
        raise SubjectNotFoundError(f"Subject '{subject}' not found.")
    if number == LATEST:
        live = [v for v in versions if deleted or not v.deleted]
        return live[-1]
    for v in versions:
        if v.version == number:
            if v.deleted and not deleted:
                raise VersionNotFoundError(f"Version {number} not found.")
            return v
    raise VersionNotFoundError(f"Version {number} not found.")
