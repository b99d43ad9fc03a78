"""Webhook delivery against real HTTP receivers on loopback (SQLite store, in-memory outbox).

Back-off delays are shrunk to milliseconds through DispatcherOptions so the suite stays fast;
the behaviour (order, retries, dead letters, isolation, restarts) is the production code's.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import pytest

from schemashift.monitoring.metrics import Metrics
from schemashift.webhooks import (
    DeliveryStatus,
    DispatcherOptions,
    MemoryOutbox,
    RetryPolicy,
    SignatureError,
    WebhookDispatcher,
    Webhooks,
    WebhookStore,
    verify_signature,
)
from schemashift.webhooks.testing import LoopbackReceiver, ReceivedRequest, Response, hang

T = TypeVar("T")
SECRET = "whsec_integration-secret-0123456789"
FAST = DispatcherOptions(
    retry=RetryPolicy(max_attempts=4, base_delay=0.01, factor=2.0, max_delay=0.05),
    timeout=5.0,
    poll_interval=0.05,
)


@pytest.fixture()
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'webhooks.db'}"


@pytest.fixture()
def store(db_url: str) -> Iterator[WebhookStore]:
    store = WebhookStore.from_url(db_url)
    yield store
    store.close()


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(asyncio.wait_for(scenario(), 120))


@asynccontextmanager
async def running(dispatcher: WebhookDispatcher) -> AsyncIterator[WebhookDispatcher]:
    task = asyncio.create_task(dispatcher.run())
    try:
        yield dispatcher
    finally:
        await dispatcher.stop()
        await asyncio.wait_for(task, 30)


async def wait_until(predicate: Callable[[], Awaitable[bool]], *, timeout: float = 30.0) -> None:
    """Poll a store condition; the timeout only turns a hang into a failure."""
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.02)


async def recorded(store: WebhookStore, status: DeliveryStatus, count: int) -> None:
    """Wait until the store shows ``count`` deliveries in ``status`` (a receiver's 2xx is
    written to the store a moment after the receiver sent it)."""

    async def reached() -> bool:
        return await asyncio.to_thread(store.count, status) == count

    await wait_until(reached)


def subscribe(store: WebhookStore, url: str, *, subjects: Sequence[str] = ("*",)) -> int:
    service = Webhooks(store)
    return service.create(url, subjects=subjects, secret=SECRET).id


def versions(requests: Sequence[ReceivedRequest], subject: str) -> list[int]:
    return [r.json()["data"]["version"] for r in requests if r.json()["subject"] == subject]


def test_a_hundred_versions_arrive_in_order_once_each(store: WebhookStore) -> None:
    """Two interleaved subjects, 100 versions each: per subject the receiver sees 1..100."""
    outbox = MemoryOutbox()
    for version in range(1, 101):
        outbox.append("schema.updated", "orders/created", version=version)
        outbox.append("schema.updated", "payments/settled", version=version)

    async def scenario() -> list[ReceivedRequest]:
        async with LoopbackReceiver() as receiver:
            subscribe(store, receiver.url)
            async with running(WebhookDispatcher(store, outbox, options=FAST)):
                accepted = await receiver.wait_for(200)
                await recorded(store, DeliveryStatus.DELIVERED, 200)
                return accepted

    accepted = run(scenario)
    assert versions(accepted, "orders/created") == list(range(1, 101))
    assert versions(accepted, "payments/settled") == list(range(1, 101))
    assert len({r.json()["id"] for r in accepted}) == 200


def test_a_receiver_failing_three_times_gets_the_event_once_it_recovers(
    store: WebhookStore,
) -> None:
    """503, 500, 429, then 200: four requests with identical id and body; later events wait."""
    outbox = MemoryOutbox()
    outbox.append("schema.updated", "orders/created", version=1)
    outbox.append("schema.updated", "orders/created", version=2)
    answers = iter([503, 500, 429])

    def respond(request: ReceivedRequest) -> Response:
        return next(answers, 200)

    async def scenario() -> LoopbackReceiver:
        async with LoopbackReceiver(respond) as receiver:
            subscribe(store, receiver.url)
            async with running(WebhookDispatcher(store, outbox, options=FAST)):
                await receiver.wait_for(2)
                await recorded(store, DeliveryStatus.DELIVERED, 2)
            return receiver

    receiver = run(scenario)
    first_four = receiver.requests[:4]
    assert len(receiver.requests) == 5
    assert {r.json()["id"] for r in first_four} == {"1-1"}
    assert len({r.body for r in first_four}) == 1  # the same bytes on every retry
    assert [r.json()["id"] for r in receiver.accepted] == ["1-1", "2-1"]
    (second, first) = store.list_deliveries()
    assert (first.status, first.attempts) == (DeliveryStatus.DELIVERED, 4)
    assert [a.outcome for a in store.list_attempts(first.id)] == [
        "retry",
        "retry",
        "retry",
        "delivered",
    ]
    assert [a.status_code for a in store.list_attempts(first.id)] == [503, 500, 429, 200]
    assert second.attempts == 1


def test_hanging_endpoints_never_hold_up_other_subscriptions(store: WebhookStore) -> None:
    """While five subscriptions' first requests hang (30 s timeout), a sixth receives all
    20 events — on two subjects, each in order."""
    outbox = MemoryOutbox()
    for version in range(1, 11):
        outbox.append("schema.updated", "orders/created", version=version)
        outbox.append("schema.updated", "orders/paid", version=version)
    patient = DispatcherOptions(retry=FAST.retry, timeout=30.0, poll_interval=0.05)

    async def scenario() -> tuple[list[LoopbackReceiver], LoopbackReceiver]:
        async with contextlib.AsyncExitStack() as stack:
            stuck = [await stack.enter_async_context(LoopbackReceiver(hang)) for _ in range(5)]
            healthy = await stack.enter_async_context(LoopbackReceiver())
            for receiver in [*stuck, healthy]:
                subscribe(store, receiver.url)
            async with running(WebhookDispatcher(store, outbox, options=patient)):
                await healthy.wait_for(20)
                await recorded(store, DeliveryStatus.DELIVERED, 20)
                # The others are still inside their first attempts: nothing answered.
                for receiver in stuck:
                    await receiver.wait_for_requests(2)  # one per subject, in flight
                    assert receiver.accepted == []
            return stuck, healthy

    stuck, healthy = run(scenario)
    assert versions(healthy.accepted, "orders/created") == list(range(1, 11))
    assert versions(healthy.accepted, "orders/paid") == list(range(1, 11))
    assert all(len(receiver.requests) == 2 for receiver in stuck)
    # Stopping abandoned the hanging attempts without recording them: pending, not lost.
    assert store.count(DeliveryStatus.PENDING) == 5 * 20


def test_a_dead_endpoint_is_dead_lettered_then_resent(store: WebhookStore) -> None:
    """Timeouts until the attempt budget is spent → dead letter (visible, counted); re-send
    after the receiver recovers delivers it with the same id."""
    outbox = MemoryOutbox()
    outbox.append("drift.quarantined", "orders/created", version=3, score=0.4)
    recovered = asyncio.Event()

    async def respond(request: ReceivedRequest) -> Response:
        if not recovered.is_set():
            await hang(request)
        return 204

    options = DispatcherOptions(
        retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02),
        timeout=0.2,
        poll_interval=0.05,
    )
    metrics = Metrics()
    service = Webhooks(store)

    async def scenario() -> LoopbackReceiver:
        async with LoopbackReceiver(respond) as dead, LoopbackReceiver() as alive:
            subscription = service.create(dead.url, secret=SECRET).id
            service.create(alive.url, secret=SECRET)
            dispatcher = WebhookDispatcher(store, outbox, options=options, metrics=metrics)
            service.on_change = dispatcher.wake
            async with running(dispatcher):
                await alive.wait_for(1)

                async def dead_lettered() -> bool:
                    return store.count(DeliveryStatus.DEAD) == 1

                await wait_until(dead_lettered)
                (letter,) = service.deliveries(status=DeliveryStatus.DEAD)
                assert letter.subscription_id == subscription
                assert letter.attempts == 3
                assert letter.last_error == "timeout after 0.2s"

                async def counted() -> bool:
                    # metrics follow the table a moment after the write that the test saw
                    sample = metrics.registry.get_sample_value
                    retries = sample("schemashift_webhook_deliveries_total", {"outcome": "retry"})
                    return sample("schemashift_webhook_dead_letters") == 1 and retries == 3

                await wait_until(counted)
                recovered.set()
                assert service.resend_dead(subscription) == 1
                await dead.wait_for(1)
                await recorded(store, DeliveryStatus.DELIVERED, 2)
            return dead

    dead = run(scenario)
    assert len(dead.requests) == 4  # three timed out, the re-sent one answered
    assert {r.json()["id"] for r in dead.requests} == {"1-1"}
    assert store.count(DeliveryStatus.DEAD) == 0
    (delivery,) = store.list_deliveries(subscription_id=1)
    assert delivery.status is DeliveryStatus.DELIVERED
    outcomes = [a.outcome for a in store.list_attempts(delivery.id)]
    assert outcomes == ["retry", "retry", "retry", "delivered"]


def test_a_refusing_receiver_is_dead_lettered_at_once(store: WebhookStore) -> None:
    """A 4xx answer is the receiver's final word: no retries; the next event still goes."""
    outbox = MemoryOutbox()
    outbox.append("schema.updated", "a", version=1)
    outbox.append("schema.updated", "a", version=2)
    answers = iter([410])

    async def scenario() -> LoopbackReceiver:
        async with LoopbackReceiver(lambda r: next(answers, 200)) as receiver:
            subscribe(store, receiver.url)
            async with running(WebhookDispatcher(store, outbox, options=FAST)):
                await receiver.wait_for(1)
                await recorded(store, DeliveryStatus.DELIVERED, 1)
            return receiver

    receiver = run(scenario)
    assert [r.json()["id"] for r in receiver.requests] == ["1-1", "2-1"]
    (dead,) = store.list_deliveries(status=DeliveryStatus.DEAD)
    assert (dead.seq, dead.attempts, dead.last_status_code) == (1, 1, 410)


def test_every_request_verifies_with_the_sdk_helper(store: WebhookStore) -> None:
    """Signatures verify with schemashift.webhooks.verify; tampering or replay is refused."""
    outbox = MemoryOutbox()
    for version in range(1, 4):
        outbox.append("schema.updated", "orders/created", version=version)

    async def scenario() -> list[ReceivedRequest]:
        async with LoopbackReceiver() as receiver:
            subscribe(store, receiver.url)
            async with running(WebhookDispatcher(store, outbox, options=FAST)):
                return await receiver.wait_for(3)

    accepted = run(scenario)
    now = time.time()
    for request in accepted:
        assert request.headers["content-type"].startswith("application/cloudevents+json")
        assert request.headers["schemashift-event-id"] == request.json()["id"]
        signed_at = verify_signature(SECRET, request.headers, request.body, now=now)
        assert abs(signed_at - now) < 300
        with pytest.raises(SignatureError):
            verify_signature(SECRET, request.headers, request.body + b" ", now=now)
        with pytest.raises(SignatureError):
            verify_signature("wrong-secret-0123456789", request.headers, request.body, now=now)
        with pytest.raises(SignatureError) as replay:
            verify_signature(SECRET, request.headers, request.body, now=now + 3600)
        assert replay.value.reason == "timestamp_out_of_tolerance"


def test_a_restart_mid_delivery_loses_and_reorders_nothing(db_url: str) -> None:
    """Dispatcher 1 is stopped while request 41 hangs; a new dispatcher on a new store
    object (as after a process restart) continues from the persisted state: every version
    arrives, in order, and the interrupted one is re-sent with the same id."""
    outbox = MemoryOutbox()
    for version in range(1, 61):
        outbox.append("schema.updated", "orders/created", version=version)
    restarted = asyncio.Event()

    async def respond(request: ReceivedRequest) -> Response:
        if request.json()["data"]["version"] == 41 and not restarted.is_set():
            await hang(request)
        return 200

    async def scenario() -> LoopbackReceiver:
        async with LoopbackReceiver(respond) as receiver:
            first = WebhookStore.from_url(db_url)
            subscribe(first, receiver.url)
            async with running(WebhookDispatcher(first, outbox, options=FAST)):
                await receiver.wait_for_requests(41)
            first.close()
            for version in range(61, 101):  # written while no dispatcher runs
                outbox.append("schema.updated", "orders/created", version=version)
            restarted.set()
            second = WebhookStore.from_url(db_url)
            try:
                async with running(WebhookDispatcher(second, outbox, options=FAST)):
                    await receiver.wait_for(100)
                    await recorded(second, DeliveryStatus.DELIVERED, 100)
                assert len(second.list_deliveries(limit=1000)) == 100  # fan-out not repeated
            finally:
                second.close()
            return receiver

    receiver = run(scenario)
    assert versions(receiver.accepted, "orders/created") == list(range(1, 101))
    ids_of_41 = [r.json()["id"] for r in receiver.requests if r.json()["data"]["version"] == 41]
    assert ids_of_41 == ["41-1", "41-1"]


def test_two_dispatchers_on_one_database_deliver_each_event_once(db_url: str) -> None:
    """The lease elects one dispatcher; the other stands by (no duplicate deliveries)."""
    outbox = MemoryOutbox()
    for version in range(1, 31):
        outbox.append("schema.updated", "orders/created", version=version)

    async def scenario() -> LoopbackReceiver:
        one, two = WebhookStore.from_url(db_url), WebhookStore.from_url(db_url)
        try:
            async with LoopbackReceiver() as receiver:
                subscribe(one, receiver.url)
                async with (
                    running(WebhookDispatcher(one, outbox, options=FAST, holder="one")),
                    running(WebhookDispatcher(two, outbox, options=FAST, holder="two")),
                ):
                    await receiver.wait_for(30)
                    await asyncio.sleep(0.2)  # let a duplicate, if any, arrive
                return receiver
        finally:
            one.close()
            two.close()

    receiver = run(scenario)
    assert versions(receiver.requests, "orders/created") == list(range(1, 31))


def test_deliveries_go_to_the_checked_address_and_are_rechecked(store: WebhookStore) -> None:
    """A name that later resolves to the metadata address (DNS rebinding) is refused at
    delivery time; while it resolved to loopback the request carried the original Host."""
    outbox = MemoryOutbox()
    outbox.append("schema.updated", "a", version=1)
    answers: dict[str, list[str]] = {"hooks.example.test": ["127.0.0.1"]}

    def resolver(host: str, port: int) -> list[str]:
        return answers[host]

    async def scenario() -> LoopbackReceiver:
        async with LoopbackReceiver() as receiver:
            url = f"http://hooks.example.test:{receiver.port}/hook"
            service = Webhooks(store, resolver=resolver)
            service.create(url, secret=SECRET)
            dispatcher = WebhookDispatcher(store, outbox, options=FAST, resolver=resolver)
            async with running(dispatcher):
                await receiver.wait_for(1)
                answers["hooks.example.test"] = ["169.254.169.254"]
                outbox.append("schema.updated", "a", version=2)
                dispatcher.wake()

                async def refused() -> bool:
                    return store.count(DeliveryStatus.DEAD) == 1

                await wait_until(refused)
            return receiver

    receiver = run(scenario)
    assert len(receiver.requests) == 1
    assert receiver.requests[0].headers["host"] == f"hooks.example.test:{receiver.port}"
    (dead,) = store.list_deliveries(status=DeliveryStatus.DEAD)
    assert dead.last_error is not None and "metadata" in dead.last_error


def test_a_disabled_subscription_keeps_its_events_until_enabled(store: WebhookStore) -> None:
    """Pausing a subscription queues its deliveries; enabling it sends them, in order."""
    outbox = MemoryOutbox()
    for version in range(1, 4):
        outbox.append("schema.updated", "a", version=version)
    service = Webhooks(store)

    async def scenario() -> LoopbackReceiver:
        async with LoopbackReceiver() as receiver:
            subscription = service.create(receiver.url, secret=SECRET, enabled=False)
            dispatcher = WebhookDispatcher(store, outbox, options=FAST)
            service.on_change = dispatcher.wake
            async with running(dispatcher):

                async def queued() -> bool:
                    return store.count(DeliveryStatus.PENDING) == 3

                await wait_until(queued)
                assert receiver.requests == []
                service.update(subscription.id, enabled=True)
                await receiver.wait_for(3)
            return receiver

    receiver = run(scenario)
    assert versions(receiver.accepted, "a") == [1, 2, 3]


def test_subject_patterns_and_kinds_filter_what_is_sent(store: WebhookStore) -> None:
    """Only records of a wanted kind about a fully matching subject become deliveries."""
    outbox = MemoryOutbox()
    outbox.append("schema.updated", "orders/created", version=1)
    outbox.append("schema.updated", "legacy-orders/created", version=1)
    outbox.append("drift.quarantined", "orders/created", version=2)
    outbox.append("version.sunset", "orders/created", version=1)

    async def scenario() -> LoopbackReceiver:
        async with LoopbackReceiver() as receiver:
            Webhooks(store).create(
                receiver.url,
                subjects=["orders/*"],
                kinds=["schema.updated", "version.sunset"],
                secret=SECRET,
            )
            async with running(WebhookDispatcher(store, outbox, options=FAST)):
                await receiver.wait_for(2)

                async def fanned_out() -> bool:
                    return store.cursor() == 4

                await wait_until(fanned_out)
            return receiver

    receiver = run(scenario)
    assert [(r.json()["type"], r.json()["subject"]) for r in receiver.accepted] == [
        ("io.schemashift.schema.updated", "orders/created"),
        ("io.schemashift.version.sunset", "orders/created"),
    ]
    assert len(store.list_deliveries()) == 2


def test_injected_clock_sleep_and_random_drive_the_schedule(store: WebhookStore) -> None:
    """With a fake clock the recorded next-attempt times follow the policy exactly."""
    outbox = MemoryOutbox()
    outbox.append("schema.updated", "a", version=1)
    fake_now = [1_000_000.0]
    policy = RetryPolicy(max_attempts=3, base_delay=10.0, factor=3.0, jitter=0.5)

    async def fake_sleep(seconds: float) -> None:
        if seconds >= 1000.0:  # the poll wait: sleep "forever" (wake-ups still end it)
            await asyncio.Event().wait()
        fake_now[0] += seconds  # time passes only when a retry waits
        await asyncio.sleep(0)

    async def scenario() -> LoopbackReceiver:
        async with LoopbackReceiver(lambda r: 503) as receiver:
            subscribe(store, receiver.url)
            dispatcher = WebhookDispatcher(
                store,
                outbox,
                options=DispatcherOptions(retry=policy, timeout=5.0, poll_interval=1000.0),
                clock=lambda: fake_now[0],
                sleep=fake_sleep,
                rand=lambda: 0.5,
            )
            async with running(dispatcher):

                async def dead() -> bool:
                    return store.count(DeliveryStatus.DEAD) == 1

                await wait_until(dead)
            return receiver

    receiver = run(scenario)
    assert len(receiver.requests) == 3
    (delivery,) = store.list_deliveries()
    times = [a.at for a in store.list_attempts(delivery.id)]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # 10·(1−0.5·0.5) = 7.5 s, then 30·0.75 = 22.5 s (clock advanced by the injected sleep).
    assert gaps == [pytest.approx(7.5), pytest.approx(22.5)]


def test_redirects_are_not_followed(store: WebhookStore) -> None:
    """A 3xx is the receiver's final word: the Location (here the metadata address) is
    never contacted and the delivery is dead-lettered with the reason."""
    outbox = MemoryOutbox()
    outbox.append("schema.updated", "a", version=1)
    moved = {"Location": "http://169.254.169.254/latest/meta-data/"}

    async def scenario() -> LoopbackReceiver:
        async with LoopbackReceiver(lambda r: (302, moved)) as receiver:
            subscribe(store, receiver.url)
            async with running(WebhookDispatcher(store, outbox, options=FAST)):
                await recorded(store, DeliveryStatus.DEAD, 1)
            return receiver

    receiver = run(scenario)
    assert len(receiver.requests) == 1
    (dead,) = store.list_deliveries()
    assert dead.last_error == "HTTP 302 (redirects are not followed)"


def test_retry_after_is_honoured(store: WebhookStore) -> None:
    """A 429 with Retry-After: 120 waits 120 s (fake clock), longer than the back-off."""
    outbox = MemoryOutbox()
    outbox.append("schema.updated", "a", version=1)
    fake_now = [2_000_000.0]
    answers = iter([(429, {"Retry-After": "120"})])

    async def fake_sleep(seconds: float) -> None:
        if seconds >= 1000.0:
            await asyncio.Event().wait()
        fake_now[0] += seconds
        await asyncio.sleep(0)

    async def scenario() -> None:
        async with LoopbackReceiver(lambda r: next(answers, 200)) as receiver:
            subscribe(store, receiver.url)
            dispatcher = WebhookDispatcher(
                store,
                outbox,
                options=DispatcherOptions(
                    retry=RetryPolicy(base_delay=10.0, jitter=0.0),
                    timeout=5.0,
                    poll_interval=1000.0,
                ),
                clock=lambda: fake_now[0],
                sleep=fake_sleep,
            )
            async with running(dispatcher):
                await recorded(store, DeliveryStatus.DELIVERED, 1)

    run(scenario)
    (delivery,) = store.list_deliveries()
    first, second = (a.at for a in store.list_attempts(delivery.id))
    assert second - first == pytest.approx(120.0)
