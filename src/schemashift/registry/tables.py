"""The relational layout shared by the SQLite and PostgreSQL stores (SQLAlchemy Core).

Times are stored as integer microseconds since the Unix epoch (UTC), so both databases
compare and sort them identically and no driver has to guess a time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Dialect,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class UtcTime(TypeDecorator[datetime]):
    """An aware ``datetime`` stored as microseconds since the epoch."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> int | None:
        del dialect
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the registry stores aware datetimes only (pass a UTC clock)")
        delta = value - _EPOCH
        return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        del dialect
        if value is None:
            return None
        return datetime.fromtimestamp(int(value) // 1_000_000, UTC).replace(
            microsecond=int(value) % 1_000_000
        )


metadata = MetaData()

SUBJECT = String(255)

schemas = Table(
    "ss_schemas",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("fingerprint", String(64), nullable=False, unique=True),
    Column("schema_text", Text, nullable=False),
    Column("references_json", Text, nullable=False, default="[]"),
    Column("created_at", UtcTime, nullable=False),
)

# one row per subject ever used: the high-water mark keeps version numbers from being reused
subjects = Table(
    "ss_subjects",
    metadata,
    Column("name", SUBJECT, primary_key=True),
    Column("max_version", Integer, nullable=False),
)

versions = Table(
    "ss_versions",
    metadata,
    Column("subject", SUBJECT, primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("schema_id", Integer, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("created_at", UtcTime, nullable=False),
    Column("superseded_at", UtcTime, nullable=True),
    Column("sunset_recorded", Boolean, nullable=False, default=False),
    Index("ss_versions_by_schema", "schema_id"),
)

configs = Table(
    "ss_configs",
    metadata,
    Column("subject", SUBJECT, primary_key=True),  # "" is the global configuration
    Column("config_json", Text, nullable=False),
)

modes = Table(
    "ss_modes",
    metadata,
    Column("subject", SUBJECT, primary_key=True),  # "" is the global mode
    Column("mode", String(16), nullable=False),
)

profiles = Table(
    "ss_profiles",
    metadata,
    Column("subject", SUBJECT, primary_key=True),
    Column("profile_json", Text, nullable=False),
    Column("samples_since_version", BigInteger, nullable=False),
    # the running profile as it was when the latest version was registered; a rejected
    # quarantine rolls the running profile back to it
    Column("baseline_json", Text, nullable=True),
)

outbox = Table(
    "ss_outbox",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(32), nullable=False),
    Column("subject", SUBJECT, nullable=False),
    Column("version", Integer, nullable=True),
    Column("schema_id", Integer, nullable=True),
    Column("schema_text", Text, nullable=True),
    Column("changes_json", Text, nullable=False),
    Column("score", Float, nullable=True),
    Column("time", UtcTime, nullable=False),
    Column("quarantine_id", Integer, nullable=True),
    Column("relayed_at", UtcTime, nullable=True),
    Index("ss_outbox_pending", "relayed_at", "seq"),
)

quarantine = Table(
    "ss_quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("subject", SUBJECT, nullable=False),
    Column("base_version", Integer, nullable=True),
    Column("status", String(16), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("schema_text", Text, nullable=False),
    Column("report_json", Text, nullable=False),
    Column("reasons_json", Text, nullable=False),
    Column("consumers_json", Text, nullable=False),
    Column("samples_json", Text, nullable=False),
    Column("created_at", UtcTime, nullable=False),
    Column("resolved_at", UtcTime, nullable=True),
    Column("resolved_version", Integer, nullable=True),
    Index("ss_quarantine_by_subject", "subject", "status"),
)

drift_events = Table(
    "ss_drift_events",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("subject", SUBJECT, nullable=False),
    Column("time", UtcTime, nullable=False),
    Column("base_version", Integer, nullable=True),
    Column("score", Float, nullable=False),
    Column("decision", String(32), nullable=False),
    Column("version", Integer, nullable=True),
    Column("quarantine_id", Integer, nullable=True),
    Column("changes_json", Text, nullable=False),
    Column("sample_count", BigInteger, nullable=False),
    Index("ss_drift_by_subject", "subject", "id"),
)

# per subject: the events counted and where subtractive/modifying changes showed
# (registry/evidence.py); written by every observation in its transaction
evidence = Table(
    "ss_evidence",
    metadata,
    Column("subject", SUBJECT, primary_key=True),
    Column("seen_total", BigInteger, nullable=False),
    Column("outliers_total", BigInteger, nullable=False),
    Column("state_json", Text, nullable=False),
)

consumers = Table(
    "ss_consumers",
    metadata,
    Column("subject", SUBJECT, primary_key=True),
    Column("consumer", String(255), primary_key=True),
    Column("fields_json", Text, nullable=False),
    Column("declared_at", UtcTime, nullable=False),
)

# what the stream worker could not conform, kept to be listed, shown and re-driven
# (registry/dead_letters.py); msg_id is the raw input's identity, so a redelivered input that
# is recorded again adds nothing
dead_letters = Table(
    "ss_dead_letters",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("msg_id", String(255), nullable=False, unique=True),
    Column("subject", SUBJECT, nullable=True),
    Column("reason", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("path", Text, nullable=True),
    Column("details_json", Text, nullable=False),
    Column("quarantine_id", Integer, nullable=True),
    Column("headers_json", Text, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("raw_subject", Text, nullable=False),
    Column("raw_seq", BigInteger, nullable=False),
    Column("time", UtcTime, nullable=False),
    Column("state", String(16), nullable=False),
    Column("replayed_at", UtcTime, nullable=True),
    Index("ss_dead_letters_by_subject", "subject", "state", "id"),
    Index("ss_dead_letters_by_reason", "reason", "state", "id"),
    Index("ss_dead_letters_by_quarantine", "quarantine_id", "state"),
)
