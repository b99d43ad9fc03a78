"""Webhooks fed by the real Registry outbox, on SQLite and on a real PostgreSQL.

Registrations run in a thread while the dispatcher delivers, as in a server; the receiver
must see every version of the subject exactly in version order, with the schema that was
registered, across a dispatcher restart.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemashift.registry.config import Compatibility, SubjectConfig
from schemashift.registry.service import Registry
from schemashift.webhooks import (
    DeliveryStatus,
    DispatcherOptions,
    RetryPolicy,
    WebhookDispatcher,
    Webhooks,
    WebhookStore,
)
from schemashift.webhooks.store import engine_from_url
from schemashift.webhooks.tables import metadata
from schemashift.webhooks.testing import LoopbackReceiver, ReceivedRequest, Response

SECRET = "whsec_registry-secret-0123456789"
FAST = DispatcherOptions(
    retry=RetryPolicy(max_attempts=5, base_delay=0.01, max_delay=0.05),
    timeout=5.0,
    poll_interval=0.05,
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    url: str = request.getfixturevalue("postgres_url")
    engine = engine_from_url(url)
    metadata.drop_all(engine)  # a clean webhook state; the registry's tables are shared
    engine.dispose()
    yield url


def schema_v(version: int) -> dict[str, object]:
    """Version n adds field f<n>: each one a new, compatible registration."""
    return {
        "type": "object",
        "properties": {f"f{n}": {"type": "string"} for n in range(1, version + 1)},
    }


@pytest.mark.slow
def test_a_hundred_registered_versions_arrive_in_order_across_a_restart(db_url: str) -> None:
    subject = f"orders-{uuid.uuid4().hex[:8]}/created"
    registry = Registry.from_url(db_url, defaults=SubjectConfig(compatibility=Compatibility.NONE))
    restarted = asyncio.Event()

    async def respond(request: ReceivedRequest) -> Response:
        if request.json()["data"]["version"] == 50 and not restarted.is_set():
            await asyncio.Event().wait()  # hang on v50 until the dispatcher is restarted
        return 200

    def register(versions: range) -> None:
        for version in versions:
            registry.register(subject, schema_v(version))

    async def scenario() -> list[ReceivedRequest]:
        async with LoopbackReceiver(respond) as receiver:
            first = WebhookStore.from_url(db_url)
            Webhooks(first).create(
                receiver.url, subjects=[subject], kinds=["schema.updated"], secret=SECRET
            )
            dispatcher = WebhookDispatcher(first, registry, options=FAST)
            task = asyncio.create_task(dispatcher.run())
            await asyncio.to_thread(register, range(1, 71))
            await receiver.wait_for_requests(50)
            await dispatcher.stop()
            await task
            first.close()

            await asyncio.to_thread(register, range(71, 101))
            restarted.set()
            second = WebhookStore.from_url(db_url)
            dispatcher = WebhookDispatcher(second, registry, options=FAST)
            task = asyncio.create_task(dispatcher.run())
            try:
                accepted = await receiver.wait_for(100, timeout=60)
                async with asyncio.timeout(30):
                    while second.count(DeliveryStatus.DELIVERED) < 100:
                        await asyncio.sleep(0.05)
            finally:
                await dispatcher.stop()
                await task
                second.close()
            return accepted

    try:
        accepted = asyncio.run(asyncio.wait_for(scenario(), 180))
        stored = {v: registry.get_version(subject, v) for v in range(1, 101)}
    finally:
        registry.close()
    events = [r.json() for r in accepted]
    assert [e["data"]["version"] for e in events] == list(range(1, 101))
    assert all(e["subject"] == subject for e in events)
    for event in events:
        version = stored[event["data"]["version"]]
        assert event["data"]["schema"] == version.schema
        assert event["data"]["schema_id"] == version.schema_id
    assert [c["code"] for c in events[1]["data"]["changes"]] == ["property_added"]
    assert len({e["id"] for e in events}) == 100
