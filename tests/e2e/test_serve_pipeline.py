"""The whole loop in one server: HTTP ingest → bus → worker → registry → UI, metrics and logs.

Real parts throughout: uvicorn on a loopback port, SQLite or PostgreSQL, the in-process bus
or a real ``nats-server -js``. Waiting is bounded polling for an outcome, never a timing
assertion.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from schemashift.server.settings import ServerSettings
from schemashift.server.testing import running_server
from tests.support.polling import eventually
from tests.support.servers import NatsServer

T = TypeVar("T")
BATCH = "application/cloudevents-batch+json"


def orders(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "specversion": "1.0",
            "id": f"order-{i}",
            "source": "shop",
            "type": "order.created",
            "data": {"order_id": f"o-{i}", "amount": i % 50 + 1, "currency": "EUR"},
        }
        for i in range(start, start + n)
    ]


def subject_row(http: httpx.Client, subject: str) -> dict[str, Any] | None:
    rows = http.get("/ui/api/subjects").json()["subjects"]
    return next((r for r in rows if r["subject"] == subject), None)


def metric(http: httpx.Client, line_prefix: str) -> float:
    for line in http.get("/metrics").text.splitlines():
        if line.startswith(line_prefix):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def check_loop(http: httpx.Client) -> None:
    """Posted events become a subject with a version, conformed events and counters."""
    answer = http.post("/v1/events", json=orders(40), headers={"Content-Type": BATCH})
    assert answer.status_code == 202, answer.text
    assert answer.json()["accepted"] == 40
    row = eventually(
        lambda: (r := subject_row(http, "shop/order.created")) and r["latest_version"] and r
    )
    assert row["latest_version"] == 1
    conformed = 'schemashift_events_conformed_total{subject="shop/order.created"}'
    eventually(lambda: metric(http, conformed) == 40.0)
    assert metric(http, 'schemashift_events_in_total{subject="shop/order.created"}') == 40.0
    assert metric(http, "schemashift_versions_registered_total") >= 1.0
    version = http.get("/subjects/shop%2Forder.created/versions/1").json()
    assert "order_id" in version["schema"]


@pytest.mark.parametrize("workers", [1, 2])
def test_ingest_to_version_on_the_embedded_defaults(tmp_path: Path, workers: int) -> None:
    """Also with two workers in one process sharing the raw stream: each event once."""
    settings = ServerSettings(db_url=f"sqlite:///{tmp_path / 'loop.db'}", port=0, workers=workers)
    with running_server(settings) as server, httpx.Client(base_url=server.url) as http:
        check_loop(http)


@pytest.mark.nats
def test_on_nats_and_readiness_follows_the_bus(tmp_path: Path, nats_server: NatsServer) -> None:
    """With --bus nats:// the same loop works; /readyz turns 503 while NATS is down and back
    to 200 once it returns."""
    settings = ServerSettings(
        db_url=f"sqlite:///{tmp_path / 'nats.db'}", bus_url=nats_server.url, port=0
    )
    with running_server(settings) as server, httpx.Client(base_url=server.url) as http:
        check_loop(http)
        nats_server.stop()
        down = eventually(lambda: (r := http.get("/readyz")).status_code == 503 and r)
        assert down.json()["checks"]["bus"].startswith("error")
        assert down.json()["checks"]["store"] == "ok"
        nats_server.start()
        eventually(lambda: http.get("/readyz").status_code == 200)


@pytest.mark.postgres
def test_on_postgresql(postgres_url: str) -> None:
    """With --db postgresql:// the same loop works (the shared store of a distributed set-up)."""
    settings = ServerSettings(db_url=postgres_url, port=0, bus_prefix="pgloop")
    with running_server(settings) as server, httpx.Client(base_url=server.url) as http:
        check_loop(http)


@pytest.mark.postgres
@pytest.mark.nats
def test_distributed_api_and_worker_processes(
    tmp_path: Path, postgres_url: str, nats_server: NatsServer
) -> None:
    """The distributed set-up: an API-only instance (no worker) and a worker-only instance
    (no UI) share PostgreSQL and NATS; events posted to the API are learned by the worker
    and the version shows in the API instance's UI."""
    shared = ServerSettings(db_url=postgres_url, bus_url=nats_server.url, port=0)
    api = dataclasses.replace(shared, workers=0, relay=False)
    worker = dataclasses.replace(shared, ui=False, workers=1)
    with (
        running_server(api) as front,
        running_server(worker) as back,
        httpx.Client(base_url=front.url) as http,
    ):
        events = orders(30)
        for event in events:
            event["source"] = "fleet"
        assert (
            http.post("/v1/events", json=events, headers={"Content-Type": BATCH}).status_code == 202
        )
        row = eventually(
            lambda: (r := subject_row(http, "fleet/order.created")) and r["latest_version"] and r
        )
        assert row["latest_version"] == 1
        # the worker instance did the work; the API instance only published
        assert metric(http, 'schemashift_events_in_total{subject="fleet/order.created"}') == 0.0
        with httpx.Client(base_url=back.url) as worker_http:
            assert worker_http.get("/ui/api/subjects").status_code == 404  # no UI there
            eventually(
                lambda: (
                    metric(
                        worker_http,
                        'schemashift_events_conformed_total{subject="fleet/order.created"}',
                    )
                    == 30.0
                )
            )


@pytest.mark.slow
def test_the_demo_shows_versions_and_a_quarantine(tmp_path: Path) -> None:
    """What `make run` promises a newcomer: with the demo producer on, subjects appear,
    versions evolve (a new optional field, a widened type) and a *forbidden* change is
    quarantined for the policy the demo configures — on the default demo settings."""
    settings = ServerSettings(db_url=f"sqlite:///{tmp_path / 'demo.db'}", port=0, demo=True)
    with running_server(settings) as server, httpx.Client(base_url=server.url) as http:

        def promised() -> dict[str, Any] | None:
            body = http.get("/ui/api/subjects").json()
            evolved = [r for r in body["subjects"] if (r["latest_version"] or 0) >= 2]
            if len(body["subjects"]) >= 4 and evolved and body["totals"]["open_quarantines"]:
                return body
            return None

        def drift_codes(subject: str) -> set[str]:
            events = http.get(f"/v1/subjects/{subject.replace('/', '%2F')}/drift").json()
            rows = events if isinstance(events, list) else events.get("events", [])
            return {
                f"{c['code']}:{c['path']}"
                for e in rows
                if e["decision"] == "registered"
                for c in e["changes"]
            }

        def all_promised() -> bool:
            orders, clicks = drift_codes("shop/order.created"), drift_codes("web/page.clicked")
            return (
                "property_added:/viewport" in clicks
                and "property_added:/gift_message" in orders
                and "type_widened:/line_items/*/quantity" in orders
            )

        body = eventually(promised, within=90.0)
        eventually(all_promised, within=90.0)

        def forbidden_quarantined() -> list[dict[str, Any]] | None:
            items: list[dict[str, Any]] = http.get(
                "/v1/quarantine", params={"status": "open"}
            ).json()
            reasons: dict[str, str] = {}
            for item in items:
                reasons[item["subject"]] = reasons.get(item["subject"], "") + str(item["reasons"])
            payment = reasons.get("billing/payment.succeeded", "")
            signup = reasons.get("identity/user.signed_up", "")
            if "not FULL compatible" in payment and "/amount" in payment and signup:
                return items
            return None

        items = eventually(forbidden_quarantined, within=90.0)
        signups = [i for i in items if i["subject"] == "identity/user.signed_up"]
        assert any("welcome-mailer" in r for i in signups for r in i["reasons"]), signups
        for item in items:  # nothing but the forbidden changes is quarantined
            assert item["subject"] in ("billing/payment.succeeded", "identity/user.signed_up")
        versions = http.get("/subjects/billing%2Fpayment.succeeded/versions").json()
        assert versions == [1]  # the forbidden change never became a version
    assert body["totals"]["events_per_second"] > 0


@pytest.mark.nats
def test_bus_lag_is_measured_on_jetstream(tmp_path: Path, nats_server: NatsServer) -> None:
    """schemashift_bus_lag counts raw events the workers have not taken yet: it rises while
    no worker runs and falls back to 0 once one does."""
    shared = ServerSettings(
        db_url=f"sqlite:///{tmp_path / 'lag.db'}",
        bus_url=nats_server.url,
        port=0,
        monitor_interval=0.2,
    )
    with running_server(dataclasses.replace(shared, ui=False)):
        pass  # a worker binds the shared durable consumer, then goes away
    api = dataclasses.replace(shared, workers=0, relay=False)
    with running_server(api) as front, httpx.Client(base_url=front.url) as http:
        assert (
            http.post("/v1/events", json=orders(25), headers={"Content-Type": BATCH}).status_code
            == 202
        )
        eventually(lambda: metric(http, "schemashift_bus_lag") == 25.0)
        with running_server(dataclasses.replace(shared, ui=False)):
            eventually(lambda: metric(http, "schemashift_bus_lag") == 0.0)


@pytest.mark.nats
def test_a_lagging_schema_subscriber_is_logged(tmp_path: Path, nats_server: NatsServer) -> None:
    """A subscriber of schema updates that stopped reading falls behind as versions are
    registered; the server logs `subscriber.lagging` naming it, once."""
    import asyncio
    import io
    import json
    import logging

    from schemashift.bus import connect_bus
    from schemashift.monitoring.logs import configure_logging

    async def bind_then_leave() -> None:
        bus = await connect_bus(nats_server.url)
        subscription = await bus.subscribe("schemashift.schemas.>", durable="slow-reader")
        await subscription.close()
        await bus.close()

    asyncio.run(bind_then_leave())
    out = io.StringIO()
    configure_logging(out)
    try:
        settings = ServerSettings(
            db_url=f"sqlite:///{tmp_path / 'sub.db'}",
            bus_url=nats_server.url,
            port=0,
            lag_warning=2,
            monitor_interval=0.2,
        )
        with running_server(settings) as server:
            for n in range(4):
                server.registry.register(f"fleet/s{n}", {"type": "object"})

            def lagging() -> list[dict[str, Any]]:
                lines = [json.loads(line) for line in out.getvalue().splitlines()]
                return [e for e in lines if e["event"] == "subscriber.lagging"]

            (event,) = eventually(lagging)
            time.sleep(1.0)  # a few more checks: still logged once
            assert len(lagging()) == 1
    finally:
        logger = logging.getLogger("schemashift")
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = True
    assert event["subscriber"] == "schemas:slow-reader"
    assert event["lag"] > 2
