"""The dead-letter part of the store contract, on every registry store: SQLite file, SQLite in
memory and PostgreSQL (pgserver, or ``$SCHEMASHIFT_TEST_PG_URL``).

Each test gets an empty database (PostgreSQL: a fresh schema on the shared server), as in
test_store_contract.py, whose adapters and helpers these tests reuse.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from schemashift.registry.dead_letters import DeadLetter
from schemashift.registry.service import Registry
from schemashift.registry.testing import ManualClock
from tests.integration.test_store_contract import STORES, store_url

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=STORES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_url(request.param, tmp_path, request)


@pytest.fixture(params=[s for s in STORES if s != "sqlite-memory"])
def shared_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_url(request.param, tmp_path, request)


@pytest.fixture()
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture()
def registry(db_url: str, clock: ManualClock) -> Iterator[Registry]:
    reg = Registry.from_url(db_url, clock=clock)
    yield reg
    reg.close()


def letter(n: int, subject: str | None = "orders", **kw: Any) -> DeadLetter:
    values: dict[str, Any] = {
        "msg_id": f"SCHEMASHIFT_RAW:{n}",
        "subject": subject,
        "reason": "type_mismatch",
        "message": "not conformable",
        "path": "/qty",
        "details": ({"code": "type_mismatch", "path": "/qty", "message": "é ☃ 2**70"},),
        "quarantine_id": None,
        "headers": {"ce-id": f"e-{n}"},
        "data": b'{"qty": "%d"}' % n,
        "raw_subject": "schemashift.raw.in",
        "raw_seq": n,
        "time": T0 + timedelta(microseconds=n),
    }
    values.update(kw)
    return DeadLetter(**values)


def test_rows_round_trip_exactly(registry: Registry) -> None:
    """Arbitrary bytes, Unicode, big integers in details, microsecond times: read back equal."""
    binary = bytes(range(256)) * 4
    details = ({"code": "c", "n": 2**70, "text": "é ☃ \U0001f600"},)
    assert registry.record_dead_letters([letter(1, data=binary, details=details)]) == 1
    row = registry.get_dead_letter(1)
    assert (row.data, row.details) == (binary, details)
    assert row.time == T0 + timedelta(microseconds=1)


def test_the_same_msg_id_is_recorded_once_and_ids_are_dense(registry: Registry) -> None:
    """Duplicates in a batch and across batches are skipped, portably; ids run 1..n."""
    assert registry.record_dead_letters([letter(1), letter(2), letter(1)]) == 2
    assert registry.record_dead_letters([letter(2), letter(3)]) == 1
    assert registry.record_dead_letters([letter(n) for n in range(1, 4)]) == 0
    items, _ = registry.list_dead_letters(state=None, oldest_first=True)
    assert [(i.id, i.raw_seq) for i in items] == [(1, 1), (2, 2), (3, 3)]


def test_concurrent_recorders_store_each_msg_id_once(db_url: str, clock: ManualClock) -> None:
    """Eight threads recording overlapping batches (a redelivery storm): every msg_id once,
    ids dense — the write lock serialises the read-then-insert."""
    registry = Registry.from_url(db_url, clock=clock)
    inserted: list[int] = []
    lock = threading.Lock()

    def record(worker: int) -> None:
        for start in range(0, 60, 10):
            batch = [letter(n) for n in range(start + worker, start + worker + 10)]
            count = registry.record_dead_letters(batch)
            with lock:
                inserted.append(count)

    threads = [threading.Thread(target=record, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        items, _ = registry.list_dead_letters(limit=1000, oldest_first=True)
        assert sum(inserted) == len(items) == 67  # seqs 0..66
        assert [i.id for i in items] == list(range(1, 68))
        assert sorted(i.raw_seq for i in items) == list(range(67))
    finally:
        registry.close()


def test_listing_counting_and_state_changes(registry: Registry, clock: ManualClock) -> None:
    """Filters, newest-first pages, counts by state and reason, replay marks, park to dead."""
    registry.record_dead_letters(
        [
            letter(1),
            letter(2, reason="too_deep"),
            letter(3, subject="payments"),
            letter(4, state="parked", quarantine_id=7),
            letter(5, subject=None, reason="no_subject"),
        ]
    )
    page, cursor = registry.list_dead_letters(limit=2)
    assert [i.id for i in page] == [5, 3] and cursor == 3
    assert [i.id for i in registry.list_dead_letters(cursor=cursor)[0]] == [2, 1]
    assert [i.id for i in registry.list_dead_letters(subject="orders", reason="too_deep")[0]] == [2]
    assert registry.dead_letter_counts("orders") == {
        "dead": {"too_deep": 1, "type_mismatch": 1},
        "parked": {"type_mismatch": 1},
        "replayed": {},
    }
    clock.advance(5)
    assert registry.mark_replayed([1, 5]) == 2
    assert registry.get_dead_letter(1).replayed_at == T0 + timedelta(seconds=5)
    assert [r.id for r in registry.park_to_dead(7)] == [4]
    assert registry.dead_letter_counts() == {
        "dead": {"drift_rejected": 1, "too_deep": 1, "type_mismatch": 1},
        "parked": {},
        "replayed": {"no_subject": 1, "type_mismatch": 1},
    }


def test_hostile_text_is_stored_on_every_database(registry: Registry) -> None:
    """NUL characters and lone surrogates (refused by PostgreSQL text, or by UTF-8), and a
    subject longer than a subject column holds, still land as a row."""
    hostile = letter(
        1,
        subject="x" * 400,
        message="nul \x00 here",
        path="/\ud800",
        headers={"h\x00": "\udcff"},
        details=({"message": "\x00\ud800"},),
    )
    assert registry.record_dead_letters([hostile]) == 1
    row = registry.get_dead_letter(1)
    assert row.subject is None and "\x00" not in row.message
    assert row.to_dict()["details"][-1] == {"code": "unnamed_subject", "subject": "x" * 400}


def test_an_existing_database_gains_the_table_on_start(shared_db_url: str) -> None:
    """A database created before dead letters existed: opening the registry creates
    ss_dead_letters (metadata.create_all adds missing tables), and its data is untouched."""
    first = Registry.from_url(shared_db_url)
    first.register("orders", {"type": "object"})
    first.close()
    engine = create_engine(_driver_url(shared_db_url))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE ss_dead_letters"))
    assert "ss_dead_letters" not in inspect(engine).get_table_names()
    again = Registry.from_url(shared_db_url)
    try:
        assert "ss_dead_letters" in inspect(engine).get_table_names()
        assert again.list_versions("orders") == [1]
        assert again.record_dead_letters([letter(1)]) == 1
    finally:
        again.close()
        engine.dispose()


def _driver_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)
