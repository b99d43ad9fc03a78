"""The web UI in a real browser: Debian's chromium driven by Playwright, against a real server.

The server runs in-process (uvicorn on a loopback port, a SQLite file, the in-process bus);
its registry is fed drift through ``Registry.observe`` and dead letters through
``Registry.record_dead_letters`` — the calls the stream worker makes — so the subjects,
versions, quarantines and dead letters the pages show are real registry state.
Each test keeps a screenshot of its page under ``test-artifacts/ui/``.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
import pytest

from schemashift.registry.config import Compatibility, ConfigPatch
from schemashift.registry.dead_letters import DeadLetter
from schemashift.server.app import SchemaShiftServer
from schemashift.server.settings import ServerSettings
from schemashift.server.testing import running_server
from schemashift.webhooks.verify import verify_signature
from tests.support.environment import REPO_ROOT

pytestmark = pytest.mark.browser

ARTIFACTS = REPO_ROOT / "test-artifacts" / "ui"
ORDERS = "shop/order.created"
PAYMENTS = "billing/payment.succeeded"
BATCH = 25


def orders(start: int, *, coupon: bool = False, fractional: bool = False) -> list[dict[str, Any]]:
    out = []
    for n in range(start, start + BATCH):
        order: dict[str, Any] = {
            "order_id": f"o-{n}",
            "customer": {"id": f"c-{n % 7}", "country": "DE"},
            "quantity": n % 5 + 1 + (0.5 if fractional and n % 2 else 0),
        }
        if coupon and n % 3:
            order["coupon"] = f"SAVE{n % 4}"
        out.append(order)
    return out


def payments(start: int, *, refund: bool = False) -> list[dict[str, Any]]:
    out = []
    for n in range(start, start + BATCH):
        payment: dict[str, Any] = {"payment_id": f"p-{n}", "amount": n + 0.5}
        if refund:
            payment["refund_of"] = f"p-{n - 1}"
        out.append(payment)
    return out


def seed(server: SchemaShiftServer) -> dict[str, list[str]]:
    """Orders evolve freely (compatibility NONE): v1, a new optional field (v2), a widened
    type (v3). Payments need a person (auto-register off): their drift is quarantined."""
    registry = server.registry
    decisions: dict[str, list[str]] = {"orders": [], "payments": []}
    registry.set_config(ORDERS, ConfigPatch(compatibility=Compatibility.NONE))
    for batch in (orders(0), orders(100, coupon=True), orders(200, coupon=True, fractional=True)):
        decisions["orders"].append(registry.observe(ORDERS, batch).decision.value)
    decisions["orders"].append(registry.observe(ORDERS, orders(300, coupon=True)).decision.value)
    registry.declare_consumer(ORDERS, "billing", ["/order_id", "/quantity"])
    decisions["payments"].append(registry.observe(PAYMENTS, payments(0)).decision.value)
    registry.set_config(PAYMENTS, ConfigPatch(auto_register=False))
    decisions["payments"].append(
        registry.observe(PAYMENTS, payments(100, refund=True)).decision.value
    )
    return decisions


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SchemaShiftServer]:
    db = tmp_path_factory.mktemp("ui") / "ui.db"
    # no worker: the registry is fed directly, so what the pages show is exactly what we seeded
    settings = ServerSettings(db_url=f"sqlite:///{db}", port=0, workers=0)
    with running_server(settings) as running:
        decisions = seed(running)
        assert decisions["payments"][-1] == "quarantined", decisions
        assert running.registry.list_versions(ORDERS) == [1, 2, 3], decisions
        yield running


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def subject_url(server: SchemaShiftServer, subject: str) -> str:
    return f"{server.url}/ui/subjects/{subject}"


def test_subjects_list(server: SchemaShiftServer, page: Any) -> None:
    """The list shows each subject with its latest version and status, and the totals."""
    page.goto(server.url + "/")
    page.wait_for_selector(f'tr[data-subject="{PAYMENTS}"]')
    orders_row = page.locator(f'tr[data-subject="{ORDERS}"]')
    payments_row = page.locator(f'tr[data-subject="{PAYMENTS}"]')
    assert orders_row.locator("td.latest").inner_text() == "v3"
    assert payments_row.locator(".badge").inner_text() == "quarantined"
    assert orders_row.locator("svg.spark polyline").count() == 1  # the drift sparkline
    assert page.locator("#t-quarantines").inner_text() == "1"
    assert page.locator("#t-subjects").inner_text() == "2"
    # the activity feed tells the story: versions registered, the drift quarantined
    page.wait_for_selector('#activity li[data-kind="drift.quarantined"]')
    feed = page.locator("#activity").inner_text()
    assert f"{PAYMENTS} drift quarantined" in feed
    assert f"{ORDERS} v3 registered" in feed
    shot(page, "subjects")


def test_subject_page(server: SchemaShiftServer, page: Any) -> None:
    """Clicking a subject opens its page: versions timeline, schema viewer, drift chart."""
    page.goto(server.url + "/")
    page.click(f'a.subject-link:text-is("{ORDERS}")')
    page.wait_for_selector(".timeline .dot")
    assert page.locator("#title").inner_text() == ORDERS
    assert page.locator(".timeline .dot").count() == 3
    assert page.locator("#t-latest").inner_text() == "v3"
    assert '"coupon"' in page.locator("#schema-view").inner_text()
    # clicking v1 in the timeline shows v1's schema, which has no coupon yet
    page.click('.timeline .dot[data-version="1"]')
    assert '"coupon"' not in page.locator("#schema-view").inner_text()
    assert page.locator("#drift-chart svg circle").count() >= 2
    consumer = page.locator("#consumers tbody tr").first.inner_text()
    assert "billing" in consumer and "/quantity" in consumer
    shot(page, "subject")


def test_diff_between_two_versions(server: SchemaShiftServer, page: Any) -> None:
    """Choosing v1 → v2 lists the added field with its score contribution and highlights
    its lines in the newer schema."""
    page.goto(subject_url(server, ORDERS))
    page.wait_for_selector("#diff-changes tr.change")
    page.select_option("#diff-from", "1")
    page.select_option("#diff-to", "2")
    page.click("#diff-show")
    page.wait_for_selector('#diff-summary:has-text("v1 → v2")')
    rows = page.locator("#diff-changes tr.change")
    paths = [rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())]
    assert "/coupon" in paths
    assert "drift score" in page.locator("#diff-score").inner_text()
    contribution = rows.nth(paths.index("/coupon")).locator("td.contribution").inner_text()
    assert float(contribution.strip()) > 0
    added = page.locator("#diff-new .ln.added")
    assert added.count() >= 1
    assert any("coupon" in added.nth(i).inner_text() for i in range(added.count()))
    assert not any("coupon" in line for line in page.locator("#diff-old .ln").all_inner_texts())
    shot(page, "diff")


def test_accept_a_quarantined_drift(server: SchemaShiftServer, page: Any) -> None:
    """Accepting the quarantined drift registers it as a new version; the page says which,
    the queue empties and the subject becomes v2."""
    page.goto(subject_url(server, PAYMENTS))
    item = page.locator(".quarantine-item")
    item.first.wait_for()
    assert page.locator("#status").inner_text() == "quarantined"
    assert "auto-register off" in page.locator("#policy").inner_text()  # why it waits
    assert "/refund_of" in item.first.inner_text()
    # the events that showed the drift are there to inspect
    item.first.locator("details.samples summary").click()
    assert '"refund_of"' in item.first.locator("pre.sample").first.inner_text()
    shot(page, "quarantine")
    item.first.locator("button.accept").click()
    page.wait_for_selector(".flash:has-text('registered as version 2')")
    page.wait_for_selector("#quarantine:has-text('Nothing quarantined')")
    page.wait_for_selector('#t-latest:text-is("v2")')
    assert page.locator(".timeline .dot").count() == 2
    # the schema viewer follows the new version: it shows the accepted field
    page.wait_for_selector('#schema-view:has-text("refund_of")')
    shot(page, "accepted")
    # the decision is the registry's, not the page's: the API agrees
    versions = httpx.get(f"{server.url}/subjects/billing%2Fpayment.succeeded/versions").json()
    assert versions == [1, 2]


class _Receiver(http.server.BaseHTTPRequestHandler):
    """A webhook endpoint on loopback that records what it is sent."""

    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.received.append((dict(self.headers.items()), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        del format, args  # keep test output clean


@pytest.fixture()
def receiver() -> Iterator[str]:
    _Receiver.received.clear()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/hook"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_webhook_subscription_from_the_ui(
    server: SchemaShiftServer, page: Any, receiver: str
) -> None:
    """Subscribing from the page shows the secret once; a new version is then delivered,
    signed, and the delivery appears as delivered."""
    page.goto(server.url + "/ui/webhooks")
    page.fill("input[name=url]", receiver)
    page.fill("input[name=subjects]", "iot/*")
    page.click("#new-subscription button[type=submit]")
    page.wait_for_selector(".flash:has-text('signing secret')")
    secret = page.locator(".flash").inner_text().rsplit(": ", 1)[1].strip()
    assert secret.startswith("whsec_")
    page.wait_for_selector("#subscriptions tr[data-subscription]")
    server.registry.register("iot/reading", {"type": "object"})
    page.wait_for_selector("#deliveries .badge:text-is('delivered')", timeout=20_000)
    row = page.locator("#deliveries tbody tr").first.inner_text()
    assert "iot/reading" in row
    assert "schema.updated" in row
    headers, body = _Receiver.received[0]
    verify_signature(secret, headers, body)  # signed with the secret the page showed
    assert json.loads(body)["subject"] == "iot/reading"
    shot(page, "webhooks")


def _dead_letter(n: int, reason: str, **kw: Any) -> DeadLetter:
    values: dict[str, Any] = {
        "msg_id": f"SCHEMASHIFT_RAW:ui-{n}",
        "subject": ORDERS,
        "reason": reason,
        "message": f"order {n}: /quantity is not a number",
        "path": "/quantity",
        "details": ({"code": reason, "path": "/quantity", "message": "expected number"},),
        "quarantine_id": None,
        "headers": {"ce-id": f"ui-{n}", "ce-source": "shop", "ce-type": "order.created"},
        "data": json.dumps({"order_id": f"o-{n}", "quantity": f"many-{n}"}).encode(),
        "raw_subject": "schemashift.raw.in",
        "raw_seq": n,
        "time": datetime.now(UTC),
    }
    values.update(kw)
    return DeadLetter(**values)


def _raw_stream(server: SchemaShiftServer) -> list[Any]:
    """The raw stream of the server's in-process bus, read on the server's own loop."""

    async def read() -> list[Any]:
        sub = await server.bus.subscribe("schemashift.raw.>", durable=None)
        got: list[Any] = []
        while batch := await sub.fetch(1000, 0.05):
            got.extend(batch)
        await sub.close()
        return got

    return asyncio.run_coroutine_threadsafe(read(), server.loop).result(10)


def test_dead_letters_panel_shows_and_replays(server: SchemaShiftServer, page: Any) -> None:
    """The subject page counts dead letters by reason (and parked), lists the newest, reveals
    a payload, and its Replay buttons re-drive through the API: the rows become replayed and
    the original messages appear on the raw stream of the app's bus. A dead-letter share over
    1 % makes the subject `degraded` in the list."""
    registry = server.registry
    registry.record_dead_letters(
        [
            *(_dead_letter(n, "type_mismatch") for n in (1, 2, 3)),
            _dead_letter(4, "too_deep", path=None),
            _dead_letter(5, "type_mismatch", state="parked", quarantine_id=9),
        ]
    )
    first = {row.msg_id: row.id for row in registry.list_dead_letters(state=None)[0]}
    mismatched = sorted(first[f"SCHEMASHIFT_RAW:ui-{n}"] for n in (1, 2, 3))
    deep = first["SCHEMASHIFT_RAW:ui-4"]
    page.goto(subject_url(server, ORDERS))
    reason = page.locator('#dl-reasons tr[data-reason="type_mismatch"]')
    reason.wait_for()
    assert reason.locator("td.dead").inner_text() == "3"
    assert reason.locator("td.parked").inner_text() == "1"
    assert page.locator('#dl-reasons tr[data-reason="too_deep"] td.dead').inner_text() == "1"
    assert page.locator("#dl-summary").inner_text() == "4 dead · 1 parked · 0 replayed"
    rows = page.locator("#dl-items tr.dead-letter")
    assert rows.count() == 4
    assert rows.first.get_attribute("data-id") == str(deep)  # newest first
    # reveal the original payload of one dead letter
    item = page.locator(f'#dl-items tr.dead-letter[data-id="{mismatched[0]}"]')
    assert "/quantity" in item.inner_text()
    item.locator("button.show").click()
    shown = page.locator(f'#dl-items tr.payload[data-for="{mismatched[0]}"] pre.payload-text')
    shown.wait_for()
    assert json.loads(shown.inner_text()) == {"order_id": "o-1", "quantity": "many-1"}
    shot(page, "dead-letters")
    before = len(_raw_stream(server))
    # replay one reason, then one item
    reason.locator("button.replay").click()
    page.wait_for_selector("#dead-letters-card .flash:has-text('Replayed 3 dead letters')")
    page.wait_for_selector('#dl-reasons tr[data-reason="type_mismatch"] td.replayed:text-is("3")')
    page.locator(f'#dl-items tr.dead-letter[data-id="{deep}"] button.replay').click()
    page.wait_for_selector("#dead-letters-card .flash:has-text('Replayed 1 dead letter ')")
    page.wait_for_selector("#dl-summary:has-text('0 dead · 1 parked · 4 replayed')")
    page.wait_for_selector("#dl-items tr.empty")
    shot(page, "dead-letters-replayed")
    replayed = registry.list_dead_letters(subject=ORDERS, state="replayed")[0]
    assert sorted(row.id for row in replayed) == sorted([*mismatched, deep])
    fresh = _raw_stream(server)[before:]
    assert sorted(int(m.headers["schemashift-replay-of"]) for m in fresh) == sorted(
        [*mismatched, deep]
    )
    assert {m.subject for m in fresh} == {"schemashift.raw.shop_2Forder_2Ecreated"}
    originals = {registry.get_dead_letter(i).data for i in [*mismatched, deep]}
    assert {m.data for m in fresh} == originals
    # the live dead-letter share: 5 of 100 events over the window ⇒ degraded in the list
    httpx.get(f"{server.url}/ui/api/subjects")  # the window's first sample
    server.metrics.events_in.labels(ORDERS).inc(100)
    server.metrics.events_dead_lettered.labels(ORDERS, "type_mismatch").inc(5)
    page.goto(server.url + "/")
    page.wait_for_selector(f'tr[data-subject="{ORDERS}"] .badge:text-is("degraded")')
    shot(page, "degraded")
