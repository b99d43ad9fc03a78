"""What only the in-process bus has: back-pressure, bounded retention, wildcard matching."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemashift.bus import MemoryBus, SubscribeOptions
from schemashift.bus.memory import subject_matches

RAW = "schemashift.raw.x"


def test_publish_waits_while_an_attached_consumer_is_full() -> None:
    """A consumer with max_pending unsettled messages holds the producer until it acks."""

    async def main() -> None:
        bus = MemoryBus(max_msgs=10, max_pending=2)
        sub = await bus.subscribe(RAW, durable="w")
        await bus.publish(RAW, b"1")
        await bus.publish(RAW, b"2")
        third = asyncio.create_task(bus.publish(RAW, b"3"))
        await asyncio.sleep(0.05)
        assert not third.done()  # back-pressure, not loss
        [first] = await sub.fetch(1, 1.0)
        await first.ack()
        await asyncio.wait_for(third, 1.0)
        rest = await sub.fetch(5, 0.5)
        assert [m.data for m in rest] == [b"2", b"3"]

    asyncio.run(main())


def test_detached_consumer_does_not_block_producers() -> None:
    """An offline durable consumer never stalls publishing; the log keeps the newest max_msgs."""

    async def main() -> None:
        bus = MemoryBus(max_msgs=3, max_pending=2)
        sub = await bus.subscribe(RAW, durable="offline")
        await sub.close()
        for i in range(6):
            await asyncio.wait_for(bus.publish(RAW, str(i).encode()), 1.0)
        again = await bus.subscribe(RAW, durable="offline")
        got = await again.fetch(10, 0.2)
        assert [m.data for m in got] == [b"3", b"4", b"5"]

    asyncio.run(main())


def test_settled_messages_free_capacity_for_redeliveries() -> None:
    """Exhausted deliveries count as settled, so a poison message cannot wedge the producer."""

    async def main() -> None:
        bus = MemoryBus(max_msgs=10, max_pending=1)
        sub = await bus.subscribe(
            RAW, durable="w", options=SubscribeOptions(ack_wait=0.05, max_deliver=1)
        )
        await bus.publish(RAW, b"poison")
        [m] = await sub.fetch(1, 1.0)
        assert m.delivery_count == 1
        await asyncio.sleep(0.1)
        assert await sub.fetch(1, 0.1) == []  # exhausted: settled, not redelivered
        await asyncio.wait_for(bus.publish(RAW, b"next"), 1.0)

    asyncio.run(main())


def test_capacity_misconfiguration_is_refused() -> None:
    """max_pending above max_msgs would let unread messages wrap, so it is refused."""
    with pytest.raises(ValueError):
        MemoryBus(max_msgs=5, max_pending=6)


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("a.b", "a.b", True),
        ("a.*", "a.b", True),
        ("a.*", "a.b.c", False),
        ("a.>", "a.b.c", True),
        ("a.>", "a", False),
        ("a.*.c", "a.b.c", True),
        ("a.b", "a.c", False),
    ],
)
def test_subject_matching_follows_nats(pattern: str, subject: str, expected: bool) -> None:
    """* matches one token, a trailing > one or more."""
    assert subject_matches(pattern, subject) is expected


@given(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=5))
def test_literal_and_full_wildcard_match(tokens: list[str]) -> None:
    """A subject always matches itself and '>' matches every subject."""
    subject = ".".join(tokens)
    assert subject_matches(subject, subject)
    assert subject_matches(">", subject)


class ManualClock:
    """Time that moves only when the test says so (ack deadlines without sleeping)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


settle = st.sampled_from(["ack", "nak", "term", "drop"])


@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=3), st.lists(settle, max_size=4)),
        min_size=1,
        max_size=12,
    )
)
def test_no_message_is_lost_or_settled_twice(steps: list[tuple[int, list[str]]]) -> None:
    """Any interleaving of publishes and ack/nak/term/abandon settles each message exactly
    once in the end: abandoned and nak-ed messages come back until someone acks them."""

    async def main() -> None:
        clock = ManualClock()
        bus = MemoryBus(clock=clock)
        sub = await bus.subscribe(
            RAW, durable="w", options=SubscribeOptions(ack_wait=5.0, max_deliver=1_000)
        )
        published: list[bytes] = []
        settled: list[bytes] = []
        for publishes, outcomes in steps:
            for _ in range(publishes):
                body = str(len(published)).encode()
                published.append(body)
                await bus.publish(RAW, body)
            for message, outcome in zip(
                await sub.fetch(len(outcomes) or 1, 0), outcomes, strict=False
            ):
                if outcome in ("ack", "term"):
                    await getattr(message, outcome)()
                    settled.append(message.data)
                elif outcome == "nak":
                    await message.nak()
            clock.now += 6.0  # every unsettled delivery expires
        while batch := await sub.fetch(100, 0):
            for message in batch:
                await message.ack()
                settled.append(message.data)
        assert sorted(settled, key=int) == published

    asyncio.run(main())
