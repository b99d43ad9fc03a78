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
from schemashift.core.jsonparse import DEFAULT_LIMITS, DuplicateKeys, ParseLimits
from schemashift.pipeline.cloudevents import RawEvent, SubjectExtractor, parse_message
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


REJECT = ParseLimits(duplicate_keys=DuplicateKeys.REJECT)


def test_hostile_body_is_refused_with_its_code(run: Callable[..., None]) -> None:
    """Under --json-duplicates reject, duplicate keys never reach the bus: 400 with the code."""

    async def scenario(client: httpx.AsyncClient, bus: MemoryBus) -> None:
        response = await client.post("/v1/events?subject=s", content=b'{"a":1,"a":2}')
        assert response.status_code == 400
        assert response.json()["rejected"][0]["code"] == "duplicate_key"
        assert await raw_messages(bus) == []

    run(scenario, event_limits=REJECT)


def test_a_repeated_key_is_accepted_by_default_as_sent(run: Callable[..., None]) -> None:
    """By default a repeated key keeps its last value: the event is accepted and published
    as sent, so the worker reads the same payload and sees (and counts) the repetition."""

    async def scenario(client: httpx.AsyncClient, bus: MemoryBus) -> None:
        body = b'{"git_ssh_url":"a","x":1,"git_ssh_url":"b"}'
        response = await client.post("/v1/events?subject=gitlab", content=body)
        assert response.status_code == 202 and response.json()["accepted"] == 1
        [message] = await raw_messages(bus)
        assert message.data == body
        event = parse_message(message.data, message.headers, SubjectExtractor())
        assert isinstance(event, RawEvent)
        assert event.payload == {"git_ssh_url": "b", "x": 1}
        assert event.duplicate_keys == ("/git_ssh_url",)

    run(scenario)


def good(i: int) -> bytes:
    return orjson.dumps({"n": i, "name": f"item {i}", "tags": ["a", "[b]"]})


async def post_plain(client: httpx.AsyncClient, body: bytes) -> httpx.Response:
    return await client.post(
        "/v1/events?subject=items", content=body, headers={"content-type": "application/json"}
    )


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (b'{"n": NaN}', "nan_or_infinity"),
        (b'{"n": ' + b"7" * 5000 + b"}", "integer_too_long"),
        (b'{"n": "\xff"}', "invalid_utf8"),
        (b'{"n": 1e999}', "number_out_of_range"),
        (b'{"n": "\\ud800"}', "lone_surrogate"),
        (b"[" * 70 + b"]" * 70, "too_deep"),
    ],
)
def test_one_bad_element_is_refused_alone(run: Callable[..., None], bad: bytes, code: str) -> None:
    """A plain array with one element the strict parser refuses: the other four are
    accepted (202) and the bad one is named by its index and code."""

    async def scenario(client: httpx.AsyncClient, bus: MemoryBus) -> None:
        body = b"[" + b",".join([good(0), good(1), bad, good(3), good(4)]) + b"]"
        response = await post_plain(client, body)
        assert response.status_code == 202, response.text
        answer = response.json()
        assert answer["accepted"] == 4
        assert [(r["index"], r["code"]) for r in answer["rejected"]] == [(2, code)]
        messages = await raw_messages(bus)
        assert [orjson.loads(m.data)["n"] for m in messages] == [0, 1, 3, 4]
        # each element is published with its own bytes, which the worker reads back alike
        assert [m.data for m in messages] == [good(0), good(1), good(3), good(4)]
        for message in messages:
            event = parse_message(message.data, message.headers, SubjectExtractor())
            assert isinstance(event, RawEvent) and event.subject == "items"

    run(scenario)


def test_one_bad_element_of_a_cloudevents_batch_is_refused_alone(
    run: Callable[..., None],
) -> None:
    """The same for application/cloudevents-batch+json: NaN in one event's data."""

    async def scenario(client: httpx.AsyncClient, bus: MemoryBus) -> None:
        events = [orjson.dumps(ce(i, qty=i)) for i in range(5)]
        events[3] = events[3].replace(b'"qty":3', b'"qty":NaN')
        response = await client.post(
            "/v1/events",
            content=b"[" + b",\n ".join(events) + b"]",
            headers={"content-type": "application/cloudevents-batch+json"},
        )
        assert response.status_code == 202, response.text
        assert response.json()["accepted"] == 4
        assert [(r["index"], r["code"]) for r in response.json()["rejected"]] == [
            (3, "nan_or_infinity")
        ]
        messages = await raw_messages(bus)
        payloads = []
        for message in messages:
            event = parse_message(message.data, message.headers, SubjectExtractor())
            assert isinstance(event, RawEvent)
            payloads.append(event.payload)
        assert payloads == [{"qty": i} for i in (0, 1, 2, 4)]

    run(scenario)


def test_a_repeated_key_under_reject_is_one_refused_element(run: Callable[..., None]) -> None:
    """With reject, the element that repeats a key is refused as duplicate_key, the others
    are accepted; with the default, all five are, the repeating one with its own bytes."""
    repeated = b'{"n":2,"name":"x","n":22}'
    body = b"[" + b",".join([good(0), good(1), repeated, good(3), good(4)]) + b"]"

    async def refusing(client: httpx.AsyncClient, bus: MemoryBus) -> None:
        response = await post_plain(client, body)
        assert response.status_code == 202
        assert response.json()["accepted"] == 4
        assert [(r["index"], r["code"]) for r in response.json()["rejected"]] == [
            (2, "duplicate_key")
        ]

    async def keeping(client: httpx.AsyncClient, bus: MemoryBus) -> None:
        response = await post_plain(client, body)
        assert response.json() == {"accepted": 5, "rejected": []}
        messages = await raw_messages(bus)
        assert messages[2].data == repeated
        event = parse_message(messages[2].data, messages[2].headers, SubjectExtractor())
        assert isinstance(event, RawEvent)
        assert event.payload == {"n": 22, "name": "x"} and event.duplicate_keys == ("/n",)

    run(refusing, event_limits=REJECT)
    run(keeping, event_limits=DEFAULT_LIMITS)


def test_a_body_that_cannot_be_cut_is_one_refusal(run: Callable[..., None]) -> None:
    """Unbalanced brackets, garbage between elements, not an array: 400, index 0."""

    async def scenario(client: httpx.AsyncClient, bus: MemoryBus) -> None:
        for body in [
            b"[" + good(0) + b"," + good(1),
            b"[" + good(0) + b" garbage " + good(1) + b"]",
            b"[" + good(0) + b",," + good(1) + b"]",
            b'{"n": 1',
        ]:
            response = await post_plain(client, body)
            assert response.status_code == 400, body
            assert response.json()["accepted"] == 0
            assert [(r["index"], r["code"]) for r in response.json()["rejected"]] == [
                (0, "malformed_json")
            ]
        single = await post_plain(client, b'{"n": NaN}')
        assert single.status_code == 400
        assert single.json()["rejected"] == [
            {
                "index": 0,
                "code": "nan_or_infinity",
                "message": single.json()["rejected"][0]["message"],
            }
        ]
        assert await raw_messages(bus) == []

    run(scenario)


def test_nothing_accepted_is_400_with_every_refusal(run: Callable[..., None]) -> None:
    """When no element can be accepted the status is 400, with the same body shape."""

    async def scenario(client: httpx.AsyncClient, bus: MemoryBus) -> None:
        response = await post_plain(client, b'[{"n":NaN}, 3, {"n":1e999}]')
        assert response.status_code == 400
        assert response.json()["accepted"] == 0
        assert [(r["index"], r["code"]) for r in response.json()["rejected"]] == [
            (0, "nan_or_infinity"),
            (1, "not_an_object"),
            (2, "number_out_of_range"),
        ]

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


def test_a_five_mib_batch_with_one_bad_element_is_read_per_element(
    run: Callable[..., None],
) -> None:
    """Near the 5 MiB body limit, thousands of nested events with one NaN among them: the
    scan that cuts the body is linear, and every good event is accepted."""

    async def scenario(client: httpx.AsyncClient, bus: MemoryBus) -> None:
        event = {
            "user": {"name": 'a "quoted" [name]', "tags": ["x", "{y}"], "at": {"c": "P"}},
            "lines": [{"sku": f"s{i}", "qty": i, "price": 1.5} for i in range(5)],
            **{f"f{k}": f"value, {k}:" for k in range(20)},
        }
        one = orjson.dumps(event)
        count = (ingest.DEFAULT_MAX_BYTES - 100) // (len(one) + 1)
        items = [one] * count
        items[count // 2] = one.replace(b'"qty":0', b'"qty":NaN')
        response = await post_plain(client, b"[" + b",".join(items) + b"]")
        assert response.status_code == 202
        assert response.json()["accepted"] == count - 1
        assert response.json()["rejected"][0]["index"] == count // 2

    run(scenario)
