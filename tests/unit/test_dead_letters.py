"""Dead letters in the registry: recording, listing, counting, re-drive bookkeeping.

On an in-memory SQLite registry (``memory_registry``); the same behaviour on a SQLite file and
on PostgreSQL is pinned by tests/integration/test_dead_letters_store.py.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemashift.registry.dead_letters import DeadLetter, StoredDeadLetter, storable
from schemashift.registry.refusals import DeadLetterNotFoundError, InvalidRequestError
from schemashift.registry.service import Registry
from schemashift.registry.testing import ManualClock, memory_registry

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def letter(
    n: int, subject: str | None = "orders", reason: str = "type_mismatch", **kw: Any
) -> DeadLetter:
    values: dict[str, Any] = {
        "msg_id": f"SCHEMASHIFT_RAW:{n}",
        "subject": subject,
        "reason": reason,
        "message": f"event {n} does not conform",
        "path": "/amount",
        "details": ({"code": reason, "path": "/amount", "message": "expected integer"},),
        "quarantine_id": None,
        "headers": {"ce-id": f"e-{n}", "content-type": "application/json"},
        "data": b'{"amount": "%d"}' % n,
        "raw_subject": "schemashift.raw.orders",
        "raw_seq": n,
        "time": T0 + timedelta(seconds=n),
    }
    values.update(kw)
    return DeadLetter(**values)


@pytest.fixture()
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture()
def registry(clock: ManualClock) -> Registry:
    return memory_registry(clock=clock)


def ids(items: list[StoredDeadLetter]) -> list[int]:
    return [item.id for item in items]


def test_recording_is_idempotent_by_msg_id(registry: Registry) -> None:
    """The same msg_id recorded twice — in one batch or in two — is stored once; ids stay
    dense (1..n), so a worker that records again after a redelivery adds nothing."""
    assert registry.record_dead_letters([letter(1), letter(2), letter(2)]) == 2
    assert registry.record_dead_letters([letter(1), letter(3)]) == 1
    assert registry.record_dead_letters([]) == 0
    items, _ = registry.list_dead_letters(oldest_first=True)
    assert ids(items) == [1, 2, 3]
    assert [i.msg_id for i in items] == [f"SCHEMASHIFT_RAW:{n}" for n in (1, 2, 3)]


def test_a_stored_row_reads_back_exactly(registry: Registry) -> None:
    """Every field comes back as recorded: bytes, headers, details, aware time, state."""
    binary = bytes(range(256))
    registry.record_dead_letters([letter(7, data=binary, quarantine_id=3, path=None)])
    row = registry.get_dead_letter(1)
    assert row.data == binary
    assert row.headers == {"ce-id": "e-7", "content-type": "application/json"}
    assert row.details == (
        {"code": "type_mismatch", "path": "/amount", "message": "expected integer"},
    )
    assert (row.quarantine_id, row.path, row.state, row.replayed_at) == (3, None, "dead", None)
    assert row.time == T0 + timedelta(seconds=7) and row.time.tzinfo is not None
    assert (row.raw_subject, row.raw_seq) == ("schemashift.raw.orders", 7)


def test_listing_is_newest_first_with_a_cursor(registry: Registry) -> None:
    """Pages of `limit` rows, newest first; next_cursor continues, None after the last."""
    registry.record_dead_letters([letter(n) for n in range(1, 8)])
    first, cursor = registry.list_dead_letters(limit=3)
    assert ids(first) == [7, 6, 5] and cursor == 5
    second, cursor = registry.list_dead_letters(limit=3, cursor=cursor)
    assert ids(second) == [4, 3, 2] and cursor == 2
    last, cursor = registry.list_dead_letters(limit=3, cursor=cursor)
    assert ids(last) == [1] and cursor is None
    exact, cursor = registry.list_dead_letters(limit=7)
    assert len(exact) == 7 and cursor is None  # no empty page after a full one
    oldest, cursor = registry.list_dead_letters(limit=4, oldest_first=True)
    assert ids(oldest) == [1, 2, 3, 4] and cursor == 4
    rest, _ = registry.list_dead_letters(cursor=cursor, oldest_first=True)
    assert ids(rest) == [5, 6, 7]


def test_limit_is_capped_at_a_thousand(registry: Registry) -> None:
    """A limit over 1,000 is 1,000; under 1 is 1."""
    registry.record_dead_letters([letter(n) for n in range(1, 1003)])
    page, cursor = registry.list_dead_letters(limit=5_000)
    assert len(page) == 1000 and cursor == 3
    one, _ = registry.list_dead_letters(limit=0)
    assert ids(one) == [1002]


def test_filters_combine(registry: Registry) -> None:
    """subject, reason, state, quarantine and ids narrow together; state=None is any state."""
    registry.record_dead_letters(
        [
            letter(1),
            letter(2, reason="too_deep"),
            letter(3, subject="payments"),
            letter(4, state="parked", quarantine_id=9),
            letter(5, subject=None, reason="no_subject"),
        ]
    )
    assert ids(registry.list_dead_letters(subject="orders")[0]) == [2, 1]
    assert ids(registry.list_dead_letters(subject="orders", reason="too_deep")[0]) == [2]
    assert ids(registry.list_dead_letters(reason="no_subject")[0]) == [5]
    assert ids(registry.list_dead_letters(state="parked")[0]) == [4]
    assert ids(registry.list_dead_letters(quarantine_id=9, state=None)[0]) == [4]
    assert ids(registry.list_dead_letters(ids=[1, 3, 4, 99])[0]) == [3, 1]
    assert ids(registry.list_dead_letters(state=None)[0]) == [5, 4, 3, 2, 1]
    assert registry.list_dead_letters(subject="")[0] == []
    with pytest.raises(InvalidRequestError):
        registry.list_dead_letters(state="gone")
    with pytest.raises(InvalidRequestError):
        registry.list_dead_letters(ids=[2**63])


def test_get_of_a_missing_id_is_40412(registry: Registry) -> None:
    """An absent id (or one no row can have) raises DeadLetterNotFoundError: HTTP 404."""
    for missing in (1, 0, -5, 2**70):
        with pytest.raises(DeadLetterNotFoundError) as raised:
            registry.get_dead_letter(missing)
        assert (raised.value.http_status, raised.value.error_code) == (404, 40412)


def test_counts_by_state_and_reason(registry: Registry) -> None:
    """{state: {reason: n}} for one subject or all; every state is present."""
    registry.record_dead_letters(
        [
            letter(1),
            letter(2),
            letter(3, reason="too_deep"),
            letter(4, state="parked", quarantine_id=2),
            letter(5, subject="payments"),
        ]
    )
    assert registry.dead_letter_counts("orders") == {
        "dead": {"too_deep": 1, "type_mismatch": 2},
        "parked": {"type_mismatch": 1},
        "replayed": {},
    }
    assert registry.dead_letter_counts()["dead"] == {"too_deep": 1, "type_mismatch": 3}
    assert registry.dead_letter_counts("nobody") == {"dead": {}, "parked": {}, "replayed": {}}


def test_mark_replayed_moves_dead_and_parked_rows_once(
    registry: Registry, clock: ManualClock
) -> None:
    """Marking sets state and time; a row already replayed is not counted again."""
    registry.record_dead_letters([letter(1), letter(2, state="parked", quarantine_id=1), letter(3)])
    clock.advance(60)
    assert registry.mark_replayed([1, 2, 404, -1]) == 2
    assert registry.mark_replayed([1, 2]) == 0
    row = registry.get_dead_letter(1)
    assert (row.state, row.replayed_at) == ("replayed", T0 + timedelta(seconds=60))
    assert registry.get_dead_letter(3).state == "dead"
    assert registry.dead_letter_counts("orders")["replayed"] == {"type_mismatch": 2}


def test_park_to_dead_turns_a_rejected_quarantines_rows_into_dead_letters(
    registry: Registry,
) -> None:
    """Only the rows that quarantine parked change: reason drift_rejected, a message naming
    the quarantine; they are returned as they now are."""
    registry.record_dead_letters(
        [
            letter(1, state="parked", quarantine_id=4),
            letter(2, state="parked", quarantine_id=4),
            letter(3, state="parked", quarantine_id=5),
            letter(4, quarantine_id=4),  # dead already: left as it is
        ]
    )
    moved = registry.park_to_dead(4)
    assert ids(moved) == [1, 2]
    assert {(r.state, r.reason) for r in moved} == {("dead", "drift_rejected")}
    assert "quarantine 4" in moved[0].message
    assert registry.get_dead_letter(1).reason == "drift_rejected"
    assert registry.get_dead_letter(3).state == "parked"
    assert registry.get_dead_letter(4).reason == "type_mismatch"
    assert registry.park_to_dead(4) == []
    custom = registry.park_to_dead(5, reason="refused", message="no")
    assert [(r.reason, r.message) for r in custom] == [("refused", "no")]


def test_to_dict_decodes_json_payloads_only() -> None:
    """`data` is the payload when the bytes are strict JSON, else null; `data_base64` always."""
    row = StoredDeadLetter(
        id=1,
        state="dead",
        **{k: getattr(letter(1), k) for k in DeadLetter.__slots__ if k != "state"},
    )
    view = row.to_dict()
    assert view["data"] == {"amount": "1"}
    assert base64.b64decode(view["data_base64"]) == b'{"amount": "1"}'
    assert set(view) == {
        "id", "subject", "reason", "message", "path", "details", "quarantine_id", "headers",
        "time", "state", "replayed_at", "raw_subject", "raw_seq", "data_base64", "data",
    }  # fmt: skip
    for hostile in (b'{"a": NaN}', b"\xff\xfe", b"[" * 10_000, b'{"a":1,"a":2}', b""):
        view = StoredDeadLetter(**{**_fields(row), "data": hostile}).to_dict()
        assert view["data"] is None
        assert base64.b64decode(view["data_base64"]) == hostile


def _fields(row: StoredDeadLetter) -> dict[str, Any]:
    return {name: getattr(row, name) for name in StoredDeadLetter.__slots__}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"msg_id": ""}, "msg_id"),
        ({"msg_id": "x" * 256}, "msg_id"),
        ({"reason": ""}, "reason"),
        ({"reason": "r" * 65}, "reason"),
        ({"state": "replayed"}, "dead or parked"),
        ({"state": "parked"}, "quarantine"),
        ({"quarantine_id": 2**31}, "quarantine_id"),
        ({"raw_seq": -1}, "raw_seq"),
        ({"time": datetime(2026, 1, 1)}, "aware"),
    ],
)
def test_a_dead_letter_checks_its_invariants(changes: dict[str, Any], message: str) -> None:
    """Values the store could not hold, or states a recording cannot have, are refused."""
    with pytest.raises(ValueError, match=message):
        letter(1, **changes)


def test_texts_any_database_cannot_hold_are_made_storable(registry: Registry) -> None:
    """NUL characters and lone surrogates (PostgreSQL and UTF-8 refuse them) are replaced; a
    subject no registry subject can have is recorded as unknown, its name kept in details."""
    hostile = letter(
        1,
        subject="s" * 300,
        message="bad \x00 byte and \ud800 surrogate",
        path="/a\x00",
        headers={"x-h": "v\x00"},
        details=({"code": "c", "message": "\ud800"},),
    )
    cleaned = storable(hostile)
    assert cleaned.subject is None
    assert {"code": "unnamed_subject", "subject": "s" * 300} in cleaned.details
    assert "\x00" not in cleaned.message and "\ud800" not in cleaned.message
    assert registry.record_dead_letters([hostile]) == 1
    stored = registry.get_dead_letter(1)
    assert stored.subject is None and stored.message == cleaned.message
    assert stored.to_dict()["details"][0]["message"] == "\\ud800"
    assert storable(letter(2)) == letter(2)  # ordinary values are left alone
    assert storable(letter(3, subject="tab\tsubject")).subject is None
