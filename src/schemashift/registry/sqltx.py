"""The StoreTx implementation over one SQLAlchemy connection (shared by SQLite and PostgreSQL).

New ids (schema ids, outbox seqs, quarantine and drift ids) are ``max + 1`` computed inside
the serialised write transaction, so they are dense and commit in order — no sequences,
whose values may be handed out to transactions that commit out of order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, insert, select, update

from schemashift.registry import tables as t
from schemashift.registry.config import ConfigPatch, Mode
from schemashift.registry.records import (
    Reference,
    SchemaVersion,
    StoredSchema,
    load_stored,
)
from schemashift.registry.sqltx_activity import ActivityQueries, dumps, next_id
from schemashift.registry.sqltx_dead_letters import DeadLetterQueries


def _refs_from_json(text: str) -> tuple[Reference, ...]:
    return tuple(
        Reference(str(r["name"]), str(r["subject"]), int(r["version"])) for r in load_stored(text)
    )


class SqlTx(ActivityQueries, DeadLetterQueries):
    """Data access inside one transaction; see :class:`schemashift.registry.store.StoreTx`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _next_id(self, table: Table, column: str) -> int:
        return next_id(self.conn, table, column)

    # -- schemas ---------------------------------------------------------------------------

    def _schema(self, row: Any) -> StoredSchema:
        return StoredSchema(
            schema_id=row.id,
            schema_text=row.schema_text,
            fingerprint=row.fingerprint,
            references=_refs_from_json(row.references_json),
        )

    def schema_by_fingerprint(self, fingerprint: str) -> StoredSchema | None:
        row = self.conn.execute(
            select(t.schemas).where(t.schemas.c.fingerprint == fingerprint)
        ).first()
        return None if row is None else self._schema(row)

    def schema_by_id(self, schema_id: int) -> StoredSchema | None:
        row = self.conn.execute(select(t.schemas).where(t.schemas.c.id == schema_id)).first()
        return None if row is None else self._schema(row)

    def max_schema_id(self) -> int:
        return self._next_id(t.schemas, "id") - 1

    def insert_schema(
        self,
        text: str,
        fingerprint: str,
        references: Sequence[Reference],
        now: datetime,
        schema_id: int | None = None,
    ) -> StoredSchema:
        new_id = self._next_id(t.schemas, "id") if schema_id is None else schema_id
        refs = tuple(references)
        self.conn.execute(
            insert(t.schemas).values(
                id=new_id,
                fingerprint=fingerprint,
                schema_text=text,
                references_json=dumps([r.to_dict() for r in refs]),
                created_at=now,
            )
        )
        return StoredSchema(new_id, text, fingerprint, refs)

    # -- subjects and versions -------------------------------------------------------------

    def subjects(self, include_deleted: bool) -> list[str]:
        query = select(t.versions.c.subject).distinct().order_by(t.versions.c.subject)
        if not include_deleted:
            query = query.where(t.versions.c.deleted.is_(False))
        return [row[0] for row in self.conn.execute(query)]

    def max_version(self, subject: str) -> int:
        value = self.conn.execute(
            select(t.subjects.c.max_version).where(t.subjects.c.name == subject)
        ).scalar()
        return int(value or 0)

    def _version_query(self) -> Any:
        return select(
            t.versions.c.subject,
            t.versions.c.version,
            t.versions.c.schema_id,
            t.versions.c.deleted,
            t.versions.c.created_at,
            t.versions.c.superseded_at,
            t.schemas.c.schema_text,
            t.schemas.c.references_json,
        ).join(t.schemas, t.schemas.c.id == t.versions.c.schema_id)

    @staticmethod
    def _version(row: Any) -> SchemaVersion:
        return SchemaVersion(
            subject=row.subject,
            version=row.version,
            schema_id=row.schema_id,
            schema_text=row.schema_text,
            references=_refs_from_json(row.references_json),
            deleted=bool(row.deleted),
            created_at=row.created_at,
            superseded_at=row.superseded_at,
        )

    def versions(self, subject: str, include_deleted: bool) -> list[SchemaVersion]:
        query = (
            self._version_query()
            .where(t.versions.c.subject == subject)
            .order_by(t.versions.c.version)
        )
        if not include_deleted:
            query = query.where(t.versions.c.deleted.is_(False))
        return [self._version(row) for row in self.conn.execute(query)]

    def version(self, subject: str, version: int) -> SchemaVersion | None:
        row = self.conn.execute(
            self._version_query().where(
                and_(t.versions.c.subject == subject, t.versions.c.version == version)
            )
        ).first()
        return None if row is None else self._version(row)

    def latest_version(self, subject: str) -> SchemaVersion | None:
        """The newest live version (cheap: one indexed row, no history)."""
        row = self.conn.execute(
            self._version_query()
            .where(and_(t.versions.c.subject == subject, t.versions.c.deleted.is_(False)))
            .order_by(t.versions.c.version.desc())
            .limit(1)
        ).first()
        return None if row is None else self._version(row)

    def insert_version(self, subject: str, version: int, schema_id: int, now: datetime) -> None:
        # the version it supersedes starts its sunset period now
        self.conn.execute(
            update(t.versions)
            .where(
                and_(
                    t.versions.c.subject == subject,
                    t.versions.c.version < version,
                    t.versions.c.superseded_at.is_(None),
                )
            )
            .values(superseded_at=now)
        )
        self.conn.execute(
            insert(t.versions).values(
                subject=subject,
                version=version,
                schema_id=schema_id,
                deleted=False,
                created_at=now,
                superseded_at=None,
                sunset_recorded=False,
            )
        )
        updated = self.conn.execute(
            update(t.subjects)
            .where(and_(t.subjects.c.name == subject, t.subjects.c.max_version < version))
            .values(max_version=version)
        ).rowcount
        if not updated and self.max_version(subject) == 0:
            self.conn.execute(insert(t.subjects).values(name=subject, max_version=version))

    def set_deleted(self, subject: str, version: int) -> None:
        self.conn.execute(
            update(t.versions)
            .where(and_(t.versions.c.subject == subject, t.versions.c.version == version))
            .values(deleted=True)
        )

    def remove_version(self, subject: str, version: int) -> None:
        self.conn.execute(
            delete(t.versions).where(
                and_(t.versions.c.subject == subject, t.versions.c.version == version)
            )
        )

    def versions_of_schema(self, schema_id: int, include_deleted: bool) -> list[tuple[str, int]]:
        query = (
            select(t.versions.c.subject, t.versions.c.version)
            .where(t.versions.c.schema_id == schema_id)
            .order_by(t.versions.c.subject, t.versions.c.version)
        )
        if not include_deleted:
            query = query.where(t.versions.c.deleted.is_(False))
        return [(row[0], row[1]) for row in self.conn.execute(query)]

    def awaiting_sunset(self) -> list[SchemaVersion]:
        query = self._version_query().where(
            and_(
                t.versions.c.superseded_at.is_not(None),
                t.versions.c.sunset_recorded.is_(False),
                t.versions.c.deleted.is_(False),
            )
        )
        return [self._version(row) for row in self.conn.execute(query)]

    def mark_sunset_recorded(self, subject: str, version: int) -> None:
        self.conn.execute(
            update(t.versions)
            .where(and_(t.versions.c.subject == subject, t.versions.c.version == version))
            .values(sunset_recorded=True)
        )

    # -- configuration and modes -----------------------------------------------------------

    def get_config(self, subject: str) -> ConfigPatch | None:
        text = self.conn.execute(
            select(t.configs.c.config_json).where(t.configs.c.subject == subject)
        ).scalar()
        return None if text is None else ConfigPatch.from_dict(load_stored(text))

    def set_config(self, subject: str, patch: ConfigPatch | None) -> None:
        self.conn.execute(delete(t.configs).where(t.configs.c.subject == subject))
        if patch is not None and not patch.is_empty():
            sunset = patch.sunset_seconds
            data = patch.to_dict()
            if sunset == ConfigPatch.FOREVER:
                data["sunset_seconds"] = None  # stored as an explicit null = forever
            self.conn.execute(insert(t.configs).values(subject=subject, config_json=dumps(data)))

    def get_mode(self, subject: str) -> Mode | None:
        value = self.conn.execute(
            select(t.modes.c.mode).where(t.modes.c.subject == subject)
        ).scalar()
        return None if value is None else Mode(value)

    def set_mode(self, subject: str, mode: Mode | None) -> None:
        self.conn.execute(delete(t.modes).where(t.modes.c.subject == subject))
        if mode is not None:
            self.conn.execute(insert(t.modes).values(subject=subject, mode=mode.value))

    # -- running profiles ------------------------------------------------------------------

    def get_profile(self, subject: str) -> tuple[dict[str, Any] | None, int, dict[str, Any] | None]:
        row = self.conn.execute(select(t.profiles).where(t.profiles.c.subject == subject)).first()
        if row is None:
            return None, 0, None
        baseline = None if row.baseline_json is None else load_stored(row.baseline_json)
        return load_stored(row.profile_json), int(row.samples_since_version), baseline

    def put_profile(
        self,
        subject: str,
        profile: dict[str, Any],
        samples_since_version: int,
        baseline: dict[str, Any] | None,
    ) -> None:
        self.conn.execute(delete(t.profiles).where(t.profiles.c.subject == subject))
        self.conn.execute(
            insert(t.profiles).values(
                subject=subject,
                profile_json=dumps(profile),
                samples_since_version=samples_since_version,
                baseline_json=None if baseline is None else dumps(baseline),
            )
        )
