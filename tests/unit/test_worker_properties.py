"""Property: whatever arrives, every input ends in exactly one output (conformed or dead)."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemashift.bus import MemoryBus
from schemashift.core.canonical import canonical_bytes
from schemashift.pipeline.envelope import decode_dead_letter
from schemashift.pipeline.worker import Worker, WorkerOptions
from schemashift.registry.service import Registry

# judge everything at once and give a subject without a version its first version at the
# next call, so two process() calls settle everything they were given
EAGER = WorkerOptions(hold_timeout=0.0, window=1_000)

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)  # JSON has neither
    | st.text(max_size=6)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=10,
)
objects = st.dictionaries(
    st.sampled_from(["id", "kind", "qty", "note", "tags"]), json_values, max_size=5
)
bodies = st.one_of(
    objects.map(canonical_bytes),  # JSON objects of drifting shapes
    json_values.map(canonical_bytes),  # JSON that may not be an object
    st.binary(max_size=40),  # anything at all
)
messages = st.lists(st.tuples(st.sampled_from(["a", "b"]), bodies), min_size=1, max_size=40)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages)
def test_every_input_has_exactly_one_output(batch: list[tuple[str, bytes]]) -> None:
    """Conformed + dead letters + parked == inputs, each input's identity exactly once."""

    async def main() -> None:
        registry = Registry.from_url("sqlite://")
        bus = MemoryBus()
        for i, (kind, body) in enumerate(batch):
            headers = {
                "ce-specversion": "1.0",
                "ce-id": f"e-{i}",
                "ce-source": "p",
                "ce-type": kind,
            }
            await bus.publish("schemashift.raw.in", body, headers=headers)
        raw = await bus.subscribe("schemashift.raw.>", durable="w")
        deliveries = list(await raw.fetch(1_000, 0.1))
        worker = Worker(registry, bus, options=EAGER)
        await worker.process(deliveries)
        await worker.process([])
        ids = await output_ids(bus)
        assert sorted(ids) == sorted(f"e-{i}" for i in range(len(batch)))
        stats = worker.stats
        assert stats.conformed + stats.dead_lettered + stats.parked == len(batch)
        assert await raw.fetch(10, 0.01) == []  # every input was acknowledged
        registry.close()

    asyncio.run(main())


async def output_ids(bus: MemoryBus) -> list[Any]:
    ids: list[Any] = []
    events = await bus.subscribe("schemashift.events.>", durable=None)
    ids.extend(m.headers["ce-id"] for m in await events.fetch(1_000, 0.01))
    for stream in ("schemashift.dlq.>", "schemashift.parked.>"):
        dead = await bus.subscribe(stream, durable=None)
        ids.extend(
            decode_dead_letter(m.data)["headers"]["ce-id"] for m in await dead.fetch(1_000, 0.01)
        )
    return ids
