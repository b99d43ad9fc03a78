"""/v1/webhooks on the real app from create_app (in-process client; HTTP e2e is in tests/e2e)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from schemashift.api import webhooks as webhooks_api
from schemashift.api.app import create_app
from schemashift.registry.service import Registry
from schemashift.webhooks import DeliveryStatus, Webhooks, WebhookStore
from schemashift.webhooks.store import NewDelivery

SECRET = "whsec_api-secret-0123456789"


@pytest.fixture()
def env(tmp_path: Path) -> Iterator[tuple[TestClient, WebhookStore]]:
    url = f"sqlite:///{tmp_path / 'api.db'}"
    registry = Registry.from_url(url)
    store = WebhookStore.from_url(url)
    app = create_app(
        registry,
        routers=[webhooks_api.router],
        state={"webhooks": Webhooks(store), "sunset_sweep_seconds": 0},
    )
    with TestClient(app) as client:
        yield client, store
    store.close()
    registry.close()


def test_create_list_get_patch_delete(env: tuple[TestClient, WebhookStore]) -> None:
    """The secret is answered once (on create), never in listings."""
    api, _ = env
    created = api.post(
        "/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "subjects": ["orders/*"], "secret": SECRET},
    )
    assert created.status_code == 201
    body = created.json()
    assert body["secret"] == SECRET
    assert body["kinds"] == sorted(
        [
            "drift.quarantined",
            "quarantine.accepted",
            "quarantine.rejected",
            "schema.updated",
            "version.sunset",
        ]
    )
    sub = body["id"]
    listed = api.get("/v1/webhooks").json()
    assert [(v["id"], v["pending"], v["dead"]) for v in listed] == [(sub, 0, 0)]
    assert "secret" not in listed[0]
    assert "secret" not in api.get(f"/v1/webhooks/{sub}").json()
    patched = api.patch(f"/v1/webhooks/{sub}", json={"enabled": False, "kinds": ["schema.updated"]})
    assert patched.status_code == 200
    assert (patched.json()["enabled"], patched.json()["kinds"]) == (False, ["schema.updated"])
    assert "secret" not in patched.json()
    rotated = api.patch(f"/v1/webhooks/{sub}", json={"secret": "whsec_rotated-0123456789"})
    assert rotated.json()["secret"] == "whsec_rotated-0123456789"
    assert api.delete(f"/v1/webhooks/{sub}").status_code == 204
    gone = api.get(f"/v1/webhooks/{sub}")
    assert (gone.status_code, gone.json()["error_code"]) == (404, 40410)


def test_a_generated_secret_is_long_and_random(env: tuple[TestClient, WebhookStore]) -> None:
    api, _ = env
    one = api.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/a"}).json()["secret"]
    two = api.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/b"}).json()["secret"]
    assert one != two
    assert len(one) >= 40


@pytest.mark.parametrize(
    ("body", "status", "code", "fragment"),
    [
        ({"url": "http://169.254.169.254/latest"}, 422, 42211, "metadata"),
        ({"url": "http://10.0.0.1/"}, 422, 42211, "allow-list"),
        ({"url": "ftp://127.0.0.1/"}, 422, 42211, "http or https"),
        ({"url": "http://127.0.0.1/", "subjects": ["re:("]}, 422, 42200, "invalid subject pattern"),
        ({"url": "http://127.0.0.1/", "subjects": []}, 422, 42200, "at least one"),
        (
            {"url": "http://127.0.0.1/", "kinds": ["schema.deleted"]},
            422,
            42200,
            "unknown event kind",
        ),
        ({"url": "http://127.0.0.1/", "secret": "short"}, 422, 42200, "at least 16"),
    ],
)
def test_invalid_subscriptions_are_refused_with_a_reason(
    env: tuple[TestClient, WebhookStore],
    body: dict[str, Any],
    status: int,
    code: int,
    fragment: str,
) -> None:
    api, store = env
    answer = api.post("/v1/webhooks", json=body)
    assert answer.status_code == status
    assert answer.json()["error_code"] == code
    assert fragment in answer.json()["message"]
    assert store.list_subscriptions() == []


def test_unknown_fields_are_refused(env: tuple[TestClient, WebhookStore]) -> None:
    api, _ = env
    assert api.post("/v1/webhooks", json={"url": "http://127.0.0.1/", "x": 1}).status_code == 422


def test_a_patch_is_validated_like_a_create(env: tuple[TestClient, WebhookStore]) -> None:
    api, store = env
    sub = api.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/"}).json()["id"]
    answer = api.patch(f"/v1/webhooks/{sub}", json={"url": "http://169.254.169.254/"})
    assert answer.status_code == 422
    assert store.get_subscription(sub).url == "http://127.0.0.1:9/"


def _dead_letter(store: WebhookStore, sub: int) -> int:
    event = b'{"id":"1-%d","specversion":"1.0"}' % sub
    store.fan_out(
        0, 1, [NewDelivery(sub, 1, "orders/created", "schema.updated", f"1-{sub}", event)], now=1.0
    )
    (delivery,) = store.queue_heads(sub)
    store.record_attempt(
        delivery,
        at=2.0,
        outcome="failed",
        status=DeliveryStatus.DEAD,
        next_attempt_at=2.0,
        status_code=410,
        error="HTTP 410",
    )
    return delivery.id


def test_dead_letters_are_listed_inspected_and_resent(env: tuple[TestClient, WebhookStore]) -> None:
    api, store = env
    sub = api.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/"}).json()["id"]
    delivery = _dead_letter(store, sub)
    (letter,) = api.get("/v1/webhooks/dead-letters").json()
    assert (letter["id"], letter["status"], letter["last_status_code"]) == (delivery, "dead", 410)
    assert api.get(f"/v1/webhooks/{sub}").json()["dead"] == 1
    detail = api.get(f"/v1/webhooks/deliveries/{delivery}").json()
    assert detail["event"] == {"id": f"1-{sub}", "specversion": "1.0"}
    assert [a["outcome"] for a in detail["attempts_log"]] == ["failed"]
    resent = api.post(f"/v1/webhooks/deliveries/{delivery}/resend")
    assert (resent.status_code, resent.json()["status"], resent.json()["attempts"]) == (
        202,
        "pending",
        0,
    )
    assert api.get("/v1/webhooks/dead-letters").json() == []
    pending = api.get("/v1/webhooks/deliveries", params={"status": "pending"}).json()
    assert [d["id"] for d in pending] == [delivery]


def test_all_dead_letters_of_a_subscription_are_resent_at_once(
    env: tuple[TestClient, WebhookStore],
) -> None:
    api, store = env
    sub = api.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/"}).json()["id"]
    _dead_letter(store, sub)
    answer = api.post("/v1/webhooks/dead-letters/resend", params={"subscription": sub})
    assert (answer.status_code, answer.json()) == (202, {"requeued": 1})
    missing = api.post("/v1/webhooks/dead-letters/resend", params={"subscription": 999})
    assert missing.status_code == 404


def test_bad_queries_and_unknown_deliveries(env: tuple[TestClient, WebhookStore]) -> None:
    api, _ = env
    bogus = api.get("/v1/webhooks/deliveries", params={"status": "lost"})
    assert bogus.status_code == 422
    assert "unknown status" in bogus.json()["message"]
    assert api.get("/v1/webhooks/deliveries", params={"limit": 0}).status_code == 422
    missing = api.get("/v1/webhooks/deliveries/12345")
    assert (missing.status_code, missing.json()["error_code"]) == (404, 40411)
    assert api.post("/v1/webhooks/deliveries/12345/resend").status_code == 404
    assert api.get("/v1/webhooks/deliveries", params={"subscription": 77}).status_code == 404


def test_without_a_webhook_service_the_routes_say_so(tmp_path: Path) -> None:
    registry = Registry.from_url(f"sqlite:///{tmp_path / 'r.db'}")
    try:
        app = create_app(registry, routers=[webhooks_api.router], state={"sunset_sweep_seconds": 0})
        with TestClient(app) as client:
            answer = client.get("/v1/webhooks")
        assert answer.status_code == 503
        assert "not configured" in answer.json()["message"]
    finally:
        registry.close()
