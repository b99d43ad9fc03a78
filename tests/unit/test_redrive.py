"""Re-driving stored dead letters onto the in-process bus (pipeline/redrive.py).

Pins: a replayed message is the original bytes and headers plus ``schemashift-replay-of``,
with message id ``replay:<id>``, on the raw subject of its registry subject (or its own raw
subject when it has none); rows are marked replayed after publishing; replaying twice, or
again after a crash between publishing and marking, never doubles a message.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from schemashift.bus import MemoryBus
from schemashift.bus.base import Delivery
from schemashift.pipeline.redrive import REPLAY_HEADER, replay, replay_message
from schemashift.pipeline.subjects import BusSubjects
from schemashift.registry.dead_letters import DeadLetter
from schemashift.registry.service import Registry
from schemashift.registry.testing import memory_registry

ORDERS = "shop/order.created"


def letter(n: int, subject: str | None = ORDERS, **kw: Any) -> DeadLetter:
    values: dict[str, Any] = {
        "msg_id": f"SCHEMASHIFT_RAW:{n}",
        "subject": subject,
        "reason": "type_mismatch",
        "message": "not conformable",
        "path": "/qty",
        "details": (),
        "quarantine_id": None,
        "headers": {"ce-id": f"e-{n}", "ce-type": "order.created", "Nats-Msg-Id": f"old-{n}"},
        "data": b'{"qty": "%d"}' % n,
        "raw_subject": "schemashift.raw.in",
        "raw_seq": n,
        "time": datetime(2026, 1, 1, tzinfo=UTC),
    }
    values.update(kw)
    return DeadLetter(**values)


async def raw_messages(bus: MemoryBus) -> list[Delivery]:
    sub = await bus.subscribe("schemashift.raw.>", durable=None)
    got: list[Delivery] = []
    while batch := await sub.fetch(1000, 0.05):
        got.extend(batch)
    await sub.close()
    return got


@pytest.fixture()
def registry() -> Registry:
    return memory_registry()


def test_a_replay_publishes_the_original_message_then_marks_it(registry: Registry) -> None:
    """Bytes and headers as recorded (the old Nats-Msg-Id dropped), the replay-of header, the
    subject's raw bus subject, message id replay:<id>; then the row is `replayed`."""
    registry.record_dead_letters([letter(1), letter(2, reason="too_deep")])

    async def main() -> list[Delivery]:
        bus = MemoryBus()
        assert await replay(registry, bus, subject=ORDERS, reason="type_mismatch") == 1
        return await raw_messages(bus)

    [message] = asyncio.run(main())
    assert message.data == b'{"qty": "1"}'
    assert message.subject == BusSubjects().raw(ORDERS) == "schemashift.raw.shop_2Forder_2Ecreated"
    assert dict(message.headers) == {
        "ce-id": "e-1",
        "ce-type": "order.created",
        REPLAY_HEADER: "1",
    }
    assert replay_message(BusSubjects(), registry.get_dead_letter(1)).msg_id == "replay:1"
    assert registry.get_dead_letter(1).state == "replayed"
    assert registry.get_dead_letter(2).state == "dead"


def test_rows_of_no_known_subject_go_back_to_their_raw_subject() -> None:
    """Without a subject the original raw subject is used — unless it belongs to another
    prefix, then this bus's default raw subject."""
    subjects = BusSubjects("schemashift")
    registry = memory_registry()
    registry.record_dead_letters(
        [
            letter(1, subject=None, raw_subject="schemashift.raw.custom_2Ein"),
            letter(2, subject=None, raw_subject="other.raw.in"),
        ]
    )
    first, second = (registry.get_dead_letter(i) for i in (1, 2))
    assert replay_message(subjects, first).subject == "schemashift.raw.custom_2Ein"
    assert replay_message(subjects, second).subject == "schemashift.raw.in"


def test_replaying_twice_quickly_does_not_double(registry: Registry) -> None:
    """A double-clicked replay: the second finds nothing dead, the bus holds one copy each."""
    registry.record_dead_letters([letter(n) for n in range(1, 6)])

    async def main() -> tuple[list[int], list[Delivery]]:
        bus = MemoryBus()
        both = await asyncio.gather(
            replay(registry, bus, subject=ORDERS), replay(registry, bus, subject=ORDERS)
        )
        again = await replay(registry, bus, subject=ORDERS)
        return [*both, again], await raw_messages(bus)

    counts, messages = asyncio.run(main())
    assert sum(counts) == 5 and counts[-1] == 0
    assert sorted(m.headers[REPLAY_HEADER] for m in messages) == ["1", "2", "3", "4", "5"]


def test_a_crash_between_publishing_and_marking_is_not_doubled(registry: Registry) -> None:
    """Published but not marked (the process died): the next replay publishes again, the bus
    drops the copy by its message id, and the rows end replayed."""
    registry.record_dead_letters([letter(1), letter(2)])

    async def main() -> tuple[int, list[Delivery]]:
        bus = MemoryBus()
        rows, _ = registry.list_dead_letters(oldest_first=True)
        await bus.publish_many([replay_message(BusSubjects(), row) for row in rows])  # no mark
        count = await replay(registry, bus, ids=[1, 2])
        return count, await raw_messages(bus)

    count, messages = asyncio.run(main())
    assert count == 2
    assert [m.data for m in messages] == [b'{"qty": "1"}', b'{"qty": "2"}']
    assert registry.dead_letter_counts(ORDERS)["replayed"] == {"type_mismatch": 2}


def test_pages_in_order_and_stops_at_the_limit(registry: Registry) -> None:
    """More rows than a page: oldest first, across pages, never past `limit`."""
    registry.record_dead_letters([letter(n) for n in range(1, 251)])

    async def main() -> tuple[int, int, list[Delivery]]:
        bus = MemoryBus()
        first = await replay(registry, bus, subject=ORDERS, limit=130)
        rest = await replay(registry, bus, subject=ORDERS)
        return first, rest, await raw_messages(bus)

    first, rest, messages = asyncio.run(main())
    assert (first, rest) == (130, 120)
    assert [int(m.headers[REPLAY_HEADER]) for m in messages] == list(range(1, 251))


def test_parked_rows_of_an_accepted_quarantine(registry: Registry) -> None:
    """Workers re-drive what a quarantine parked with state="parked" and its id."""
    registry.record_dead_letters(
        [
            letter(1, state="parked", quarantine_id=3),
            letter(2, state="parked", quarantine_id=4),
            letter(3, quarantine_id=3),
        ]
    )

    async def main() -> int:
        return await replay(registry, MemoryBus(), quarantine_id=3, state="parked")

    assert asyncio.run(main()) == 1
    states = [registry.get_dead_letter(i).state for i in (1, 2, 3)]
    assert states == ["replayed", "parked", "dead"]
