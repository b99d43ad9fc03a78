"""The outbox relay: at least once, in version order per subject, never skipping a record."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from schemashift.bus import MemoryBus
from schemashift.errors import BusError
from schemashift.pipeline.envelope import SCHEMA_UPDATED, schema_update_message
from schemashift.pipeline.relay import OutboxRelay
from schemashift.pipeline.subjects import BusSubjects
from schemashift.registry.config import Compatibility, ConfigPatch
from schemashift.registry.service import Registry


def schema(n: int) -> dict[str, Any]:
    props = {f"f{i}": {"type": "integer"} for i in range(n)}
    return {"type": "object", "properties": props}


@pytest.fixture()
def registry(tmp_path: Path) -> Iterator[Registry]:
    reg = Registry.from_url(f"sqlite:///{tmp_path / 'registry.db'}")
    reg.set_config(None, ConfigPatch(compatibility=Compatibility.NONE))
    yield reg
    reg.close()


async def updates(bus: MemoryBus) -> list[dict[str, Any]]:
    sub = await bus.subscribe("schemashift.schemas.>", durable=None)
    got = [orjson.loads(m.data) for m in await sub.fetch(1000, 0.05)]
    await sub.close()
    return got


def test_records_go_out_in_version_order_and_are_marked(registry: Registry) -> None:
    """Interleaved subjects: each subject's versions reach the bus in order, then marked."""
    for n in (1, 2, 3):
        registry.register("a", schema(n))
        registry.register("b", schema(n + 5))

    async def main() -> None:
        bus = MemoryBus()
        relay = OutboxRelay(registry, bus, registry_url="http://reg")
        assert await relay.relay_once() == 6
        assert await relay.relay_once() == 0
        events = await updates(bus)
        assert {e["type"] for e in events} == {SCHEMA_UPDATED}
        for subject in ("a", "b"):
            versions = [e["data"]["version"] for e in events if e["subject"] == subject]
            assert versions == [1, 2, 3]
        assert events[0]["dataschema"] == "http://reg/subjects/a/versions/1/schema"
        assert [e["id"] for e in events] == [f"outbox-{e['data']['seq']}" for e in events]

    asyncio.run(main())
    assert registry.pending_relay(10) == []


def test_relay_crash_resends_and_never_skips(registry: Registry) -> None:
    """When the bus fails, nothing is marked; the next relay sends every record, in order."""
    registry.register("a", schema(1))
    registry.register("a", schema(2))

    async def main() -> None:
        broken = MemoryBus()
        await broken.close()
        with pytest.raises(BusError):
            await OutboxRelay(registry, broken).relay_once()
        assert len(registry.pending_relay(10)) == 2
        bus = MemoryBus()
        assert await OutboxRelay(registry, bus).relay_once() == 2
        assert [e["data"]["version"] for e in await updates(bus)] == [1, 2]

    asyncio.run(main())


def test_two_relays_do_not_double_publish(registry: Registry) -> None:
    """Racing relays re-send the same records; the outbox message ids keep one copy each."""
    registry.register("a", schema(1))

    async def main() -> None:
        bus = MemoryBus()
        record = registry.pending_relay(1)[0]
        first, second = OutboxRelay(registry, bus), OutboxRelay(registry, bus)
        assert await first.relay_once() == 1
        # the second relay read the record before the first marked it, and sends it too:
        again = schema_update_message(BusSubjects(), record.to_dict(), registry_url="x")
        await bus.publish(again.subject, again.data, headers=again.headers, msg_id=again.msg_id)
        assert await second.relay_once() == 0
        assert len(await updates(bus)) == 1

    asyncio.run(main())


def test_run_relays_until_stopped(registry: Registry) -> None:
    """run() polls the outbox and stop() ends it; wake() relays without waiting for the poll."""

    async def main() -> None:
        bus = MemoryBus()
        relay = OutboxRelay(registry, bus, poll_interval=30.0)
        task = asyncio.create_task(relay.run())
        await asyncio.sleep(0.05)
        registry.register("a", schema(1))
        relay.wake()
        for _ in range(100):
            if relay.relayed:
                break
            await asyncio.sleep(0.02)
        await relay.stop()
        await asyncio.wait_for(task, 5)
        assert relay.relayed == 1

    asyncio.run(main())
