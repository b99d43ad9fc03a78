"""The worker fills the Prometheus metrics it is given: counters per subject and the
transform latency histogram (one observation per transformed event)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson

from schemashift.bus import MemoryBus
from schemashift.monitoring.metrics import Metrics
from schemashift.pipeline.worker import Worker
from schemashift.registry.service import Registry
from tests.unit.test_worker import FAST, ce_headers, order, run_until


def sample(metrics: Metrics, name: str, labels: dict[str, str] | None = None) -> float:
    value = metrics.registry.get_sample_value(name, labels or {})
    return 0.0 if value is None else value


def test_transform_latency_and_counters_are_recorded(tmp_path: Path) -> None:
    registry = Registry.from_url(f"sqlite:///{tmp_path / 'registry.db'}")
    metrics = Metrics()

    async def main() -> None:
        bus = MemoryBus()
        for i in range(40):
            await bus.publish(
                "schemashift.raw.in", orjson.dumps(order(i)), headers=ce_headers(i, "order")
            )
        await bus.publish("schemashift.raw.in", b'{"x":NaN}', headers=ce_headers(99, "order"))
        worker = Worker(registry, bus, options=FAST, metrics=metrics)
        await run_until(worker, 41)
        await bus.close()

    try:
        asyncio.run(main())
    finally:
        registry.close()
    subject = "shop/order"
    assert sample(metrics, "schemashift_events_in_total", {"subject": subject}) == 40
    assert sample(metrics, "schemashift_events_conformed_total", {"subject": subject}) == 40
    dead = metrics.registry.get_sample_value(
        "schemashift_events_dead_lettered_total", {"subject": "", "reason": "nan_or_infinity"}
    ) or metrics.registry.get_sample_value(
        "schemashift_events_dead_lettered_total",
        {"subject": subject, "reason": "nan_or_infinity"},
    )
    assert dead == 1
    # every conformed event was timed once
    assert sample(metrics, "schemashift_transform_seconds_count") == 40
    assert sample(metrics, "schemashift_transform_seconds_sum") > 0
