"""Registering a schema inside one write transaction (used by register, observe and accept).

A registration is one transaction: the schema row (if new), the version row, the subject's
high-water mark, the running profile's reset and the ``schema.updated`` outbox record either
all commit or none does — a crash at any point leaves the version fully present or absent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemashift.core.canonical import canonical_text, fingerprint
from schemashift.core.compat.model import CompatibilityResult
from schemashift.errors import IncompatibleSchemaError, RegistryModeError
from schemashift.registry.config import Compatibility, SubjectConfig
from schemashift.registry.queries import find_version
from schemashift.registry.records import OutboxKind, Reference, SchemaVersion
from schemashift.registry.store import StoreTx


@dataclass(frozen=True, slots=True)
class Candidate:
    """A schema ready to store: its canonical text and identity."""

    schema: Any
    text: str
    fingerprint: str
    references: tuple[Reference, ...] = ()

    @classmethod
    def of(cls, schema: Any, references: Sequence[Reference] = ()) -> Candidate:
        refs = tuple(references)
        # references are part of a schema's identity, as in Confluent's registry
        identity = (
            schema if not refs else {"schema": schema, "references": [r.to_dict() for r in refs]}
        )
        return cls(schema, canonical_text(schema), fingerprint(identity), refs)


def existing_version(tx: StoreTx, subject: str, candidate: Candidate) -> SchemaVersion | None:
    """The live (not soft-deleted) version of ``subject`` holding this schema, if any."""
    stored = tx.schema_by_fingerprint(candidate.fingerprint)
    if stored is None:
        return None
    for name, number in tx.versions_of_schema(stored.schema_id, include_deleted=False):
        if name == subject:
            return tx.version(subject, number)
    return None


def store_version(
    tx: StoreTx,
    subject: str,
    candidate: Candidate,
    now: datetime,
    *,
    changes: Sequence[dict[str, Any]] = (),
    score: float | None = None,
    explicit_id: int | None = None,
    explicit_version: int | None = None,
    reset_profile: bool = True,
) -> SchemaVersion:
    """Write a new version (and its outbox record); the caller has checked policy and mode.

    ``reset_profile=False`` leaves the running profile to the caller (an observation that
    writes it itself at the end of its transaction).
    """
    stored = tx.schema_by_fingerprint(candidate.fingerprint)
    if explicit_id is not None:
        holder = tx.schema_by_id(explicit_id)
        if stored is not None and stored.schema_id != explicit_id:
            raise RegistryModeError(
                f"Schema already registered with id {stored.schema_id} instead of input id"
                f" {explicit_id}"
            )
        if holder is not None and holder.fingerprint != candidate.fingerprint:
            raise RegistryModeError(f"Overwrite new schema with id {explicit_id} is not permitted.")
    if stored is None:
        stored = tx.insert_schema(
            candidate.text, candidate.fingerprint, candidate.references, now, explicit_id
        )
    highest = tx.max_version(subject)
    if explicit_version is None:
        number = highest + 1
    elif explicit_version <= highest:
        raise RegistryModeError(
            f"Version {explicit_version} of subject {subject!r} is not after its latest"
            f" version {highest}; versions are never reused"
        )
    else:
        number = explicit_version
    tx.insert_version(subject, number, stored.schema_id, now)
    profile = tx.get_profile(subject)[0] if reset_profile else None
    if profile is not None:
        # drift is measured from here on against the new version
        tx.put_profile(subject, profile, 0, profile)
    tx.append_outbox(
        OutboxKind.SCHEMA_UPDATED,
        subject,
        now=now,
        version=number,
        schema_id=stored.schema_id,
        schema_text=stored.schema_text,
        changes=changes,
        score=score,
    )
    return SchemaVersion(
        subject=subject,
        version=number,
        schema_id=stored.schema_id,
        schema_text=stored.schema_text,
        references=stored.references,
        created_at=now,
    )


def compatibility(
    tx: StoreTx, config: SubjectConfig, subject: str, schema: Any, version: int | None
) -> CompatibilityResult:
    """Confluent's check: against one version (its 40401/40402 first), or per the mode."""
    mode = config.compatibility
    if version is not None:
        chosen = find_version(tx, subject, version, False)
        targets = [] if mode is Compatibility.NONE else [chosen.schema]
    elif mode is Compatibility.NONE:
        targets = []
    elif mode.transitive:
        targets = [v.schema for v in tx.versions(subject, include_deleted=False)]
    else:
        latest = tx.latest_version(subject)
        targets = [] if latest is None else [latest.schema]
    if not targets:
        return CompatibilityResult(True, ())
    from schemashift.core.compat import check_compatibility

    return check_compatibility(targets if mode.transitive else targets[-1], schema, mode.value)


def require_compatible(tx: StoreTx, config: SubjectConfig, subject: str, schema: Any) -> None:
    result = compatibility(tx, config, subject, schema, None)
    if not result.compatible:
        details = "; ".join(f"{f.path or '/'}: {f.message}" for f in result.findings[:10])
        raise IncompatibleSchemaError(
            f"Schema being registered is incompatible with an earlier schema for subject"
            f' "{subject}" ({config.compatibility.value}): {details}'
        )
