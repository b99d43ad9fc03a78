"""The Subscriber SDK against the real registry app (in-process ASGI) and the memory bus.

Pins: catch-up replays every relayed version in order, each callback once; a pinned consumer
gets events cast down to its version; a pinned version past its sunset is refused; generated
pydantic models follow the versions; declared contracts make breaking drift quarantine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemashift.api.app import create_app
from schemashift.bus import MemoryBus
from schemashift.core.transform import Conformed, Rejected
from schemashift.errors import VersionGoneError
from schemashift.pipeline.envelope import schema_update_message
from schemashift.pipeline.relay import OutboxRelay
from schemashift.pipeline.subjects import BusSubjects
from schemashift.pipeline.subscriber import SchemaUpdate, Subscriber
from schemashift.registry.config import Compatibility, ConfigPatch
from schemashift.registry.service import Registry

V1 = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "note": {"type": "string"}},
    "required": ["id"],
}
V2 = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "note": {"type": "string"},
        "vip": {"type": "boolean", "default": False},
    },
    "required": ["id", "vip"],
}


@pytest.fixture()
def registry(tmp_path: Path) -> Iterator[Registry]:
    reg = Registry.from_url(f"sqlite:///{tmp_path / 'registry.db'}")
    reg.set_config("orders", ConfigPatch(compatibility=Compatibility.NONE))
    yield reg
    reg.close()


Scenario = Callable[[MemoryBus, Callable[..., Subscriber], OutboxRelay], Awaitable[None]]


def run(registry: Registry, scenario: Scenario) -> None:
    async def main() -> None:
        bus = MemoryBus()
        app = create_app(registry)
        relay = OutboxRelay(registry, bus, registry_url="http://r")

        def make(**kwargs: Any) -> Subscriber:
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r")
            return Subscriber(bus=bus, registry_url="http://r", http=client, **kwargs)

        await scenario(bus, make, relay)

    asyncio.run(main())


async def catch_up(sub: Subscriber) -> list[SchemaUpdate]:
    applied: list[SchemaUpdate] = []
    while batch := await sub.poll(0.05):
        applied.extend(batch)
    return applied


def test_catch_up_replays_versions_in_order_once(registry: Registry) -> None:
    """Updates relayed before the subscriber started arrive in version order, callbacks once."""

    async def scenario(bus: MemoryBus, make: Callable[..., Subscriber], relay: OutboxRelay) -> None:
        registry.register("orders", V1)
        registry.register("orders", V2)
        await relay.relay_once()
        # a second relay re-sending the same records (a crash before mark_relayed)
        for record in registry.read_outbox(0, 10):
            msg = schema_update_message(BusSubjects(), record.to_dict(), registry_url="http://r")
            await bus.publish(msg.subject, msg.data, headers=msg.headers)  # no msg id: stored twice
        seen: list[int] = []
        sub = make(name="billing")
        sub.on_update("orders", lambda u: seen.append(u.version))
        await sub.start()
        updates = await catch_up(sub)
        assert [u.version for u in updates] == [1, 2, 1, 2]
        assert seen == [1, 2]  # each (subject, version) once
        assert updates[1].dataschema == "http://r/subjects/orders/versions/2/schema"
        assert sorted(sub.versions("orders")) == [1, 2]
        await sub.close()

    run(registry, scenario)


def test_pinned_consumer_gets_newer_events_cast_down(registry: Registry) -> None:
    """A consumer pinned to v1 conforms v2 events to v1; unpinned ones see v2."""

    async def scenario(bus: MemoryBus, make: Callable[..., Subscriber], relay: OutboxRelay) -> None:
        registry.register("orders", V1)
        registry.register("orders", V2)
        pinned = make(name="legacy", pins={"orders": 1})
        latest = make(name="modern")
        await pinned.start()
        await latest.start()
        event = {"id": 7, "note": "hi", "vip": True, "schemaVersion": 2}
        down = pinned.conform("orders", event)
        assert isinstance(down, Conformed)
        assert down.payload["schemaVersion"] == 1 and down.payload["id"] == 7
        assert "vip" not in down.payload  # cast step by step: v2's field is not in v1
        assert pinned.pinned("orders") == 1 and latest.pinned("orders") == 2
        up = latest.conform("orders", {"id": 8})
        assert isinstance(up, Conformed) and up.payload["vip"] is False
        assert isinstance(pinned.conform("orders", {"id": "x1"}), Rejected)
        await pinned.close()
        await latest.close()

    run(registry, scenario)


def test_pinned_version_past_its_sunset_is_refused(registry: Registry) -> None:
    """Once the registry says the pinned version is gone, conform raises VersionGoneError."""
    registry.set_config("orders", ConfigPatch(compatibility=Compatibility.NONE, sunset_seconds=0))

    async def scenario(bus: MemoryBus, make: Callable[..., Subscriber], relay: OutboxRelay) -> None:
        registry.register("orders", V1)
        await relay.relay_once()
        sub = make(name="late", pins={"orders": 1})
        await sub.start()
        await catch_up(sub)
        assert isinstance(sub.conform("orders", {"id": 1}), Conformed)
        registry.register("orders", V2)
        await relay.relay_once()
        await catch_up(sub)
        with pytest.raises(VersionGoneError):
            sub.conform("orders", {"id": 1})
        sub.pin("orders", 2)
        assert isinstance(sub.conform("orders", {"id": 1}), Conformed)
        await sub.close()

    run(registry, scenario)


def test_models_are_generated_per_version(registry: Registry, tmp_path: Path) -> None:
    """With models_dir, each version gets a pydantic model that validates its payloads."""

    async def scenario(bus: MemoryBus, make: Callable[..., Subscriber], relay: OutboxRelay) -> None:
        registry.register("orders", V1)
        await relay.relay_once()
        sub = make(name="typed", models_dir=tmp_path / "models")
        await sub.start()
        model = sub.model("orders")
        assert model is not None and model.__name__ == "OrdersV1"
        assert model.model_validate({"id": 1}).id == 1
        registry.register("orders", V2)
        await relay.relay_once()
        await catch_up(sub)
        newer = sub.model("orders")
        assert newer is not None and newer.__name__ == "OrdersV2"
        assert newer.model_validate({"id": 1, "vip": True}).vip is True
        assert sorted(p.name for p in (tmp_path / "models").glob("*.py")) == [
            "orders_v1.py",
            "orders_v2.py",
        ]
        await sub.close()

    run(registry, scenario)


def test_declared_contract_quarantines_breaking_drift(registry: Registry) -> None:
    """A subscriber's declared field, dropped by drift, stops auto-registration."""
    registry.set_config("orders", ConfigPatch(compatibility=Compatibility.NONE))

    async def scenario(bus: MemoryBus, make: Callable[..., Subscriber], relay: OutboxRelay) -> None:
        registry.observe("orders", [{"id": i, "note": "n"} for i in range(20)])
        sub = make(name="reader", contracts={"orders": ["/note"]})
        await sub.start()
        assert [c.consumer for c in registry.list_consumers("orders")] == ["reader"]
        result = registry.observe("orders", [{"id": i, "note": i} for i in range(20)])
        assert str(result.decision) == "quarantined"
        assert any("reader" in reason for reason in result.reasons)
        assert registry.list_versions("orders") == [1]
        await sub.close()

    run(registry, scenario)
