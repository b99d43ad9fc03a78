"""POST /v1/events on the real app with the in-process bus: modes, batches, limits, refusals."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from schemashift.api import ingest
from schemashift.api.app import create_app
from schemashift.bus import MemoryBus
from schemashift.pipeline.cloudevents import SubjectExtractor, parse_message
from schemashift.registry.service import Registry

Scenario = Callable[[httpx.AsyncClient, MemoryBus], Awaitable[None]]


@pytest.fixture()
def registry(tmp_path: Path) -> Iterator[Registry]:
    reg = Registry.from_url(f"sqlite:///{tmp_path / 'registry.db'}")
    yield reg
    reg.close()


@pytest.fixture()
def run(registry: Registry) -> Callable[..., None]:
    def go(scenario: Scenario, **state: Any) -> None:
        async def main() -> None:
            bus = MemoryBus()
            app = create_app(registry, routers=[ingest.router], state={"bus": bus, **state})
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                await scenario(client, bus)

        asyncio.run(main())

    return go


async def raw_messages(bus: MemoryBus) -> list[Any]:
    sub = await bus.subscribe("schemashift.raw.>", durable=None)
    got = list(await sub.fetch(1000, 0.05))
    await sub.close()
    return got


def ce(i: int, **data: Any) -> dict[str, Any]:
    return {"specversion": "1.0", "id": f"e-{i}", "source": "shop", "type": "order", "data": data}


def test_structured_event_is_accepted_and_published(run: Callable[..., None]) -> None:
    """One structured CloudEvent: 202, accepted 1, on the raw stream under its subject token."""

    async def scenario(client: httpx.AsyncClient, bus: MemoryBus) -> None:
        response = await client.post(
            "/v1/events",
            content=orjson.dumps(ce(1, qty=2)),
            headers={"content-type": "application/cloudevents+json"},
        )
        assert response.status_code == 202
        assert response.json() == {"accepted": 1, "rejected": []}
        [message] = await raw_messages(bus)
        assert message.subject == "schemashift.raw.shop_2Forder"
        event = parse_message(message.data, message.headers, SubjectExtractor())
        assert getattr(event, "payload", None) == {"qty": 2}

    run(scenario)


def test_binary_mode_keeps_ce_headers(run: Callable[..., None]) -> None:
    """ce- headers travel with the body onto the bus, so the worker reads the same event."""

    async def scenario(client: httpx.AsyncClient, bus: MemoryBus) -> None:
        headers = {
            "ce-specversion": "1.0",
            "ce-id": "b-1",
            "ce-source": "shop",
            "ce-type": "order",
            "content-type": "application/json",
        }
        response = await client.post("/v1/events", content=b'{"qty":3}', headers=headers)
        assert response.status_code == 202
        [message] = await raw_messages(bus)
        assert message.headers["ce-id"] == "b-1" and message.data == b'{"qty":3}'

    run(scenario)


def test_batch_accepts_good_events_and_lists_bad_ones(run: Callable[..., None]) -> None:
    """A batch with one broken element: the others are accepted, the broken one is named."""

    async def scenario(client: httpx.AsyncClient, bus: MemoryBus) -> None:
        batch = [ce(1, a=1), {"specversion": "1.0", "id": "x"}, ce(2, a=2)]
        response = await client.post(
            "/v1/events",
            content=orjson.dumps(batch),
            headers={"content-type": "application/cloudevents-batch+json"},
        )
        assert response.status_code == 202
        body = response.json()
        assert body["accepted"] == 2
        assert [r["index"] for r in body["rejected"]] == [1]
        assert body["rejected"][0]["code"] == "invalid_cloudevent"
        assert len(await raw_messages(bus)) == 2

    run(scenario)


def test_plain_json_needs_a_subject(run: Callable[..., None]) -> None:
    """Plain objects (or arrays of them) go in with ?subject=; without it they are refused."""

    async def scenario(client: httpx.AsyncClient, bus: MemoryBus) -> None:
        one = await client.post("/v1/events?subject=clicks", content=b'{"x":1}')
        many = await client.post("/v1/events?subject=clicks", content=b'[{"x":2},{"x":3},4]')
        none = await client.post("/v1/events", content=b'{"x":1}')
        assert one.json() == {"accepted": 1, "rejected": []}
        assert many.json()["accepted"] == 2 and many.json()["rejected"][0]["index"] == 2
        assert none.status_code == 400 and none.json()["rejected"][0]["code"] == "no_subject"
        messages = await raw_messages(bus)
        assert [m.headers["schemashift-subject"] for m in messages] == ["clicks"] * 3
        assert {m.subject for m in messages} == {"schemashift.raw.clicks"}

    run(scenario)


def test_hostile_body_is_refused_with_its_code(run: Callable[..., None]) -> None:
    """Duplicate keys never reach the bus: 400 with the parse code."""

    async def scenario(client: httpx.AsyncClient, bus: MemoryBus) -> None:
        response = await client.post("/v1/events?subject=s", content=b'{"a":1,"a":2}')
        assert response.status_code == 400
        assert response.json()["rejected"][0]["code"] == "duplicate_key"
        assert await raw_messages(bus) == []

    run(scenario)


def test_oversized_body_is_413(run: Callable[..., None]) -> None:
    """A body over the configured limit is refused before it is parsed."""

    async def scenario(client: httpx.AsyncClient, bus: MemoryBus) -> None:
        response = await client.post("/v1/events?subject=s", content=b'{"a":"' + b"x" * 500 + b'"}')
        assert response.status_code == 413
        assert await raw_messages(bus) == []

    run(scenario, ingest_max_bytes=100)


def test_retried_post_does_not_duplicate(run: Callable[..., None]) -> None:
    """The same CloudEvent posted twice is stored once (Nats-Msg-Id ce:<source>:<id>)."""

    async def scenario(client: httpx.AsyncClient, bus: MemoryBus) -> None:
        for _ in range(2):
            response = await client.post(
                "/v1/events",
                content=orjson.dumps(ce(7, a=1)),
                headers={"content-type": "application/cloudevents+json"},
            )
            assert response.status_code == 202
        assert len(await raw_messages(bus)) == 1

    run(scenario)


def test_without_a_bus_the_endpoint_is_unavailable(registry: Registry) -> None:
    """An app composed without a bus answers 503 instead of dropping events."""

    async def main() -> None:
        app = create_app(registry, routers=[ingest.router])
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post("/v1/events?subject=s", content=b"{}")
        assert response.status_code == 503

    asyncio.run(main())


def test_key_limits_apply_per_event_not_per_batch(run: Callable[..., None]) -> None:
    """500 ordinary events carry 20,000+ keys in one body, more than one event may have:
    all are accepted. An event that alone exceeds the limit is the only one refused."""

    async def scenario(client: httpx.AsyncClient, bus: MemoryBus) -> None:
        fields = {f"f{k}": k for k in range(35)}
        batch = [ce(i, **fields) for i in range(500)]
        batch.append(ce(500, **{f"k{k}": k for k in range(10_001)}))
        response = await client.post(
            "/v1/events",
            content=orjson.dumps(batch),
            headers={"content-type": "application/cloudevents-batch+json"},
        )
        assert response.status_code == 202, response.text
        body = response.json()
        assert body["accepted"] == 500
        assert [(r["index"], r["code"]) for r in body["rejected"]] == [(500, "too_many_keys")]
        plain = await client.post(
            "/v1/events?subject=shop/bulk",
            content=orjson.dumps([fields] * 400),
            headers={"content-type": "application/json"},
        )
        assert plain.status_code == 202, plain.text
        assert plain.json()["accepted"] == 400

    run(scenario)
