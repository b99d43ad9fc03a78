"""Hostile input on the bus: every event ends conformed or dead-lettered with a reason.

A real Worker on the in-process bus with a real SQLite registry. Each hostile payload is
dead-lettered with its parse code (or conformed exactly, for huge-but-legal integers); the
worker keeps running; a cardinality storm and flapping shapes keep the versions bounded.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from schemashift.bus import MemoryBus
from schemashift.core.jsonparse import DEFAULT_LIMITS, DuplicateKeys
from schemashift.pipeline.envelope import decode_dead_letter
from schemashift.pipeline.worker import Worker, WorkerOptions
from schemashift.registry.service import Registry

FAST = WorkerOptions(hold_timeout=0.05, fetch_timeout=0.05)
# repeated keys are dead-lettered only under --json-duplicates reject (the default keeps the
# last value); the hostile set below pins that policy
REJECTING = dataclasses.replace(
    FAST, limits=dataclasses.replace(DEFAULT_LIMITS, duplicate_keys=DuplicateKeys.REJECT)
)
RAW = "schemashift.raw.in"
MERSENNE_61 = 2**61 - 1


@pytest.fixture()
def registry(tmp_path: Path) -> Iterator[Registry]:
    reg = Registry.from_url(f"sqlite:///{tmp_path / 'registry.db'}")
    yield reg
    reg.close()


def headers(i: int, type_: str) -> dict[str, str]:
    return {"ce-specversion": "1.0", "ce-id": f"h-{i}", "ce-source": "hostile", "ce-type": type_}


async def drain(bus: MemoryBus, subject: str) -> list[Any]:
    sub = await bus.subscribe(subject, durable=None)
    got: list[Any] = []
    while batch := await sub.fetch(1000, 0.05):
        got.extend(batch)
    await sub.close()
    return got


async def run_until_settled(worker: Worker, total: int) -> None:
    task = asyncio.create_task(worker.run())
    for _ in range(1_200):
        if worker.stats.conformed + worker.stats.dead_lettered >= total or task.done():
            break
        await asyncio.sleep(0.025)
    await worker.stop()
    await task


def good(i: int) -> dict[str, Any]:
    return {"id": i, "sku": f"sku-{i % 5}", "qty": 1 + i % 3}


HOSTILE: list[tuple[bytes, str]] = [
    (b"[" * 100_000, "too_deep"),
    (b'{"a":' * 100_000, "too_deep"),
    (b'{"id": ' + b"9" * 5_000 + b"}", "integer_too_long"),
    (b'{"id": ' + b"7" * 1_000_000 + b"}", "integer_too_long"),
    (b'{"id": 1e999}', "number_out_of_range"),
    (b'{"id": Infinity}', "nan_or_infinity"),
    (b'{"id": 1, "s": "\\ud800"}', "lone_surrogate"),
    (b'{"id": 1, "id": 2}', "duplicate_key"),
    (b'{"id": 1, "s": "\xc3\x28"}', "invalid_utf8"),
    (b'{"id": 1, "pad": "' + b"x" * 2_000_000 + b'"}', "too_large"),
]


@pytest.mark.timeout(60)
def test_hostile_events_are_dead_lettered_with_their_reason_and_the_rest_flows(
    registry: Registry,
) -> None:
    """Hostile events interleaved with good ones: each hostile one is in the DLQ with its code."""

    async def main() -> None:
        bus = MemoryBus()
        for i in range(150):
            await bus.publish(RAW, orjson.dumps(good(i)), headers=headers(i, "order"))
            if i % 15 == 0 and i // 15 < len(HOSTILE):
                body, _ = HOSTILE[i // 15]
                await bus.publish(RAW, body, headers=headers(10_000 + i, "order"))
        worker = Worker(registry, bus, options=REJECTING)
        total = 150 + len(HOSTILE)
        await run_until_settled(worker, total)
        events = await drain(bus, "schemashift.events.>")
        dead = await drain(bus, "schemashift.dlq.>")
        assert len(events) == 150
        assert len(dead) == len(HOSTILE)
        reasons = Counter(decode_dead_letter(m.data)["reason"] for m in dead)
        assert reasons == Counter(code for _, code in HOSTILE)

    asyncio.run(main())


@pytest.mark.timeout(60)
def test_huge_integers_flow_through_the_worker_without_wrapping(registry: Registry) -> None:
    """2**63 and -80888888888888888888 reach the conformed stream digit for digit."""

    async def main() -> None:
        bus = MemoryBus()
        values = [2**63, -80888888888888888888] * 60
        for i, value in enumerate(values):
            await bus.publish(
                RAW,
                orjson.dumps({"id": i})[:-1] + f',"n":{value}}}'.encode(),
                headers=headers(i, "big"),
            )
        worker = Worker(registry, bus, options=FAST)
        await run_until_settled(worker, len(values))
        events = await drain(bus, "schemashift.events.>")
        assert len(events) == len(values)
        for message, value in zip(events, values, strict=True):
            assert f'"n":{value}'.encode() in message.data
        schema = registry.get_version("hostile/big", "latest").schema
        assert schema["properties"]["n"]["type"] == "integer"

    asyncio.run(main())


@pytest.mark.timeout(60)
def test_hash_colliding_values_in_events_are_handled_in_bounded_work(registry: Registry) -> None:
    """An event with 32,000 integers that all hash to 0, and 2,000 events of such values."""

    async def main() -> None:
        bus = MemoryBus()
        await bus.publish(
            RAW,
            json.dumps({"id": 0, "values": [k * MERSENNE_61 for k in range(1, 32_001)]}).encode(),
            headers=headers(0, "hash"),
        )
        for k in range(1, 2_001):
            await bus.publish(
                RAW,
                json.dumps({"id": k, "values": [k * MERSENNE_61]}).encode(),
                headers=headers(k, "hash"),
            )
        worker = Worker(registry, bus, options=FAST)
        await run_until_settled(worker, 2_001)
        assert worker.stats.conformed + worker.stats.dead_lettered == 2_001

    asyncio.run(main())


@pytest.mark.timeout(120)
def test_a_cardinality_storm_keeps_versions_and_schema_size_bounded(
    registry: Registry, tmp_path: Path
) -> None:
    """10,000 events each with a never-seen field name, after a stable start: few versions
    (each new key is additive drift, registered on first sight, until the registry sees the
    keys do not recur and folds them into a map: v1, FOLD_KEYS keys, the fold), a small
    schema, a small profile, every event accounted for."""
    from schemashift.registry.evidence import FOLD_KEYS

    database = tmp_path / "registry.db"

    async def main() -> None:
        # the whole storm is published before the worker starts: keep all of it in the log
        bus = MemoryBus(max_msgs=20_000)
        for i in range(300):
            await bus.publish(RAW, orjson.dumps(good(i)), headers=headers(i, "storm"))
        for i in range(10_000):
            await bus.publish(
                RAW, orjson.dumps({**good(i), f"novel_{i}": i}), headers=headers(300 + i, "storm")
            )
        worker = Worker(registry, bus, options=FAST)
        await run_until_settled(worker, 10_300)
        assert worker.stats.conformed + worker.stats.dead_lettered == 10_300
        versions = registry.list_versions("hostile/storm", deleted=True)
        assert 1 <= len(versions) <= FOLD_KEYS + 2, versions
        assert len(registry.get_version("hostile/storm", "latest").schema_text) < 4_096
        # memory is O(schema), not O(fields seen): the persisted running profile stays small
        with sqlite3.connect(database) as conn:
            (size,) = conn.execute(
                "SELECT length(profile_json) FROM ss_profiles WHERE subject = 'hostile/storm'"
            ).fetchone()
        assert size < 65_536, f"profile of {size} bytes after 10,000 novel field names"

    asyncio.run(main())


@pytest.mark.timeout(120)
def test_flapping_shapes_keep_versions_bounded(registry: Registry) -> None:
    """Two shapes alternating 50/50 for 4,000 events after a stable start: versions stay few."""

    async def main() -> None:
        bus = MemoryBus()
        for i in range(300):
            await bus.publish(RAW, orjson.dumps({"id": i, "a": "x"}), headers=headers(i, "flap"))
        for i in range(4_000):
            payload = {"id": i, "a": "x"} if i % 2 else {"id": i, "b": 1.5, "c": [1]}
            await bus.publish(RAW, orjson.dumps(payload), headers=headers(300 + i, "flap"))
        worker = Worker(registry, bus, options=FAST)
        await run_until_settled(worker, 4_300)
        assert worker.stats.conformed + worker.stats.dead_lettered == 4_300
        assert len(registry.list_versions("hostile/flap", deleted=True)) <= 3
        quarantined = registry.list_quarantine()
        assert len(quarantined) <= 2

    asyncio.run(main())


@pytest.mark.timeout(60)
@pytest.mark.parametrize("key", ['a"b', "a\\b", "a\u0001b"], ids=["quote", "backslash", "control"])
def test_legal_but_awkward_keys_do_not_stop_the_worker(registry: Registry, key: str) -> None:
    """JSON allows `"`, `\\` and control characters in keys; such events are conformed or
    dead-lettered, and the worker keeps running (a producer must not be able to stop it)."""

    async def main() -> None:
        bus = MemoryBus()
        for i in range(30):
            payload = {"id": i, key: i}
            await bus.publish(RAW, json.dumps(payload).encode(), headers=headers(i, "keys"))
        worker = Worker(registry, bus, options=FAST)
        task = asyncio.create_task(worker.run())
        for _ in range(400):
            if worker.stats.conformed + worker.stats.dead_lettered >= 30 or task.done():
                break
            await asyncio.sleep(0.025)
        assert not task.done(), f"the worker stopped: {task.exception()!r}"
        await worker.stop()
        await task
        assert worker.stats.conformed + worker.stats.dead_lettered == 30

    asyncio.run(main())
