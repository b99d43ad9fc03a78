"""The HTTP surface: Confluent shapes and codes, encodings, strict bodies, native /v1 routes.

Driven in-process through the ASGI app (httpx); the real-server tests with the Confluent
client live in test_confluent_client.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from schemashift.api.app import create_app
from schemashift.registry.config import Compatibility, ConfigPatch
from schemashift.registry.records import OutboxKind
from schemashift.registry.testing import ManualClock, memory_registry

SR_JSON = "application/vnd.schemaregistry.v1+json"


def schema_text(*names: str) -> str:
    return json.dumps(
        {
            "type": "object",
            "properties": {n: {"type": "string"} for n in names},
            "required": list(names),
        }
    )


@pytest.fixture()
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture()
def client(clock: ManualClock) -> Iterator[TestClient]:
    registry = memory_registry(clock=clock)
    app = create_app(registry, state={"sunset_sweep_seconds": 0})
    with TestClient(app) as test_client:
        assert test_client.put("/config", json={"compatibility": "NONE"}).status_code == 200
        yield test_client
    registry.close()


def register(client: TestClient, subject: str, text: str) -> dict[str, Any]:
    response = client.post(
        f"/subjects/{subject}/versions",
        content=json.dumps({"schema": text, "schemaType": "JSON"}),
        headers={"Content-Type": SR_JSON},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_register_fetch_and_lookup_with_confluent_shapes(client: TestClient) -> None:
    """Register answers {"id"}; versions and lookups carry schemaType JSON and the schema."""
    assert register(client, "orders", schema_text("id")) == {"id": 1}
    response = client.get("/subjects/orders/versions/latest")
    assert response.headers["content-type"] == SR_JSON
    assert response.json() == {
        "subject": "orders",
        "version": 1,
        "id": 1,
        "schemaType": "JSON",
        "schema": '{"properties":{"id":{"type":"string"}},"required":["id"],"type":"object"}',
    }
    assert client.get("/schemas/ids/1").json()["schemaType"] == "JSON"
    assert client.get("/schemas/ids/1/schema").json()["type"] == "object"
    assert client.get("/subjects/orders/versions/1/schema").json()["required"] == ["id"]
    assert (
        client.post("/subjects/orders", json={"schema": schema_text("id")}).json()["version"] == 1
    )
    assert client.get("/schemas/ids/1/subjects").json() == ["orders"]
    assert client.get("/schemas/ids/1/versions").json() == [{"subject": "orders", "version": 1}]
    assert client.get("/subjects/orders/versions/1/referencedby").json() == []


def test_subjects_with_slashes_arrive_percent_encoded(client: TestClient) -> None:
    """A subject "shop/order.created" works in every subject route when sent as %2F."""
    register(client, "shop%2Forder.created", schema_text("id"))
    assert client.get("/subjects").json() == ["shop/order.created"]
    assert client.get("/subjects/shop%2Forder.created/versions").json() == [1]
    assert (
        client.get("/subjects/shop%2Forder.created/versions/1").json()["subject"]
        == "shop/order.created"
    )
    assert client.put("/config/shop%2Forder.created", json={"compatibility": "FULL"}).json() == {
        "compatibility": "FULL"
    }
    assert client.get("/config/shop%2Forder.created").json() == {"compatibilityLevel": "FULL"}
    assert client.delete("/subjects/shop%2Forder.created/versions/1").json() == 1


@pytest.mark.parametrize("true", ["true", "True", "TRUE", "1"])
def test_boolean_query_parameters_accept_python_spellings(client: TestClient, true: str) -> None:
    """The Python client sends str(True); both spellings mean the same."""
    register(client, "s", schema_text("a"))
    client.delete("/subjects/s")
    assert client.get(f"/subjects?deleted={true}").json() == ["s"]
    assert client.get("/subjects?deleted=False").json() == []
    assert client.delete(f"/subjects/s?permanent={true}").json() == [1]


def test_errors_carry_confluent_codes(client: TestClient) -> None:
    """Every refusal is {"error_code", "message"} with Confluent's number and status."""
    register(client, "s", schema_text("a"))
    cases = [
        (client.get("/subjects/nope/versions"), 404, 40401),
        (client.get("/subjects/s/versions/7"), 404, 40402),
        (client.get("/schemas/ids/99"), 404, 40403),
        (client.post("/subjects/s", json={"schema": schema_text("zz")}), 404, 40403),
        (client.get("/subjects/s/versions/zero"), 422, 42202),
        (client.get("/subjects/s/versions/0"), 422, 42202),
        (client.put("/config", json={"compatibility": "SIDEWAYS"}), 422, 42203),
        (client.put("/mode", json={"mode": "SLEEPY"}), 422, 42204),
        (client.get("/config/s"), 404, 40408),
        (client.get("/mode/s"), 404, 40409),
        (client.delete("/subjects/s/versions/1?permanent=true"), 404, 40407),
        (client.delete("/subjects/s?permanent=true"), 404, 40405),
        (client.post("/subjects/s/versions", json={"schema": "{not json"}), 422, 42201),
        (client.post("/subjects/s/versions", json={"schema": '{"type": 12}'}), 422, 42201),
        (
            client.post("/subjects/s/versions", json={"schema": "{}", "schemaType": "AVRO"}),
            422,
            42201,
        ),
        (
            client.post(
                "/subjects/s/versions", json={"schema": '{"type": "string", "pattern": "(a+)+$"}'}
            ),
            422,
            42201,
        ),
        (
            client.post(
                "/subjects/s/versions", json={"schema": '{"$ref": "https://example.com/x.json"}'}
            ),
            422,
            42201,
        ),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.text
        body = response.json()
        assert body["error_code"] == code, body
        assert isinstance(body["message"], str) and body["message"]


def test_soft_deleted_things_answer_their_own_codes(client: TestClient) -> None:
    register(client, "s", schema_text("a"))
    register(client, "s", schema_text("b"))
    client.delete("/subjects/s/versions/1")
    assert client.delete("/subjects/s/versions/1").json()["error_code"] == 40406
    client.delete("/subjects/s")
    assert client.delete("/subjects/s").json()["error_code"] == 40404


def test_bodies_are_parsed_strictly(client: TestClient) -> None:
    """Malformed, duplicate-key or NaN bodies are a 400 with the reason — never a 500."""
    bad_bodies = [
        b"{",
        b'{"schema": "{}", "schema": "{}"}',
        b'{"schema": NaN}',
        b"",
        b"\xff\xfe",
    ]
    for raw in bad_bodies:
        response = client.post(
            "/subjects/s/versions", content=raw, headers={"Content-Type": SR_JSON}
        )
        assert response.status_code == 400, (raw, response.text)
        assert response.json()["error_code"] == 400
    wrong_shape = client.post("/subjects/s/versions", json=["schema"])
    assert wrong_shape.status_code == 422
    missing = client.post("/subjects/s/versions", json={"schemaType": "JSON"})
    assert missing.status_code == 422 and "schema" in missing.json()["message"]


def test_compatibility_endpoints_answer_is_compatible(client: TestClient) -> None:
    register(client, "s", schema_text("a"))
    one = client.post(
        "/compatibility/subjects/s/versions/latest?verbose=True", json={"schema": schema_text("a")}
    )
    assert one.json() == {"is_compatible": True, "messages": []}
    every = client.post("/compatibility/subjects/s/versions", json={"schema": schema_text("b")})
    assert every.json() == {"is_compatible": True}  # NONE is set by the fixture
    missing = client.post(
        "/compatibility/subjects/nope/versions/1", json={"schema": schema_text("a")}
    )
    assert missing.json()["error_code"] == 40401


def test_config_mode_types_contexts_and_root(client: TestClient) -> None:
    assert client.get("/config").json() == {"compatibilityLevel": "NONE"}
    assert client.get("/config/s?defaultToGlobal=true").json() == {"compatibilityLevel": "NONE"}
    assert client.get("/mode").json() == {"mode": "READWRITE"}
    assert client.put("/mode/s", json={"mode": "READONLY"}).json() == {"mode": "READONLY"}
    refused = client.post("/subjects/s/versions", json={"schema": schema_text("a")})
    assert (refused.status_code, refused.json()["error_code"]) == (422, 42205)
    assert client.delete("/mode/s").json() == {"mode": "READONLY"}
    assert client.get("/schemas/types").json() == ["JSON"]
    assert client.get("/contexts").json() == ["."]
    assert client.get("/").json() == {}
    assert client.get("/openapi.json").json()["info"]["title"] == "schemashift registry"


def test_native_config_includes_threshold_and_sunset(client: TestClient) -> None:
    answer = client.put(
        "/v1/config/shop%2Forders",
        json={"drift_threshold": 0.25, "sunset_seconds": 60, "min_samples": 3},
    ).json()
    assert answer["config"]["drift_threshold"] == 0.25
    assert answer["stored"] == {"drift_threshold": 0.25, "sunset_seconds": 60, "min_samples": 3}
    assert client.get("/v1/config/shop%2Forders").json() == answer
    for bad in (
        {"drift_threshold": 2},
        {"min_samples": 0},
        {"colour": "red"},
        {"auto_register": "yes"},
    ):
        response = client.put("/v1/config/shop%2Forders", json=bad)
        assert response.status_code == 422, bad


def test_native_version_route_answers_410_after_sunset(
    client: TestClient, clock: ManualClock
) -> None:
    client.put("/v1/config/s", json={"sunset_seconds": 100})
    register(client, "s", schema_text("a"))
    register(client, "s", schema_text("b"))
    ok = client.get("/v1/subjects/s/versions/1").json()
    assert ok["sunset_at"] is not None and ok["schema"]["required"] == ["a"]
    clock.advance(101)
    gone = client.get("/v1/subjects/s/versions/1")
    assert gone.status_code == 410
    assert gone.json()["error_code"] == 41001
    assert client.get("/subjects/s/versions/1").status_code == 200  # Confluent reads still work


def test_the_app_records_sunsets_in_the_background(clock: ManualClock) -> None:
    """While the app runs, a version past its sunset gets one version.sunset record."""
    registry = memory_registry(clock=clock)
    registry.set_config(None, ConfigPatch(compatibility=Compatibility.NONE, sunset_seconds=10))
    registry.register("s", {"type": "object", "title": "one"})
    registry.register("s", {"type": "object", "title": "two"})
    clock.advance(11)
    with TestClient(create_app(registry, state={"sunset_sweep_seconds": 0.01})):
        deadline = time.monotonic() + 10
        while not any(r.kind is OutboxKind.VERSION_SUNSET for r in registry.read_outbox(0)):
            assert time.monotonic() < deadline, "no version.sunset record was written"
            time.sleep(0.01)
    sunsets = [r for r in registry.read_outbox(0) if r.kind is OutboxKind.VERSION_SUNSET]
    assert [(r.subject, r.version) for r in sunsets] == [("s", 1)]
    registry.close()


def test_native_consumers_and_outbox(client: TestClient) -> None:
    put = client.put("/v1/subjects/s/consumers/billing", json={"fields": ["/total", "/id"]})
    assert put.json()["fields"] == ["/total", "/id"]
    assert [c["consumer"] for c in client.get("/v1/subjects/s/consumers").json()] == ["billing"]
    assert client.put("/v1/subjects/s/consumers/x", json={"fields": ["total"]}).status_code == 422
    assert client.delete("/v1/subjects/s/consumers/billing").json() == {"removed": True}
    register(client, "s", schema_text("a"))
    records = client.get("/v1/outbox?after=0").json()
    assert [(r["seq"], r["kind"], r["version"]) for r in records] == [(1, "schema.updated", 1)]


def test_native_quarantine_unknown_ids(client: TestClient) -> None:
    assert client.get("/v1/quarantine").json() == []
    assert client.post("/v1/quarantine/5/accept").json()["error_code"] == 40410
    assert client.get("/v1/quarantine/abc").status_code == 422


def test_native_observe_diff_drift_and_quarantine_over_http(client: TestClient) -> None:
    """Observe answers the decision and report; quarantined drift is accepted over HTTP."""
    client.put("/v1/config/shop%2Forders", json={"min_samples": 3, "compatibility": "FORWARD"})
    first = client.post(
        "/v1/subjects/shop%2Forders/observe", json=[{"id": f"o{i}", "total": i} for i in range(3)]
    ).json()
    assert (first["decision"], first["version"]) == ("registered", 1)
    drift = client.post(
        "/v1/subjects/shop%2Forders/observe",
        json={"payloads": [{"id": i, "total": i} for i in range(3)]},
    ).json()
    assert drift["decision"] == "quarantined" and drift["report"]["score"] > 0
    open_items = client.get("/v1/quarantine?subject=shop/orders&status=open").json()
    assert [q["id"] for q in open_items] == [drift["quarantine_id"]]
    assert client.get(f"/v1/quarantine/{drift['quarantine_id']}").json()["samples"][0] == {
        "id": 0,
        "total": 0,
    }
    accepted = client.post(f"/v1/quarantine/{drift['quarantine_id']}/accept").json()
    assert (accepted["status"], accepted["resolved_version"]) == ("accepted", 2)
    report = client.get("/v1/subjects/shop%2Forders/diff?from=1&to=2").json()
    assert any(c["path"] == "/id" for c in report["changes"])
    history = client.get("/v1/subjects/shop%2Forders/drift").json()
    assert [e["decision"] for e in history] == ["registered", "quarantined"]
    bad = client.post("/v1/subjects/s/observe", json=[1, 2])
    assert bad.status_code == 422


def test_huge_integers_survive_observe_and_quarantine(client: TestClient) -> None:
    """Integers beyond 64 bits (accepted exactly by the strict parser) are stored as
    samples and served back without loss — never a 500."""
    client.put("/v1/config/big", json={"min_samples": 2, "auto_register": False})
    huge = 10**40 + 7
    raw = b'[{"n": ' + str(huge).encode() + b'}, {"n": 1}]'
    response = client.post("/v1/subjects/big/observe", content=raw)
    assert response.status_code == 200, response.text
    item_id = response.json()["quarantine_id"]
    item = client.get(f"/v1/quarantine/{item_id}")
    assert item.status_code == 200
    assert json.loads(item.content)["samples"][0]["n"] == huge


@pytest.mark.parametrize(
    "path",
    [
        "/schemas/ids/100000000000000000000000",
        "/schemas/ids/100000000000000000000000/versions",
        "/v1/quarantine/100000000000000000000000",
        "/subjects/a%00b/versions",
        "/v1/quarantine?subject=a%00b",
    ],
)
def test_out_of_range_ids_and_nul_names_are_client_errors(client: TestClient, path: str) -> None:
    """Numbers past 64 bits and NUL characters never reach the database as a 5xx."""
    response = client.get(path)
    assert 400 <= response.status_code < 500, response.text
    assert "error_code" in response.json()


def test_out_of_range_import_ids_are_refused(client: TestClient) -> None:
    client.put("/mode", json={"mode": "IMPORT"})
    big_id = client.post("/subjects/s/versions", json={"schema": "{}", "id": 10**30})
    assert big_id.json()["error_code"] == 42208
    big_version = client.post(
        "/subjects/s/versions", json={"schema": "{}", "id": 3, "version": 10**30}
    )
    assert big_version.json()["error_code"] == 42202
    assert client.get("/v1/outbox?after=100000000000000000000").json() == []
