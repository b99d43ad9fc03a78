"""One contract suite for every Bus adapter: the in-process bus and real NATS JetStream.

Each test is written once against the :class:`~schemashift.bus.base.Bus` seam and runs twice,
so the memory default cannot drift from the distributed engine's semantics.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest

from schemashift.bus import (
    Bus,
    DeliverPolicy,
    MemoryBus,
    OutgoingMessage,
    SubscribeOptions,
    connect_bus,
)
from schemashift.errors import BusError
from tests.support.servers import NatsServer

BusFactory = Callable[[], Awaitable[Bus]]
Scenario = Callable[[Bus], Coroutine[Any, Any, None]]


@pytest.fixture(params=["memory", pytest.param("nats", marks=pytest.mark.nats)])
def run_on_bus(request: pytest.FixtureRequest) -> Callable[[Scenario], None]:
    """Run an async scenario against a fresh bus of the parametrised kind."""
    if request.param == "nats":
        server: NatsServer = request.getfixturevalue("nats_server")
        url = server.url
    else:
        url = "memory://"

    def run(scenario: Scenario) -> None:
        async def main() -> None:
            bus = await connect_bus(url)
            try:
                await scenario(bus)
            finally:
                await bus.close()

        asyncio.run(main())

    return run


RAW = "schemashift.raw.orders"


def test_published_messages_arrive_in_order_with_headers(
    run_on_bus: Callable[[Scenario], None],
) -> None:
    """A durable consumer receives every message once, in publish order, headers intact."""

    async def scenario(bus: Bus) -> None:
        for i in range(5):
            await bus.publish(RAW, f"m{i}".encode(), headers={"ce-type": "t", "n": str(i)})
        sub = await bus.subscribe("schemashift.raw.>", durable="c1")
        got = await _drain(sub, want=5)
        assert [m.data for m in got] == [f"m{i}".encode() for i in range(5)]
        assert [m.headers["n"] for m in got] == ["0", "1", "2", "3", "4"]
        assert all(m.headers["ce-type"] == "t" and m.delivery_count == 1 for m in got)
        assert [m.subject for m in got] == [RAW] * 5
        seqs = [m.stream_seq for m in got]
        assert seqs == sorted(seqs) and len(set(seqs)) == 5
        await sub.close()

    run_on_bus(scenario)


def test_msg_id_deduplicates_publishes(run_on_bus: Callable[[Scenario], None]) -> None:
    """Publishing twice with the same message id stores the message once."""

    async def scenario(bus: Bus) -> None:
        await bus.publish(RAW, b"a", msg_id="id-1")
        await bus.publish(RAW, b"a-again", msg_id="id-1")
        await bus.publish(RAW, b"b", msg_id="id-2")
        await bus.publish_many([OutgoingMessage(RAW, b"b-again", msg_id="id-2")])
        sub = await bus.subscribe(RAW, durable="dedup")
        got = await _drain(sub, want=2)
        assert [m.data for m in got] == [b"a", b"b"]
        assert await sub.fetch(10, 0.3) == []

    run_on_bus(scenario)


def test_subscriptions_sharing_a_durable_split_the_work(
    run_on_bus: Callable[[Scenario], None],
) -> None:
    """Two subscriptions bound to one durable consumer see each message exactly once in total."""

    async def scenario(bus: Bus) -> None:
        await bus.publish_many([OutgoingMessage(RAW, str(i).encode()) for i in range(40)])
        first = await bus.subscribe(RAW, durable="shared")
        second = await bus.subscribe(RAW, durable="shared")
        seen: list[bytes] = []
        for _ in range(20):
            for sub in (first, second):
                for m in await sub.fetch(3, 0.2):
                    seen.append(m.data)
                    await m.ack()
            if len(seen) >= 40:
                break
        assert sorted(seen, key=int) == [str(i).encode() for i in range(40)]

    run_on_bus(scenario)


def test_unacked_message_is_redelivered_after_ack_wait(
    run_on_bus: Callable[[Scenario], None],
) -> None:
    """A message not acknowledged within ack_wait comes back with delivery_count 2, same seq."""

    async def scenario(bus: Bus) -> None:
        await bus.publish(RAW, b"x")
        sub = await bus.subscribe(RAW, durable="slow", options=SubscribeOptions(ack_wait=1.0))
        [first] = await sub.fetch(1, 2.0)
        again = await _drain(sub, want=1, timeout=5.0)
        assert again[0].data == b"x" and again[0].delivery_count == 2
        assert again[0].stream_seq == first.stream_seq

    run_on_bus(scenario)


def test_nak_redelivers_and_max_deliver_bounds_it(run_on_bus: Callable[[Scenario], None]) -> None:
    """nak asks for redelivery; after max_deliver deliveries the message stops coming."""

    async def scenario(bus: Bus) -> None:
        await bus.publish(RAW, b"poison")
        sub = await bus.subscribe(
            RAW, durable="naks", options=SubscribeOptions(ack_wait=5.0, max_deliver=3)
        )
        counts: list[int] = []
        for _ in range(10):
            msgs = await sub.fetch(1, 0.5)
            for m in msgs:
                counts.append(m.delivery_count)
                await m.nak()
            if not msgs and counts:
                break
        assert counts == [1, 2, 3]

    run_on_bus(scenario)


def test_term_stops_redelivery(run_on_bus: Callable[[Scenario], None]) -> None:
    """A terminated message is never delivered again, even after ack_wait passes."""

    async def scenario(bus: Bus) -> None:
        await bus.publish(RAW, b"dead")
        sub = await bus.subscribe(RAW, durable="term", options=SubscribeOptions(ack_wait=1.0))
        [m] = await sub.fetch(1, 2.0)
        await m.term()
        assert await sub.fetch(1, 1.5) == []

    run_on_bus(scenario)


def test_durable_consumer_resumes_after_reconnect(run_on_bus: Callable[[Scenario], None]) -> None:
    """Closing and re-binding a durable consumer continues after the last acknowledged message."""

    async def scenario(bus: Bus) -> None:
        await bus.publish_many([OutgoingMessage(RAW, str(i).encode()) for i in range(6)])
        sub = await bus.subscribe(RAW, durable="resume")
        await _drain(sub, want=3, batch=3)
        await sub.close()
        await bus.publish(RAW, b"6")
        again = await bus.subscribe(RAW, durable="resume")
        got = await _drain(again, want=4)
        assert [m.data for m in got] == [b"3", b"4", b"5", b"6"]

    run_on_bus(scenario)


def test_deliver_new_skips_stored_messages(run_on_bus: Callable[[Scenario], None]) -> None:
    """A consumer created with DeliverPolicy.NEW only sees messages published afterwards."""

    async def scenario(bus: Bus) -> None:
        await bus.publish(RAW, b"old")
        sub = await bus.subscribe(
            RAW, durable="fresh", options=SubscribeOptions(deliver=DeliverPolicy.NEW)
        )
        await bus.publish(RAW, b"new")
        got = await _drain(sub, want=1)
        assert [m.data for m in got] == [b"new"]

    run_on_bus(scenario)


def test_filter_subject_selects_messages(run_on_bus: Callable[[Scenario], None]) -> None:
    """A consumer filtered on one subject does not receive the stream's other subjects."""

    async def scenario(bus: Bus) -> None:
        await bus.publish("schemashift.events.a", b"1")
        await bus.publish("schemashift.events.b", b"2")
        await bus.publish("schemashift.events.a", b"3")
        sub = await bus.subscribe("schemashift.events.a", durable="only-a")
        got = await _drain(sub, want=2)
        assert [m.data for m in got] == [b"1", b"3"]
        assert await sub.fetch(5, 0.3) == []

    run_on_bus(scenario)


def test_publishing_outside_the_streams_fails(run_on_bus: Callable[[Scenario], None]) -> None:
    """A subject no stream captures is refused with BusError instead of being lost."""

    async def scenario(bus: Bus) -> None:
        with pytest.raises(BusError):
            await bus.publish("elsewhere.raw.x", b"1")

    run_on_bus(scenario)


def test_connected_bus_is_reachable(run_on_bus: Callable[[Scenario], None]) -> None:
    """A freshly connected bus reports no outage."""

    async def scenario(bus: Bus) -> None:
        assert bus.unreachable_for() == 0.0
        assert bus.prefix == "schemashift"

    run_on_bus(scenario)


def test_ephemeral_consumers_each_see_everything(run_on_bus: Callable[[Scenario], None]) -> None:
    """Two ephemeral subscriptions do not share work: each receives every message."""

    async def scenario(bus: Bus) -> None:
        first = await bus.subscribe("schemashift.schemas.>", durable=None)
        second = await bus.subscribe("schemashift.schemas.>", durable=None)
        await bus.publish("schemashift.schemas.a", b"v1")
        await bus.publish("schemashift.schemas.b", b"v2")
        for sub in (first, second):
            got = await _drain(sub, want=2)
            assert [m.data for m in got] == [b"v1", b"v2"]
            await sub.close()
        late = await bus.subscribe(
            "schemashift.schemas.>",
            durable=None,
            options=SubscribeOptions(deliver=DeliverPolicy.NEW),
        )
        assert await late.fetch(5, 0.3) == []
        await late.close()

    run_on_bus(scenario)


def test_memory_url_gives_a_memory_bus() -> None:
    """connect_bus maps memory:// to the in-process adapter and honours ?prefix=."""

    async def main() -> None:
        bus = await connect_bus("memory://?prefix=acme")
        assert isinstance(bus, MemoryBus) and bus.prefix == "acme"
        with pytest.raises(ValueError):
            await connect_bus("kafka://x")

    asyncio.run(main())


async def _drain(sub: Any, *, want: int, batch: int = 10, timeout: float = 5.0) -> list[Any]:
    """Fetch and ack until ``want`` messages arrived (or the time budget is spent)."""
    got: list[Any] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(got) < want and loop.time() < deadline:
        for m in await sub.fetch(min(batch, want - len(got)), 0.5):
            got.append(m)
            await m.ack()
    return got
