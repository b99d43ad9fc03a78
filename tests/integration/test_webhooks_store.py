"""The webhook store's contract, run against SQLite and a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemashift.webhooks.errors import DeliveryNotFoundError, SubscriptionNotFoundError
from schemashift.webhooks.model import DeliveryStatus, EventKind
from schemashift.webhooks.store import NewDelivery, WebhookStore, engine_from_url
from schemashift.webhooks.tables import metadata

SECRET = "whsec_store-contract-0123456789"
KINDS = frozenset(EventKind)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[WebhookStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = engine_from_url(url)
    metadata.drop_all(engine)  # the PostgreSQL server is shared by the session: start clean
    store = WebhookStore(engine)
    store.create_tables()
    yield store
    metadata.drop_all(engine)
    store.close()


def add(store: WebhookStore, url: str = "http://127.0.0.1:1/hook") -> int:
    return store.add_subscription(url=url, subjects=["*"], kinds=KINDS, secret=SECRET, now=1.0).id


def new(sub: int, seq: int, subject: str = "s") -> NewDelivery:
    return NewDelivery(sub, seq, subject, "schema.updated", f"{seq}-{sub}", b"{}")


def test_subscriptions_round_trip(store: WebhookStore) -> None:
    sub = store.add_subscription(
        url="https://hooks.example/x",
        subjects=["orders/*", "re:payments/(settled|refunded)"],
        kinds=[EventKind.SCHEMA_UPDATED, EventKind.VERSION_SUNSET],
        secret=SECRET,
        description="billing",
        now=5.0,
    )
    again = store.get_subscription(sub.id)
    assert again == sub
    assert again.subjects == ("orders/*", "re:payments/(settled|refunded)")
    assert again.kinds == {EventKind.SCHEMA_UPDATED, EventKind.VERSION_SUNSET}
    changed = store.update_subscription(sub.id, enabled=False, subjects=["x"])
    assert (changed.enabled, changed.subjects, changed.url) == (False, ("x",), sub.url)
    assert [s.id for s in store.list_subscriptions()] == [sub.id]


def test_unknown_ids_raise_not_found(store: WebhookStore) -> None:
    with pytest.raises(SubscriptionNotFoundError):
        store.get_subscription(999)
    with pytest.raises(SubscriptionNotFoundError):
        store.update_subscription(999, enabled=True)
    with pytest.raises(SubscriptionNotFoundError):
        store.delete_subscription(999)
    with pytest.raises(DeliveryNotFoundError):
        store.get_delivery(999)
    with pytest.raises(DeliveryNotFoundError):
        store.resend(999, now=1.0)


def test_fan_out_moves_the_cursor_with_the_deliveries(store: WebhookStore) -> None:
    sub = add(store)
    assert store.cursor() == 0
    assert store.fan_out(0, 3, [new(sub, 1), new(sub, 2), new(sub, 3)], now=1.0)
    assert store.cursor() == 3
    assert [d.seq for d in store.list_deliveries()] == [3, 2, 1]


def test_a_stale_fan_out_writes_nothing(store: WebhookStore) -> None:
    """Compare-and-set on the cursor: a second dispatcher with an old view loses cleanly."""
    sub = add(store)
    assert store.fan_out(0, 2, [new(sub, 1), new(sub, 2)], now=1.0)
    assert not store.fan_out(0, 2, [new(sub, 1), new(sub, 2)], now=1.0)
    assert not store.fan_out(1, 4, [new(sub, 4)], now=1.0)
    assert store.cursor() == 2
    assert len(store.list_deliveries()) == 2


def test_fan_out_skips_subscriptions_deleted_meanwhile(store: WebhookStore) -> None:
    kept, gone = add(store), add(store)
    store.delete_subscription(gone)
    assert store.fan_out(0, 1, [new(kept, 1), new(gone, 1)], now=1.0)
    assert [d.subscription_id for d in store.list_deliveries()] == [kept]


def test_queue_heads_can_return_each_subjects_queue_in_order(store: WebhookStore) -> None:
    sub = add(store)
    subjects = ["a", "b", "a", "a", "b", "c", "a"]
    store.fan_out(0, 7, [new(sub, n, s) for n, s in enumerate(subjects, 1)], now=1.0)
    queued = store.queue_heads(sub, per_subject=3)
    assert [(d.seq, d.subject) for d in queued] == [
        (1, "a"),
        (2, "b"),
        (3, "a"),
        (4, "a"),
        (5, "b"),
        (6, "c"),
    ]


def test_queue_heads_are_the_oldest_pending_per_subject(store: WebhookStore) -> None:
    sub = add(store)
    batch = [new(sub, 1, "a"), new(sub, 2, "b"), new(sub, 3, "a"), new(sub, 4, "c")]
    store.fan_out(0, 4, batch, now=1.0)
    heads = store.queue_heads(sub)
    assert [(d.seq, d.subject) for d in heads] == [(1, "a"), (2, "b"), (4, "c")]
    store.record_attempt(
        heads[0],
        at=2.0,
        outcome="delivered",
        status=DeliveryStatus.DELIVERED,
        next_attempt_at=2.0,
        status_code=200,
        error=None,
    )
    store.record_attempt(
        heads[1],
        at=2.0,
        outcome="failed",
        status=DeliveryStatus.DEAD,
        next_attempt_at=2.0,
        status_code=400,
        error="HTTP 400",
    )
    assert [d.seq for d in store.queue_heads(sub)] == [3, 4]


def test_resend_gives_a_fresh_budget_and_keeps_the_attempt_log(store: WebhookStore) -> None:
    sub = add(store)
    store.fan_out(0, 1, [new(sub, 1)], now=1.0)
    (delivery,) = store.queue_heads(sub)
    dead = store.record_attempt(
        delivery,
        at=2.0,
        outcome="retry",
        status=DeliveryStatus.DEAD,
        next_attempt_at=2.0,
        status_code=503,
        error="HTTP 503",
    )
    assert (dead.status, dead.attempts) == (DeliveryStatus.DEAD, 1)
    assert store.count(DeliveryStatus.DEAD) == 1
    again = store.resend(dead.id, now=3.0)
    assert (again.status, again.attempts, again.next_attempt_at) == (DeliveryStatus.PENDING, 0, 3.0)
    store.record_attempt(
        again,
        at=4.0,
        outcome="delivered",
        status=DeliveryStatus.DELIVERED,
        next_attempt_at=4.0,
        status_code=200,
        error=None,
    )
    assert [(a.number, a.outcome) for a in store.list_attempts(dead.id)] == [
        (1, "retry"),
        (2, "delivered"),
    ]
    assert store.get_delivery(dead.id).delivered_at == 4.0


def test_resend_dead_requeues_only_dead_letters_of_the_subscription(store: WebhookStore) -> None:
    one, two = add(store), add(store)
    store.fan_out(0, 2, [new(one, 1), new(two, 1), new(one, 2)], now=1.0)
    for delivery in store.list_deliveries():
        store.record_attempt(
            delivery,
            at=2.0,
            outcome="failed",
            status=DeliveryStatus.DEAD,
            next_attempt_at=2.0,
            status_code=404,
            error="HTTP 404",
        )
    assert store.resend_dead(subscription_id=one, now=3.0) == 2
    assert store.count(DeliveryStatus.DEAD) == 1
    assert store.count(DeliveryStatus.PENDING, subscription_id=one) == 2


def test_deleting_a_subscription_deletes_its_deliveries(store: WebhookStore) -> None:
    one, two = add(store), add(store)
    store.fan_out(0, 1, [new(one, 1), new(two, 1)], now=1.0)
    (in_flight,) = store.queue_heads(one)
    store.delete_subscription(one)
    assert [d.subscription_id for d in store.list_deliveries()] == [two]
    # An attempt that was in flight during the deletion records nothing.
    late = store.record_attempt(
        in_flight,
        at=2.0,
        outcome="delivered",
        status=DeliveryStatus.DELIVERED,
        next_attempt_at=2.0,
        status_code=200,
        error=None,
    )
    assert late is None
    assert store.list_attempts(in_flight.id) == []


def test_deliveries_page_newest_first(store: WebhookStore) -> None:
    sub = add(store)
    store.fan_out(0, 5, [new(sub, n) for n in range(1, 6)], now=1.0)
    first = store.list_deliveries(limit=2)
    rest = store.list_deliveries(limit=10, before_id=first[-1].id)
    assert [d.seq for d in first + rest] == [5, 4, 3, 2, 1]


def test_pruning_forgets_old_deliveries_but_never_dead_or_pending(store: WebhookStore) -> None:
    sub = add(store)
    store.fan_out(0, 4, [new(sub, n) for n in range(1, 5)], now=1.0)
    outcomes = {
        1: (DeliveryStatus.DELIVERED, 10.0),
        2: (DeliveryStatus.DELIVERED, 50.0),
        3: (DeliveryStatus.DEAD, 10.0),
    }
    for delivery in store.list_deliveries():
        if delivery.seq in outcomes:
            status, at = outcomes[delivery.seq]
            store.record_attempt(
                delivery,
                at=at,
                outcome=status.value,
                status=status,
                next_attempt_at=at,
                status_code=200,
                error=None,
            )
    assert store.prune_delivered(before=20.0) == 1
    assert sorted(d.seq for d in store.list_deliveries()) == [2, 3, 4]
    assert store.list_attempts(1) == []


def test_the_lease_has_one_holder_until_it_expires(store: WebhookStore) -> None:
    assert store.try_lease("d", "a", now=100.0, ttl=30.0)
    assert not store.try_lease("d", "b", now=110.0, ttl=30.0)
    assert store.try_lease("d", "a", now=120.0, ttl=30.0)  # renewed to 150
    assert not store.try_lease("d", "b", now=149.0, ttl=30.0)
    assert store.try_lease("d", "b", now=151.0, ttl=30.0)  # expired: taken over
    store.release_lease("d", "b")
    assert store.try_lease("d", "a", now=152.0, ttl=30.0)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    subjects=st.lists(st.sampled_from("abc"), min_size=1, max_size=25),
    outcomes=st.lists(st.sampled_from(["delivered", "dead", "retry"]), min_size=60, max_size=60),
)
def test_draining_by_heads_keeps_every_subject_in_order(
    subjects: list[str], outcomes: list[str]
) -> None:
    """Whatever the outcomes, each subject's deliveries are finished in seq order, and every
    delivery ends delivered or dead (none lost)."""
    store = WebhookStore.from_url("sqlite://")
    try:
        sub = add(store)
        store.fan_out(
            0, len(subjects), [new(sub, n, s) for n, s in enumerate(subjects, 1)], now=0.0
        )
        finished: list[tuple[str, int]] = []
        steps = iter(outcomes)
        while heads := store.queue_heads(sub):
            for head in heads:
                outcome = next(steps, "delivered")
                status = {
                    "delivered": DeliveryStatus.DELIVERED,
                    "dead": DeliveryStatus.DEAD,
                    "retry": DeliveryStatus.PENDING,
                }[outcome]
                store.record_attempt(
                    head,
                    at=1.0,
                    outcome=outcome,
                    status=status,
                    next_attempt_at=1.0,
                    status_code=None,
                    error=None,
                )
                if status is not DeliveryStatus.PENDING:
                    finished.append((head.subject, head.seq))
        for subject in set(subjects):
            seqs = [seq for s, seq in finished if s == subject]
            assert seqs == sorted(seqs)
        assert len(finished) == len(subjects)
        assert store.count(DeliveryStatus.PENDING) == 0
    finally:
        store.close()
