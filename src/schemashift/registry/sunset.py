"""Sunset: when a superseded version stops being servable, and the record saying so."""

from __future__ import annotations

from datetime import datetime

from schemashift.errors import VersionGoneError
from schemashift.registry.config import SubjectConfig
from schemashift.registry.decisions import is_gone
from schemashift.registry.queries import effective_config
from schemashift.registry.records import OutboxKind, SchemaVersion
from schemashift.registry.store import StoreTx


def require_servable(
    found: SchemaVersion, latest: int, config: SubjectConfig, now: datetime
) -> SchemaVersion:
    """``found`` unless its sunset has passed (the newest live version never goes)."""
    if found.version != latest and is_gone(found.superseded_at, config.sunset_seconds, now):
        raise VersionGoneError(
            f"Version {found.version} of subject '{found.subject}' was superseded on"
            f" {found.superseded_at:%Y-%m-%d %H:%M:%S} UTC and its sunset period of"
            f" {config.sunset_seconds} s has passed; use version {latest}"
        )
    return found


def sweep(tx: StoreTx, defaults: SubjectConfig, now: datetime) -> list[int]:
    """Write one ``version.sunset`` record per version whose sunset passed; their seqs."""
    written: list[int] = []
    for v in tx.awaiting_sunset():
        latest = tx.latest_version(v.subject)
        if latest is not None and latest.version == v.version:
            continue  # the newest live version never sunsets
        config = effective_config(tx, defaults, v.subject)
        if is_gone(v.superseded_at, config.sunset_seconds, now):
            written.append(
                tx.append_outbox(
                    OutboxKind.VERSION_SUNSET,
                    v.subject,
                    now=now,
                    version=v.version,
                    schema_id=v.schema_id,
                )
            )
            tx.mark_sunset_recorded(v.subject, v.version)
    return written
