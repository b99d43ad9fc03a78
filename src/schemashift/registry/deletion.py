"""Soft and permanent deletes with Confluent's semantics, inside one write transaction.

A soft delete hides a version from reads, lookups and compatibility checks; a permanent
delete removes it, and is allowed only after a soft one. Neither frees its number: the
subject's high-water mark keeps versions from ever being reused.
"""

from __future__ import annotations

from schemashift.errors import RegistryModeError, SubjectNotFoundError
from schemashift.registry.config import Mode
from schemashift.registry.decisions import LATEST
from schemashift.registry.queries import effective_mode, find_version
from schemashift.registry.refusals import (
    SubjectNotSoftDeletedError,
    SubjectSoftDeletedError,
    VersionNotSoftDeletedError,
    VersionSoftDeletedError,
)
from schemashift.registry.store import StoreTx


def require_writable(tx: StoreTx, subject: str) -> None:
    if effective_mode(tx, subject) is Mode.READONLY:
        raise RegistryModeError(f"Subject {subject} is in read-only mode")


def delete_version(tx: StoreTx, subject: str, number: int, permanent: bool) -> int:
    require_writable(tx, subject)
    # a soft-deleted version is found (to refuse or purge it); "latest" means the live one
    target = find_version(tx, subject, number, deleted=permanent or number != LATEST)
    if permanent:
        if not target.deleted:
            raise VersionNotSoftDeletedError(
                f"Subject '{subject}' Version {target.version} was not deleted first before"
                " being permanently deleted"
            )
        tx.remove_version(subject, target.version)
    else:
        if target.deleted:
            raise VersionSoftDeletedError(
                f"Subject '{subject}' Version {target.version} was soft deleted. Set"
                " permanent=true to delete permanently"
            )
        tx.set_deleted(subject, target.version)
    return target.version


def delete_subject(tx: StoreTx, subject: str, permanent: bool) -> list[int]:
    require_writable(tx, subject)
    versions = tx.versions(subject, include_deleted=True)
    if not versions:
        raise SubjectNotFoundError(f"Subject '{subject}' not found.")
    live = [v for v in versions if not v.deleted]
    if permanent:
        if live:
            raise SubjectNotSoftDeletedError(
                f"Subject '{subject}' was not deleted first before being permanently deleted"
            )
        for v in versions:
            tx.remove_version(subject, v.version)
        tx.set_config(subject, None)
        tx.set_mode(subject, None)
        return [v.version for v in versions]
    if not live:
        raise SubjectSoftDeletedError(
            f"Subject '{subject}' was soft deleted. Set permanent=true to delete permanently"
        )
    for v in live:
        tx.set_deleted(subject, v.version)
    return [v.version for v in live]
