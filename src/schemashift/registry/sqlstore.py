"""SQLite and PostgreSQL stores: engines, serialised write transactions, retries.

* SQLite (the default): one file in WAL mode, so readers never block the writer; a busy
  timeout; write transactions start with ``BEGIN IMMEDIATE`` so two writers queue instead
  of deadlocking on a lock upgrade. ``sqlite://`` (no path) is an in-memory database for
  tests and demos, shared by the threads of one process.
* PostgreSQL: every write transaction first takes ``pg_advisory_xact_lock`` on one key, so
  registry processes sharing a database serialise their writes; reads never wait.

A transaction that fails for a transient reason ("database is locked", a deadlock or
serialisation failure, a dropped connection) is retried from the start with a short
backoff; only when the retries are used up does the caller see a :class:`StoreError`
(HTTP 503) — never an internal server error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import StaticPool

from schemashift.errors import StoreError
from schemashift.registry.sqltx import SqlTx
from schemashift.registry.store import StoreTx
from schemashift.registry.tables import metadata

# an arbitrary constant: the one advisory lock all schemashift writers share
ADVISORY_LOCK_KEY = 0x5C4E3A51F7

T = TypeVar("T")

_TRANSIENT_PG_CODES = {"40001", "40P01", "55P03", "57P01", "08000", "08003", "08006"}


def _is_transient(exc: DBAPIError) -> bool:
    if exc.connection_invalidated:
        return True
    message = str(exc.orig).lower()
    if "database is locked" in message or "database is busy" in message:
        return True
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code in _TRANSIENT_PG_CODES


class SqlStore:
    """A :class:`~schemashift.registry.store.Store` on SQLAlchemy (SQLite or PostgreSQL)."""

    def __init__(
        self,
        url: str,
        *,
        busy_timeout_ms: int = 30_000,
        retries: int = 8,
        engine_options: dict[str, Any] | None = None,
    ) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise StoreError(f"not a database URL: {url!r}") from exc
        self.url = url
        self.retries = retries
        self.dialect = parsed.get_backend_name()
        options = dict(engine_options or {})
        # an in-process lock serialises transactions when threads share one connection
        self._process_lock: threading.RLock | None = None
        if self.dialect == "sqlite":
            self.engine = self._sqlite_engine(url, parsed.database, busy_timeout_ms, options)
        elif self.dialect == "postgresql":
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")
            # no pre-ping round trip per transaction: a connection found dead is invalidated
            # and the transaction retried on a fresh one (see _is_transient)
            self.engine = create_engine(parsed, **options)
        else:
            raise StoreError(
                f"unsupported database URL {parsed.drivername!r}: use sqlite or postgresql"
            )
        self._create_tables()

    def _sqlite_engine(
        self, url: str, database: str | None, busy_timeout_ms: int, options: dict[str, Any]
    ) -> Engine:
        memory = database in (None, "", ":memory:")
        connect_args = {"timeout": busy_timeout_ms / 1000, "check_same_thread": False}
        if memory:
            self._process_lock = threading.RLock()
            engine = create_engine(
                "sqlite://", connect_args=connect_args, poolclass=StaticPool, **options
            )
        else:
            engine = create_engine(url, connect_args=connect_args, **options)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, record: Any) -> None:
            del record
            # hand transaction control to us, so write transactions can BEGIN IMMEDIATE
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                # NORMAL is durable against process crashes in WAL mode (kill -9 loses nothing
                # committed); only an OS crash can drop the last transactions, never corrupt
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql(conn.info.pop("schemashift_begin", "BEGIN"))

        return engine

    def _create_tables(self) -> None:
        # several processes may start on an empty database at once: serialise the DDL too
        self._run(lambda tx: metadata.create_all(tx.conn), write=True)

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[SqlTx]:
        lock = self._process_lock if self._process_lock is not None else nullcontext()
        with lock, self.engine.connect() as conn:
            if self.dialect == "sqlite":
                conn.info["schemashift_begin"] = "BEGIN IMMEDIATE" if write else "BEGIN"
            with conn.begin():
                if write and self.dialect == "postgresql":
                    conn.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
                    )
                yield SqlTx(conn)

    def read(self, work: Callable[[StoreTx], T]) -> T:
        """Run ``work(tx)`` in a read transaction (retried on transient failures)."""
        return self._run(work, write=False)

    def write(self, work: Callable[[StoreTx], T]) -> T:
        """Run ``work(tx)`` in a serialised write transaction (retried from the start)."""
        return self._run(work, write=True)

    def _run(self, work: Callable[[SqlTx], T], *, write: bool) -> T:
        delay = 0.01
        attempt = 0
        while True:
            try:
                with self._transaction(write=write) as tx:
                    return work(tx)
            except DBAPIError as exc:
                if not _is_transient(exc):
                    raise StoreError(f"the registry database failed: {exc.orig}") from exc
                if attempt >= self.retries:
                    raise StoreError(
                        f"the registry database stayed busy after {self.retries} retries: {exc.orig}"
                    ) from exc
            attempt += 1
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def close(self) -> None:
        self.engine.dispose()
