"""Subscriptions and CloudEvent bodies: anchored patterns, kinds, stable ids and bytes."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemashift.webhooks.errors import InvalidSubscriptionError
from schemashift.webhooks.events import cloudevent, encode_event, event_id
from schemashift.webhooks.memory import MemoryOutbox, MemoryOutboxRecord
from schemashift.webhooks.model import EventKind, Subscription, parse_kinds

SECRET = "s" * 32


def subscription(*patterns: str, kinds: tuple[str, ...] = ("schema.updated",)) -> Subscription:
    return Subscription(1, "http://127.0.0.1/", patterns, parse_kinds(kinds), SECRET)


@pytest.mark.parametrize(
    ("pattern", "subject", "wanted"),
    [
        ("orders/*", "orders/created", True),
        ("orders/*", "legacy-orders/created", False),  # anchored at the start
        ("orders", "orders/created", False),  # and at the end
        ("orders", "orders", True),
        ("orders/v?", "orders/v2", True),
        ("orders/v?", "orders/v10", False),
        ("orders.*", "orders/created", False),  # a glob: the dot is a dot
        ("re:orders/created|payments/.*", "payments/x", True),
        ("re:orders/created|payments/.*", "orders/created-v2", False),  # alternation anchored
        ("*", "anything/at/all", True),
    ],
)
def test_subject_patterns_match_the_whole_subject(pattern: str, subject: str, wanted: bool) -> None:
    assert subscription(pattern).wants("schema.updated", subject) is wanted


def test_event_kinds_are_the_registry_outbox_kinds() -> None:
    """The kinds a subscription can ask for are exactly those the registry writes."""
    from schemashift.registry.records import OutboxKind

    assert {k.value for k in EventKind} == {k.value for k in OutboxKind}


def test_only_the_chosen_kinds_are_wanted() -> None:
    sub = subscription("*", kinds=("drift.quarantined", "version.sunset"))
    assert sub.wants("drift.quarantined", "a")
    assert not sub.wants("schema.updated", "a")
    assert not sub.wants("some.future.kind", "a")


@pytest.mark.parametrize(
    "build",
    [
        lambda: subscription("re:("),  # not a regular expression
        lambda: subscription(""),
        lambda: subscription("a" * 300),
        lambda: subscription(),  # no pattern
        lambda: subscription("*", kinds=("schema.deleted",)),
        lambda: subscription("*", kinds=()),
        lambda: Subscription(1, "http://x/", ("*",), frozenset(EventKind), "short"),
    ],
)
def test_invalid_subscriptions_are_refused(build: object) -> None:
    with pytest.raises(InvalidSubscriptionError):
        build()  # type: ignore[operator]


def test_the_secret_stays_out_of_repr_and_default_dicts() -> None:
    sub = subscription("*")
    assert SECRET not in repr(sub)
    assert "secret" not in sub.to_dict()
    assert sub.to_dict(include_secret=True)["secret"] == SECRET


def record(seq: int = 7) -> MemoryOutboxRecord:
    return MemoryOutboxRecord(
        seq=seq,
        kind="schema.updated",
        subject="orders/created",
        version=3,
        schema_id=11,
        schema='{"type":"object"}',
        changes=({"path": "/a", "code": "field_added"},),
        score=0.25,
        time=datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
    )


def test_cloudevent_is_structured_cloudevents_1_0() -> None:
    event = cloudevent(record(), 4, source="shop-registry", registry_url="http://r.example/")
    assert event["specversion"] == "1.0"
    assert event["id"] == "7-4" == event_id(7, 4)
    assert event["type"] == "io.schemashift.schema.updated"
    assert event["source"] == "shop-registry"
    assert event["subject"] == "orders/created"
    assert event["time"] == "2026-05-01T12:00:00Z"
    assert event["sequence"] == "7"
    assert event["dataschema"] == "http://r.example/subjects/orders%2Fcreated/versions/3/schema"
    assert event["data"] == {
        "seq": 7,
        "kind": "schema.updated",
        "subject": "orders/created",
        "version": 3,
        "schema_id": 11,
        "schema": {"type": "object"},  # canonical text decoded
        "changes": [{"path": "/a", "code": "field_added"}],
        "score": 0.25,
        "time": "2026-05-01T12:00:00Z",
        "quarantine_id": None,
    }


def test_the_data_is_keyed_like_the_registry_outbox_record() -> None:
    """Webhook and bus consumers parse one shape: OutboxRecord.to_dict()'s keys."""
    from schemashift.registry.records import OutboxKind, OutboxRecord

    real = OutboxRecord(
        seq=9,
        kind=OutboxKind.DRIFT_QUARANTINED,
        subject="s",
        version=None,
        schema_id=None,
        schema={"type": "object"},
        changes=(),
        score=0.5,
        time=datetime(2026, 5, 1, tzinfo=UTC),
        quarantine_id=4,
    )
    data = cloudevent(real, 1)["data"]
    assert set(data) == set(real.to_dict())
    assert (data["kind"], data["quarantine_id"]) == ("drift.quarantined", 4)
    assert "dataschema" not in cloudevent(real, 1, registry_url="http://r")


@settings(max_examples=50)
@given(seq=st.integers(min_value=1, max_value=2**53), sub=st.integers(min_value=1, max_value=2**31))
def test_event_ids_are_unique_per_record_and_subscription(seq: int, sub: int) -> None:
    """Distinct (seq, subscription) pairs never share an id; the same pair always does."""
    assert event_id(seq, sub) == event_id(seq, sub)
    assert event_id(seq, sub) != event_id(seq + 1, sub)
    assert event_id(seq, sub) != event_id(seq, sub + 1)
    seq_text, sub_text = event_id(seq, sub).split("-")
    assert (int(seq_text), int(sub_text)) == (seq, sub)


def test_the_body_is_deterministic() -> None:
    """Encoding the same record twice gives the same bytes (what retries re-send)."""
    first = encode_event(cloudevent(record(), 2))
    assert first == encode_event(cloudevent(record(), 2))
    assert orjson.loads(first)["id"] == "7-2"


def test_memory_outbox_reads_after_a_cursor() -> None:
    outbox = MemoryOutbox()
    for n in range(5):
        outbox.append("schema.updated", "s", version=n + 1)
    assert [r.seq for r in outbox.read_outbox(0, 2)] == [1, 2]
    assert [r.seq for r in outbox.read_outbox(3, 10)] == [4, 5]
    assert outbox.read_outbox(5, 10) == []
