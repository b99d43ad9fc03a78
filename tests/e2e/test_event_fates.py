"""Every fate an event can have, through `schemashift serve` over HTTP (docs/pipeline.md).

Real parts: uvicorn on a loopback port, SQLite, the in-process bus, the worker, the relay, the
registry; a real HTTP client. Pins the issue's checks: the README's stray events leave the
demo subject unchanged and are ``outlier`` dead letters; a quarantine parks what the version
refuses, a reject turns it (and later events showing the drift) into ``drift_rejected`` dead
letters within 2 s, and an accept re-drives the parked events, conformed under the new version.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import orjson
import pytest

from schemashift.server.demo_producer import demo_events, prepare_demo
from schemashift.server.settings import ServerSettings
from schemashift.server.testing import running_server
from tests.support.polling import eventually

T = TypeVar("T")
BATCH = "application/cloudevents-batch+json"
ORDERS = "shop/order.created"


def metric(http: httpx.Client, name: str, subject: str) -> float:
    """The sum of the samples of counter ``name`` labelled with ``subject`` (any reason)."""
    label = f'subject="{subject}"'
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in http.get("/metrics").text.splitlines()
        if line.startswith(name + "{") and label in line
    )


def settled(http: httpx.Client, subject: str) -> float:
    """Conformed + dead-lettered + parked events of ``subject`` so far."""
    return sum(
        metric(http, f"schemashift_events_{kind}_total", subject)
        for kind in ("conformed", "dead_lettered", "parked")
    )


def drain(server: Any, pattern: str) -> list[Any]:
    """Every message on the server's in-process bus matching ``pattern`` (read in its loop)."""

    async def read() -> list[Any]:
        sub = await server.bus.subscribe(pattern, durable=None)
        got: list[Any] = []
        while batch := await sub.fetch(1000, 0.05):
            got.extend(batch)
        await sub.close()
        return got

    return asyncio.run_coroutine_threadsafe(read(), server.loop).result(timeout=30)


def dead_letters(http: httpx.Client, **query: Any) -> list[dict[str, Any]]:
    answer = http.get("/v1/dead-letters", params={"limit": 1000, **query})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def post(http: httpx.Client, events: list[dict[str, Any]]) -> None:
    answer = http.post("/v1/events", content=orjson.dumps(events), headers={"Content-Type": BATCH})
    assert answer.status_code == 202, answer.text


@dataclass
class Strays:
    server: Any
    versions_before: Any
    latest_before: Any


@pytest.fixture(scope="module")
def strays(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Strays]:
    """``make run``'s demo subjects with ~3,000 demo events, then the README's two curl
    commands, exactly: ``{"id": "A1", "amount": 3}`` and ``{"id": "A2", "amount": 4}``."""
    database = tmp_path_factory.mktemp("strays") / "demo.db"
    settings = ServerSettings(db_url=f"sqlite:///{database}", port=0)
    with running_server(settings) as server, httpx.Client(base_url=server.url) as http:
        prepare_demo(server.registry)
        events = list(itertools.islice(demo_events(7, cycle=1600), 3000))
        for start in range(0, len(events), 200):
            post(http, events[start : start + 200])
        orders = sum(1 for e in events if f"{e['source']}/{e['type']}" == ORDERS)
        eventually(every=0.1, probe=lambda: settled(http, ORDERS) >= orders)
        versions = http.get(f"/subjects/{ORDERS.replace('/', '%2F')}/versions").json()
        latest = http.get(f"/subjects/{ORDERS.replace('/', '%2F')}/versions/latest").json()
        structured = http.post(  # the README's first curl command
            "/v1/events",
            headers={"Content-Type": "application/cloudevents+json"},
            content=b'{"specversion":"1.0","id":"1","source":"shop","type":"order.created",'
            b'"data":{"id":"A1","amount":3}}',
        )
        plain = http.post(  # and its second
            "/v1/events",
            params={"subject": ORDERS},
            headers={"Content-Type": "application/json"},
            content=b'{"id":"A2","amount":4}',
        )
        assert structured.status_code == plain.status_code == 202
        eventually(every=0.1, probe=lambda: len(dead_letters(http, subject=ORDERS)) >= 2)
        yield Strays(server, versions, latest)


def test_the_readme_strays_leave_the_demo_subject_unchanged(strays: Strays) -> None:
    """The order schema keeps its versions and required fields, and the two strays are
    ``outlier`` dead letters naming the changes they would have needed and the support they
    lacked."""
    with httpx.Client(base_url=strays.server.url) as http:
        rows = dead_letters(http, subject=ORDERS)
        assert {row["reason"] for row in rows} == {"outlier"} and len(rows) == 2
        # the original bytes: a structured CloudEvent (its data inside) and a plain payload
        assert {(row["data"].get("data") or row["data"])["id"] for row in rows} == {"A1", "A2"}
        assert "became_optional" in {d.get("code") for d in rows[0]["details"]}
        assert "of the last" in rows[0]["message"]  # the support it lacked, in words
        path = f"/subjects/{ORDERS.replace('/', '%2F')}/versions"
        assert http.get(path).json() == strays.versions_before
        assert http.get(f"{path}/latest").json()["schema"] == strays.latest_before["schema"]
        counts = http.get("/v1/dead-letters/counts", params={"subject": ORDERS}).json()
        assert counts["counts"]["dead"] == {"outlier": 2}


@pytest.mark.browser
def test_the_strays_are_visible_in_the_ui(strays: Strays, page: Any) -> None:
    """The subject page of the demo's order subject counts the two outliers, in chromium."""
    page.goto(f"{strays.server.url}/ui/subjects/{ORDERS}")
    cell = page.locator('#dl-reasons tr[data-reason="outlier"] td.dead')
    cell.wait_for()
    assert cell.inner_text() == "2"
    assert page.locator("#dl-items tr.dead-letter").count() == 2


def consumer_drift(n: int, start: int, *, drop_email: bool) -> list[dict[str, Any]]:
    return [
        {
            "specversion": "1.0",
            "id": f"u-{i}",
            "source": "identity",
            "type": "signup",
            "data": {"user_id": i, "plan": "free"}
            if drop_email
            else {"user_id": i, "plan": "free", "email": f"u{i}@example.com"},
        }
        for i in range(start, start + n)
    ]


SIGNUPS = "identity/signup"


def quarantined_signups(http: httpx.Client) -> tuple[int, int]:
    """A subject whose `email` a consumer reads: 50 events, then 20 without `email` — parked
    (the version requires it) under the quarantine the consumer's contract forces."""
    http.put(
        f"/v1/subjects/{SIGNUPS.replace('/', '%2F')}/consumers/mailer", json={"fields": ["/email"]}
    )
    post(http, consumer_drift(50, 0, drop_email=False))
    eventually(every=0.1, probe=lambda: settled(http, SIGNUPS) >= 50)
    post(http, consumer_drift(20, 50, drop_email=True))
    eventually(every=0.1, probe=lambda: settled(http, SIGNUPS) >= 70)
    parked = dead_letters(http, subject=SIGNUPS, state="parked")
    assert len(parked) == 20 and {row["reason"] for row in parked} == {"quarantined"}
    [item] = http.get("/v1/quarantine", params={"subject": SIGNUPS}).json()
    assert {row["quarantine_id"] for row in parked} == {item["id"]}
    return item["id"], len(parked)


def test_reject_then_continue(tmp_path: Path) -> None:
    """After a reject, the parked events become ``drift_rejected`` dead letters and, within
    2 s, the subject's new events showing the drift are dead letters of that reason too —
    never ``quarantined`` again; events the version takes are conformed as before."""
    settings = ServerSettings(db_url=f"sqlite:///{tmp_path / 'reject.db'}", port=0)
    with running_server(settings) as server, httpx.Client(base_url=server.url) as http:
        qid, parked = quarantined_signups(http)
        answer = http.post(f"/v1/quarantine/{qid}/reject")
        assert answer.status_code == 200, answer.text
        rejected_at = time.monotonic()
        eventually(
            lambda: len(dead_letters(http, subject=SIGNUPS, reason="drift_rejected")) >= parked,
            within=2.0,
        )
        assert dead_letters(http, subject=SIGNUPS, state="parked") == []
        time.sleep(max(0.0, 2.0 - (time.monotonic() - rejected_at)))
        post(http, consumer_drift(10, 100, drop_email=True))
        post(http, consumer_drift(5, 200, drop_email=False))
        eventually(every=0.1, probe=lambda: settled(http, SIGNUPS) >= 85)
        rows = [
            row
            for state in ("dead", "parked", "replayed")
            for row in dead_letters(http, subject=SIGNUPS, state=state)
        ]
        reasons = sorted({row["reason"] for row in rows})
        assert reasons == ["drift_rejected"], reasons
        assert len(rows) == parked + 10
        assert metric(http, "schemashift_events_conformed_total", SIGNUPS) == 55
        assert server.registry.list_versions(SIGNUPS) == [1]


def test_accept_then_replay(tmp_path: Path) -> None:
    """Accepting the quarantine registers the drift as a version and re-drives every parked
    event through the raw stream: each comes out conformed under the new version."""
    settings = ServerSettings(db_url=f"sqlite:///{tmp_path / 'accept.db'}", port=0)
    with running_server(settings) as server, httpx.Client(base_url=server.url) as http:
        qid, parked = quarantined_signups(http)
        answer = http.post(f"/v1/quarantine/{qid}/accept")
        assert answer.status_code == 200, answer.text
        version = answer.json()["resolved_version"]
        assert version == 2
        conformed = "schemashift_events_conformed_total"
        eventually(every=0.1, probe=lambda: metric(http, conformed, SIGNUPS) >= 50 + parked)
        assert dead_letters(http, subject=SIGNUPS, state="parked") == []
        replayed = dead_letters(http, subject=SIGNUPS, state="replayed")
        assert len(replayed) == parked
        events = drain(server, "schemashift.events.>")
        by_id = {m.headers["ce-id"]: orjson.loads(m.data) for m in events}
        redriven = [by_id[f"u-{i}"] for i in range(50, 70)]
        assert {e["schemaVersion"] for e in redriven} == {version}
        assert all("email" not in e for e in redriven)
        latest = server.registry.get_version(SIGNUPS, "latest")
        assert latest.version == version
        assert "email" not in latest.schema.get("required", [])
