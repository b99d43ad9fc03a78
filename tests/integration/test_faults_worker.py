"""A stream worker SIGKILLed again and again on a real nats-server -js loses nothing.

A worker process (this module run as a script) consumes the raw stream into a SQLite
registry; it is SIGKILLed at random moments — between fetching and acknowledging, while a
drift window registers a version, while publishing — and restarted, several times, until
every input has been handled (each kill lands while it is making progress). Then:

* every input's ``ce-id`` appears exactly once among the conformed and dead-letter streams
  (no loss; a redelivery after a kill is de-duplicated by ``Nats-Msg-Id``);
* the drift midway registered exactly one new version (no second version from a window
  that was registered and then redelivered).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from schemashift.bus import connect_bus
from schemashift.bus.nats import NatsBus
from schemashift.pipeline.envelope import decode_dead_letter
from schemashift.registry.service import Registry
from tests.support.servers import NatsServer

pytestmark = [pytest.mark.nats, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
TOTAL = 4_000
KILLS = 6


def event(i: int) -> tuple[bytes, dict[str, str]]:
    payload: dict[str, Any] = {"order_id": i, "sku": f"sku-{i % 5}", "qty": 1 + i % 4, "note": "x"}
    if i >= TOTAL // 2:
        del payload["note"]  # a compatible drift: one new version, once
    headers = {"ce-specversion": "1.0", "ce-id": f"o-{i}", "ce-source": "shop", "ce-type": "order"}
    return orjson.dumps(payload), headers


async def run_worker(nats_url: str, db_url: str) -> None:
    from schemashift.pipeline.worker import Worker, WorkerOptions

    registry = Registry.from_url(db_url)
    bus = await connect_bus(nats_url)
    options = WorkerOptions(hold_timeout=0.1, fetch_timeout=0.1, ack_wait=1.0, batch=64)
    await Worker(registry, bus, options=options).run()


async def drain(bus: NatsBus, subject: str) -> list[Any]:
    sub = await bus.subscribe(subject, durable=None)
    got: list[Any] = []
    while batch := await sub.fetch(1000, 0.5):
        got.extend(batch)
        for message in batch:
            await message.ack()
    await sub.close()
    return got


async def stream_count(bus: NatsBus, name: str) -> int:
    info = await bus.client.jetstream().stream_info(name)
    return int(info.state.messages)


def start_worker(nats_url: str, db_url: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.test_faults_worker", nats_url, db_url],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_worker_killed_repeatedly_loses_and_duplicates_nothing(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    """KILLS random SIGKILLs while 4,000 events (with a drift midway) flow through."""
    db_url = f"sqlite:///{tmp_path / 'registry.db'}"
    Registry.from_url(db_url).close()
    rng = random.Random()

    async def main() -> None:
        bus = await connect_bus(nats_server.url)
        assert isinstance(bus, NatsBus)
        for i in range(TOTAL):
            body, headers = event(i)
            await bus.publish("schemashift.raw.in", body, headers=headers, msg_id=f"o-{i}")

        async def handled() -> int:
            return await stream_count(bus, "SCHEMASHIFT_EVENTS") + await stream_count(
                bus, "SCHEMASHIFT_DLQ"
            )

        kills = 0
        progress: list[int] = []
        deadline = time.monotonic() + 120
        worker = start_worker(nats_server.url, db_url)
        try:
            while kills < KILLS and await handled() < TOTAL and time.monotonic() < deadline:
                # kill while it is working: after it has made progress since its start
                before = await handled()
                while await handled() == before and time.monotonic() < deadline:
                    await asyncio.sleep(0.02)
                # a short random delay: long enough to land mid-batch, short enough that a
                # fast worker does not finish the stream before every kill happened
                await asyncio.sleep(rng.uniform(0, 0.03))
                progress.append(await handled())
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait()
                kills += 1
                worker = start_worker(nats_server.url, db_url)
            while await handled() < TOTAL and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.5)  # anything still redelivered would show up now
        finally:
            worker.kill()
            worker.wait()
        # the kills race the worker; at least half of them must land mid-stream
        assert kills >= KILLS // 2, (
            f"only {kills} kills landed before the stream was done: {progress}"
        )
        assert await handled() == TOTAL, "the output streams hold more or fewer than the inputs"
        events = await drain(bus, "schemashift.events.>")
        dead = await drain(bus, "schemashift.dlq.>")
        ids = Counter(m.headers["ce-id"] for m in events)
        ids.update(str(decode_dead_letter(m.data).get("id", "?")) for m in dead)
        assert set(ids) == {f"o-{i}" for i in range(TOTAL)}, f"lost: {TOTAL - len(ids)}"
        assert max(ids.values()) == 1, f"duplicated: {[k for k, v in ids.items() if v > 1][:5]}"
        await bus.close()

    asyncio.run(main())
    registry = Registry.from_url(db_url)
    try:
        assert registry.list_versions("shop/order", deleted=True) == [1, 2]
    finally:
        registry.close()


if __name__ == "__main__":
    asyncio.run(run_worker(sys.argv[1], sys.argv[2]))


class Gate:
    """Holds the first observation (in whichever worker makes it) until NATS has redelivered
    some of its inputs to the other worker, so the overlap the test is about always happens
    instead of depending on which worker fetched what first."""

    def __init__(self) -> None:
        self._first = threading.Lock()
        self.redelivered = threading.Event()

    def pass_through(self) -> None:
        if self._first.acquire(blocking=False):
            self.redelivered.wait(timeout=30.0)


class SlowRegistry(Registry):
    """A real registry whose first drift observation outlasts the bus's ack wait."""

    gate: Gate

    def observe(self, subject: str, payloads_or_profile: Any) -> Any:
        self.gate.pass_through()
        return super().observe(subject, payloads_or_profile)


def test_processing_slower_than_the_ack_wait_makes_no_parallel_duplicate(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    """Two workers share the raw stream; the first window's observation is held past the ack
    wait (0.5 s) until NATS has redelivered its inputs to the other worker, so some inputs are
    processed twice in parallel. Every input still ends exactly once in the output streams
    (the outputs' message ids de-duplicate), and v1 is registered once."""
    from schemashift.pipeline.worker import Worker, WorkerOptions

    db_url = f"sqlite:///{tmp_path / 'registry.db'}"
    total = 600
    gate = Gate()

    async def main() -> None:
        bus = await connect_bus(nats_server.url)
        assert isinstance(bus, NatsBus)
        registries = [SlowRegistry.from_url(db_url), SlowRegistry.from_url(db_url)]
        try:
            for registry in registries:
                registry.gate = gate
            await scenario(bus, registries)
        finally:
            gate.redelivered.set()  # never leave a worker thread waiting
            for registry in registries:
                registry.close()
            await bus.close()

    async def scenario(bus: NatsBus, registries: list[SlowRegistry]) -> None:
        for i in range(total):
            body, headers = event(i % (TOTAL // 2))  # no drift: one shape, one version
            headers = {**headers, "ce-id": f"s-{i}"}
            await bus.publish("schemashift.raw.in", body, headers=headers, msg_id=f"s-{i}")
        options = WorkerOptions(hold_timeout=0.1, fetch_timeout=0.1, ack_wait=0.5, batch=100)
        workers = [Worker(r, bus, options=options) for r in registries]
        tasks = [asyncio.create_task(w.run()) for w in workers]
        js = bus.client.jetstream()

        async def handled() -> int:
            return await stream_count(bus, "SCHEMASHIFT_EVENTS") + await stream_count(
                bus, "SCHEMASHIFT_DLQ"
            )

        try:
            deadline = time.monotonic() + 90
            while await handled() < total and time.monotonic() < deadline:
                if not gate.redelivered.is_set():
                    info = await js.consumer_info("SCHEMASHIFT_RAW", options.durable)
                    if (info.num_redelivered or 0) > 0:
                        gate.redelivered.set()
                await asyncio.sleep(0.1)
            await asyncio.sleep(2.0)  # late redeliveries would land now
        finally:
            gate.redelivered.set()
            for worker in workers:
                await worker.stop()
            for task in tasks:
                await task
        assert await handled() == total
        processed = sum(w.stats.conformed + w.stats.dead_lettered for w in workers)
        assert processed > total, "nothing was redelivered: the test tested nothing"
        events = await drain(bus, "schemashift.events.>")
        assert Counter(m.headers["ce-id"] for m in events) == Counter(
            f"s-{i}" for i in range(total)
        )
        assert registries[0].list_versions("shop/order", deleted=True) == [1]

    asyncio.run(main())
