"""The stream worker on the in-process bus with a real SQLite registry.

Pins: every input ends in exactly one output; min_samples events register v1; a compatible
drift registers a new version and later events carry it; a drift a consumer forbids is
quarantined and its events parked (and recorded); hostile payloads are dead-lettered with
their parse code (a repeated key keeps its last value unless the policy is ``reject``); max
attempts end in the dead-letter stream; schema updates switch the transformer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from schemashift.bus import MemoryBus, SubscribeOptions
from schemashift.pipeline.envelope import decode_dead_letter
from schemashift.pipeline.relay import OutboxRelay
from schemashift.pipeline.worker import Worker, WorkerOptions
from schemashift.registry.config import Compatibility, ConfigPatch
from schemashift.registry.service import Registry

FAST = WorkerOptions(hold_timeout=0.05, fetch_timeout=0.05)


@pytest.fixture()
def registry(tmp_path: Path) -> Iterator[Registry]:
    reg = Registry.from_url(f"sqlite:///{tmp_path / 'registry.db'}")
    yield reg
    reg.close()


def ce_headers(i: int, type_: str) -> dict[str, str]:
    return {"ce-specversion": "1.0", "ce-id": f"id-{i}", "ce-source": "shop", "ce-type": type_}


def order(i: int) -> dict[str, Any]:
    return {"order_id": i, "sku": f"sku-{i % 7}", "qty": 1 + i % 3, "note": "gift"}


async def run_until(
    worker: Worker, total: int, *, extra: Callable[[], Awaitable[None]] | None = None
) -> None:
    """Run the worker (and relay) until it produced ``total`` outputs, then stop it."""
    task = asyncio.create_task(worker.run())
    for _ in range(400):
        stats = worker.stats
        if stats.conformed + stats.dead_lettered + stats.parked >= total or task.done():
            break
        if extra is not None:
            await extra()
        await asyncio.sleep(0.025)
    await worker.stop()
    await task


async def drain(bus: MemoryBus, subject: str) -> list[Any]:
    sub = await bus.subscribe(subject, durable=None)
    got: list[Any] = []
    while batch := await sub.fetch(1000, 0.05):
        got.extend(batch)
    await sub.close()
    return got


def test_every_input_ends_in_exactly_one_output(registry: Registry) -> None:
    """Good, hostile and unreadable messages: conformed + dead letters == inputs, by reason."""

    async def main() -> None:
        bus = MemoryBus()
        for i in range(60):
            await bus.publish(
                "schemashift.raw.in", orjson.dumps(order(i)), headers=ce_headers(i, "order")
            )
        repeated = b'{"order_id":60,"sku":"sku-1","qty":1,"note":"a","note":"gift"}'
        await bus.publish("schemashift.raw.in", repeated, headers=ce_headers(60, "order"))
        hostile = [b'{"x":NaN}', b"[1]", b"\xff", b"{"]
        for body in hostile:
            await bus.publish("schemashift.raw.in", body, headers=ce_headers(0, "order"))
        await bus.publish("schemashift.raw.in", b'{"plain":1}')  # no subject configured
        worker = Worker(registry, bus, options=FAST)
        await run_until(worker, 66)
        events = await drain(bus, "schemashift.events.>")
        dead = await drain(bus, "schemashift.dlq.>")
        assert len(events) == 61 and len(dead) == 5
        # the repeated key kept its last value, and the event says so
        [noted] = [m for m in events if "schemashift-duplicate-keys" in m.headers]
        assert orjson.loads(noted.headers["schemashift-duplicate-keys"]) == ["/note"]
        assert orjson.loads(noted.data)["note"] == "gift"
        reasons = sorted(decode_dead_letter(m.data)["reason"] for m in dead)
        assert reasons == sorted(
            [
                "nan_or_infinity",
                "not_an_object",
                "invalid_utf8",
                "malformed_json",
                "no_subject",
            ]
        )
        unknown = [m for m in dead if m.subject == "schemashift.dlq._unknown"]
        assert len(unknown) == 1
        record = decode_dead_letter(dead[0].data)
        assert record["data"] in hostile and record["subject"] == "shop/order"
        first = orjson.loads(events[0].data)
        assert first["schemaVersion"] == 1 and first["order_id"] == 0
        assert (
            events[0].headers["ce-dataschema"].endswith("/subjects/shop%2Forder/versions/1/schema")
        )
        assert events[0].headers["ce-id"] == "id-0"
        assert registry.list_versions("shop/order") == [1]
        # every dead letter is recorded in the registry too, with its original bytes
        rows, _ = registry.list_dead_letters(limit=100)
        assert sorted(r.reason for r in rows) == reasons
        assert {r.data for r in rows if r.subject == "shop/order"} == set(hostile)

    asyncio.run(main())


def test_repeated_keys_are_refused_under_the_reject_policy(registry: Registry) -> None:
    """``--json-duplicates reject``: the event with a repeated key is a dead letter."""
    from schemashift.core.jsonparse import DuplicateKeys, ParseLimits

    async def main() -> None:
        bus = MemoryBus()
        repeated = b'{"order_id":60,"sku":"sku-1","qty":1,"note":"a","note":"gift"}'
        await bus.publish("schemashift.raw.in", repeated, headers=ce_headers(60, "order"))
        limits = ParseLimits(duplicate_keys=DuplicateKeys.REJECT)
        worker = Worker(registry, bus, options=WorkerOptions(hold_timeout=0.05, limits=limits))
        await run_until(worker, 1)
        [dead] = await drain(bus, "schemashift.dlq.>")
        assert decode_dead_letter(dead.data)["reason"] == "duplicate_key"

    asyncio.run(main())


def test_compatible_drift_registers_exactly_one_new_version(registry: Registry) -> None:
    """Dropping a field midway gives v2 once; events after it carry schemaVersion 2."""

    async def main() -> None:
        bus = MemoryBus()
        worker = Worker(registry, bus, options=FAST)
        task = asyncio.create_task(worker.run())
        for i in range(200):
            payload = order(i)
            if i >= 100:
                del payload["note"]
            await bus.publish(
                "schemashift.raw.in", orjson.dumps(payload), headers=ce_headers(i, "order")
            )
            if i == 99:  # let the first window settle before the drift arrives
                while worker.stats.conformed < 100:
                    await asyncio.sleep(0.02)
        while worker.stats.conformed < 200:  # the first dropper is re-driven, then conformed
            await asyncio.sleep(0.02)
        await worker.stop()
        await task
        assert registry.list_versions("shop/order") == [1, 2]
        events = [orjson.loads(m.data) for m in await drain(bus, "schemashift.events.>")]
        assert len(events) == 200
        assert {e["schemaVersion"] for e in events[:100]} == {1}
        assert {e["schemaVersion"] for e in events if "note" not in e} == {2}
        # 1 of 101 events is under 1 %: the first dropper is an outlier until the second
        # shows the change too — unless both were judged in one batch, which settles it with
        # the version the second registered. Either way no dead letter is left.
        for dead in await drain(bus, "schemashift.dlq.>"):
            assert decode_dead_letter(dead.data)["reason"] == "outlier"
        assert registry.list_dead_letters(state="dead")[0] == []

    asyncio.run(main())


def test_breaking_drift_is_quarantined_and_its_events_parked(registry: Registry) -> None:
    """A drift that retypes a field a consumer declared is quarantined: the events the
    version refuses are parked (parked stream, recorded with the quarantine id), nothing is
    dead-lettered, and no version is registered."""

    async def main() -> None:
        bus = MemoryBus()
        for i in range(50):
            await bus.publish(
                "schemashift.raw.in", orjson.dumps(order(i)), headers=ce_headers(i, "order")
            )
        worker = Worker(registry, bus, options=FAST)
        await run_until(worker, 50)
        registry.declare_consumer("shop/order", "billing", ["/qty"])
        for i in range(50, 80):
            bad = {**order(i), "qty": {"amount": i}}
            await bus.publish(
                "schemashift.raw.in", orjson.dumps(bad), headers=ce_headers(i, "order")
            )
        await run_until(worker, 80)
        assert await drain(bus, "schemashift.dlq.>") == []
        parked = [decode_dead_letter(m.data) for m in await drain(bus, "schemashift.parked.>")]
        assert len(parked) == 30 and {d["reason"] for d in parked} == {"quarantined"}
        [item] = registry.list_quarantine("shop/order")
        assert {d["quarantine_id"] for d in parked} == {item.quarantine_id}
        rows, _ = registry.list_dead_letters(state="parked", limit=100)
        assert len(rows) == 30 and {r.quarantine_id for r in rows} == {item.quarantine_id}
        assert registry.list_versions("shop/order") == [1]
        assert worker.stats.parked == 30 and worker.stats.dead_lettered == 0

    asyncio.run(main())


def test_exhausted_redeliveries_are_dead_lettered(registry: Registry) -> None:
    """A message delivered more than max_attempts times is dead-lettered, not retried again."""

    async def main() -> None:
        bus = MemoryBus()
        options = WorkerOptions(
            hold_timeout=0.05, fetch_timeout=0.05, max_attempts=2, ack_wait=0.02
        )
        await bus.publish(
            "schemashift.raw.in", orjson.dumps(order(1)), headers=ce_headers(1, "order")
        )
        # A previous worker that crashed twice while holding the message:
        sub = await bus.subscribe(
            "schemashift.raw.>",
            durable=options.durable,
            options=SubscribeOptions(ack_wait=0.02, max_deliver=3),
        )
        for _ in range(2):
            assert len(await sub.fetch(1, 0.5)) == 1
            await asyncio.sleep(0.03)
        await sub.close()
        worker = Worker(registry, bus, options=options)
        await run_until(worker, 1)
        [dead] = await drain(bus, "schemashift.dlq.>")
        record = decode_dead_letter(dead.data)
        assert record["reason"] == "max_deliver_exceeded" and record["delivery_count"] == 3

    asyncio.run(main())


def test_redelivered_input_is_not_duplicated(registry: Registry) -> None:
    """Outputs carry the input's identity, so reprocessing messages stores no second copy."""

    async def main() -> None:
        bus = MemoryBus()
        for i in range(12):
            await bus.publish(
                "schemashift.raw.in", orjson.dumps(order(i)), headers=ce_headers(i, "order")
            )
        sub = await bus.subscribe("schemashift.raw.>", durable="replay")
        deliveries = await sub.fetch(100, 0.5)
        assert len(deliveries) == 12
        worker = Worker(registry, bus, options=FAST)
        for _ in range(3):  # the same deliveries processed three times (crash before ack)
            await worker.process(deliveries)
            await asyncio.sleep(0.06)
            await worker.process([])
        events = await drain(bus, "schemashift.events.>")
        assert len(events) == 12
        assert worker.stats.conformed == 36  # published three times, stored once each

    asyncio.run(main())


def test_schema_update_switches_the_transformer(registry: Registry) -> None:
    """A relayed schema.updated event moves the worker to the new version, never backwards."""

    async def main() -> None:
        bus = MemoryBus()
        for i in range(20):
            await bus.publish(
                "schemashift.raw.in", orjson.dumps(order(i)), headers=ce_headers(i, "order")
            )
        worker = Worker(registry, bus, options=FAST)
        await run_until(worker, 20)
        v1 = registry.get_version("shop/order", "latest").schema
        v2 = {
            **v1,
            "properties": {**v1["properties"], "vip": {"type": "boolean", "default": False}},
        }
        registry.set_config("shop/order", ConfigPatch(compatibility=Compatibility.NONE))
        registry.register("shop/order", v2)
        relay = OutboxRelay(registry, bus)
        assert await relay.relay_once() == 2
        updates = await drain(bus, "schemashift.schemas.>")
        assert [orjson.loads(u.data)["data"]["version"] for u in updates] == [1, 2]
        worker.apply_update(updates[1].data)
        worker.apply_update(updates[0].data)  # a late, older update changes nothing
        state = worker._states["shop/order"]
        assert state.version == 2
        await bus.publish(
            "schemashift.raw.in", orjson.dumps(order(99)), headers=ce_headers(99, "order")
        )
        await run_until(worker, 21)
        events = [orjson.loads(m.data) for m in await drain(bus, "schemashift.events.>")]
        assert events[-1]["schemaVersion"] == 2 and events[-1]["vip"] is False

    asyncio.run(main())


def test_window_decided_elsewhere_uses_the_newest_version(registry: Registry) -> None:
    """Another worker registered v2 and its update has not arrived: the held drift is still
    conformed with v2 (not rejected by our v1), because every decision re-reads the latest."""

    async def main() -> None:
        bus = MemoryBus()
        worker = Worker(registry, bus, options=FAST)
        task = asyncio.create_task(worker.run())  # one run: no resync on restart helps here
        for i in range(30):
            await bus.publish(
                "schemashift.raw.in", orjson.dumps(order(i)), headers=ce_headers(i, "order")
            )
        while worker.stats.conformed < 30:
            await asyncio.sleep(0.02)
        drifted = [{k: v for k, v in order(i).items() if k != "note"} for i in range(30, 60)]
        assert str(registry.observe("shop/order", drifted).decision) == "registered"  # "worker A"
        for i, payload in enumerate(drifted, start=30):
            await bus.publish(
                "schemashift.raw.in", orjson.dumps(payload), headers=ce_headers(i, "order")
            )
        while worker.stats.conformed + worker.stats.dead_lettered < 60:
            await asyncio.sleep(0.02)
        await worker.stop()
        await task
        assert worker.stats.dead_lettered == 0
        events = [orjson.loads(m.data) for m in await drain(bus, "schemashift.events.>")]
        assert {e["schemaVersion"] for e in events[30:]} == {2}

    asyncio.run(main())


def test_value_drift_in_a_known_shape_reaches_the_registry(registry: Registry) -> None:
    """A known shape with a value v1 refuses (a new enum member) goes to the registry, not to
    the dead-letter stream: the registry widens the enum and the events conform to it."""

    async def main() -> None:
        bus = MemoryBus()
        registry.set_config("shop/order", ConfigPatch(min_samples=50))
        worker = Worker(registry, bus, options=FAST)
        task = asyncio.create_task(worker.run())
        for i in range(50):
            await bus.publish(
                "schemashift.raw.in", orjson.dumps(order(i)), headers=ce_headers(i, "order")
            )
        while worker.stats.conformed < 50:
            await asyncio.sleep(0.02)
        v1 = registry.get_version("shop/order", "latest").schema
        assert "enum" in v1["properties"]["sku"]  # seven values seen fifty times: an enum
        for i in range(50, 80):
            payload = {**order(i), "sku": f"new-{i % 3}"}
            await bus.publish(
                "schemashift.raw.in", orjson.dumps(payload), headers=ce_headers(i, "order")
            )
        while worker.stats.conformed + worker.stats.dead_lettered < 80:
            await asyncio.sleep(0.02)
        await worker.stop()
        await task
        assert worker.stats.dead_lettered == 0
        # each unseen value widens the enum (additive: on first sight): new-0, new-1, new-2
        assert registry.list_versions("shop/order") == [1, 2, 3, 4]
        sku = registry.get_version("shop/order", 4).schema["properties"]["sku"]
        assert {"new-0", "new-1", "new-2"} <= set(sku["enum"])
        events = [orjson.loads(m.data) for m in await drain(bus, "schemashift.events.>")]
        assert {e["schemaVersion"] for e in events[50:]} <= {2, 3, 4}

    asyncio.run(main())


def test_new_keys_of_a_declared_map_take_the_known_shape_path(registry: Registry) -> None:
    """Once the version declares `properties` a map, events whose map keys were never seen
    are conformed straight away: no analysis window, no new version, nothing held."""

    def page_view(i: int, key: str) -> dict[str, Any]:
        return {"session": i, "url": "/cart", "properties": {key: "v", "locale": "en"}}

    async def main() -> None:
        bus = MemoryBus()
        # one window of all 100 first events, however slow the machine: v1 sees the map
        options = WorkerOptions(hold_timeout=5.0, fetch_timeout=0.05)
        worker = Worker(registry, bus, options=options)
        task = asyncio.create_task(worker.run())
        for i in range(100):  # enough distinct keys for the Analyzer to call it a map
            body = orjson.dumps(page_view(i, f"exp_{i}"))
            await bus.publish("schemashift.raw.in", body, headers=ce_headers(i, "view"))
        while worker.stats.conformed < 100:
            await asyncio.sleep(0.02)
        schema = registry.get_version("shop/view", "latest").schema
        assert "additionalProperties" in schema["properties"]["properties"]
        windows = worker.stats.observations
        for i in range(100, 400):
            body = orjson.dumps(page_view(i, f"never_seen_{i}"))
            await bus.publish("schemashift.raw.in", body, headers=ce_headers(i, "view"))
        while worker.stats.conformed + worker.stats.dead_lettered < 400:
            await asyncio.sleep(0.02)
        await worker.stop()
        await task
        assert worker.stats.conformed == 400
        assert worker.stats.observations == windows
        assert registry.list_versions("shop/view") == [1]

    asyncio.run(main())


def test_the_registry_counts_what_a_worker_conformed_without_asking(registry: Registry) -> None:
    """A worker that only meets known shapes still reports its count (every ``report_every``
    events), so a stray another worker sends is judged against the subject's real volume:
    1 of ~1,500 events is an outlier, not 1 of 10."""

    async def main() -> None:
        bus = MemoryBus(max_msgs=5_000, max_pending=2_000)
        for i in range(1_500):
            await bus.publish(
                "schemashift.raw.in", orjson.dumps(order(i)), headers=ce_headers(i, "order")
            )
        # small fetches: the first observation (v1) counts 20 events, not a whole backlog
        options = WorkerOptions(hold_timeout=0.05, fetch_timeout=0.05, batch=20)
        worker = Worker(registry, bus, options=options)
        await run_until(worker, 1_500)
        assert worker.stats.observations <= 3  # v1, then count reports only
        stray = registry.observe("shop/order", [{"order_id": 1}])  # "another worker"
        assert [v.verdict.value for v in stray.verdicts] == ["outlier"]

    asyncio.run(main())


def test_outliers_of_one_batch_are_re_driven_once_their_change_has_support(
    registry: Registry,
) -> None:
    """Fifteen events drop ``note`` in one batch, after 1,000 that carried it: the first nine
    are outliers (under 1 %), the tenth gives the change support — a consumer forbids it, so a
    quarantine opens — and the nine are re-driven after their own batch was recorded: all
    fifteen end parked, none dead."""

    async def main() -> None:
        bus = MemoryBus(max_msgs=5_000, max_pending=2_000)
        registry.declare_consumer("shop/order", "mailer", ["/note"])
        for i in range(1_000):
            await bus.publish(
                "schemashift.raw.in", orjson.dumps(order(i)), headers=ce_headers(i, "order")
            )
        worker = Worker(registry, bus, options=FAST)
        task = asyncio.create_task(worker.run())
        while worker.stats.conformed < 1_000:
            await asyncio.sleep(0.02)
        for i in range(1_000, 1_015):
            body = {k: v for k, v in order(i).items() if k != "note"}
            await bus.publish(
                "schemashift.raw.in", orjson.dumps(body), headers=ce_headers(i, "order")
            )
        for _ in range(200):
            if len(registry.list_dead_letters(state="parked")[0]) == 15:
                break
            await asyncio.sleep(0.05)
        await worker.stop()
        await task
        assert registry.list_dead_letters(state="dead")[0] == []
        assert len(registry.list_dead_letters(state="parked")[0]) == 15
        replayed = registry.list_dead_letters(state="replayed")[0]
        assert {r.reason for r in replayed} == {"outlier"} and len(replayed) == 9

    asyncio.run(main())
