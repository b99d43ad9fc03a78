"""The UI's pages and JSON endpoints over a real Registry (SQLite in a temporary directory)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from schemashift.api import monitoring, ui
from schemashift.monitoring.metrics import Metrics
from schemashift.registry.dead_letters import DeadLetter
from schemashift.registry.service import Registry

ORDER_V1 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {"id": {"type": "string"}, "amount": {"type": "integer"}},
    "required": ["id"],
    "additionalProperties": False,
}
ORDER_V2 = {**ORDER_V1, "properties": {**ORDER_V1["properties"], "coupon": {"type": "string"}}}


@pytest.fixture()
def registry(tmp_path: Path) -> Iterator[Registry]:
    registry = Registry.from_url(f"sqlite:///{tmp_path / 'ui.db'}")
    yield registry
    registry.close()


@pytest.fixture()
def client(registry: Registry) -> Iterator[TestClient]:
    app = FastAPI()
    app.state.registry = registry
    app.state.metrics = Metrics()
    app.include_router(monitoring.router)
    app.include_router(ui.router)
    with TestClient(app) as client:
        yield client


def test_pages_and_assets_are_served_locally(client: TestClient) -> None:
    """Every page and asset the pages reference is served by the app itself."""
    index = client.get("/", headers={"Accept": "text/html,application/xhtml+xml"})
    assert index.status_code == 200
    assert "text/html" in index.headers["content-type"]
    page = client.get("/ui/subjects/shop/order.created")
    assert page.status_code == 200
    hooks = client.get("/ui/webhooks")
    assert hooks.status_code == 200
    for html in (index.text, page.text, hooks.text):
        # nothing is loaded from the network: every src/href is local
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
        for asset in ("app.css", "app.js", "logo.svg"):
            assert f"/ui/static/{asset}" in html
    for asset in ("app.css", "app.js", "subjects.js", "subject.js", "webhooks.js", "logo.svg"):
        assert client.get(f"/ui/static/{asset}").status_code == 200


def test_root_answers_confluent_clients_with_json(client: TestClient) -> None:
    """GET / without asking for HTML gets Confluent's `{}` (schema-registry clients probe it)."""
    response = client.get("/", headers={"Accept": "application/vnd.schemaregistry.v1+json"})
    assert response.json() == {}


@pytest.mark.parametrize("name", ["..%2Fui.py", "../ui.py", "nope.js", "index.py"])
def test_static_refuses_anything_but_its_own_files(client: TestClient, name: str) -> None:
    """No path traversal, no unknown suffixes: only files directly in static/."""
    assert client.get(f"/ui/static/{name}").status_code == 404


def test_subjects_list_shows_versions_and_status(client: TestClient, registry: Registry) -> None:
    """The list reports each subject's latest version, a healthy status and totals."""
    registry.register("shop/order.created", ORDER_V1)
    registry.register("shop/order.created", ORDER_V2)
    registry.register("iot/reading", {"type": "object"})
    body = client.get("/ui/api/subjects").json()
    rows = {row["subject"]: row for row in body["subjects"]}
    assert list(rows) == ["iot/reading", "shop/order.created"]
    assert rows["shop/order.created"]["latest_version"] == 2
    assert rows["shop/order.created"]["status"] == "healthy"
    assert body["totals"] == body["totals"] | {"subjects": 2, "versions": 3, "open_quarantines": 0}


def test_subjects_list_reports_rates_from_the_counters(
    client: TestClient, registry: Registry
) -> None:
    """Events/s and dead-letter rate come from the process's metrics counters."""
    registry.register("s", ORDER_V1)
    client.get("/ui/api/subjects")  # first sample
    metrics: Metrics = client.app.state.metrics  # type: ignore[attr-defined]
    metrics.events_in.labels("s").inc(100)
    metrics.events_dead_lettered.labels("s", "not_an_object").inc(25)
    row = client.get("/ui/api/subjects").json()["subjects"][0]
    assert row["events_per_second"] > 0
    assert row["dead_letter_rate"] == pytest.approx(0.25)


def test_subject_detail_has_versions_with_tagged_lines(
    client: TestClient, registry: Registry
) -> None:
    """The subject page gets every version's schema as pointer-tagged lines."""
    registry.register("shop/order.created", ORDER_V1)
    registry.register("shop/order.created", ORDER_V2)
    registry.declare_consumer("shop/order.created", "billing", ["/amount"])
    body = client.get("/ui/api/subject", params={"subject": "shop/order.created"}).json()
    assert [v["version"] for v in body["versions"]] == [1, 2]
    v2 = body["versions"][1]
    assert v2["schema"]["properties"]["coupon"] == {"type": "string"}
    pointers = {line["pointer"] for line in v2["lines"]}
    assert "/properties/coupon/type" in pointers
    assert body["consumers"][0]["consumer"] == "billing"
    assert body["consumers"][0]["fields"] == ["/amount"]
    assert body["status"] == "healthy"
    assert body["quarantine"] == []
    assert body["policy"]["compatibility"] == "BACKWARD"  # the registry's default


def test_a_subject_over_the_dead_letter_share_is_degraded(
    client: TestClient, registry: Registry
) -> None:
    """5 of 100 events dead-lettered in the window: `degraded` in the list and on its page;
    a neighbour without dead letters stays healthy."""
    registry.register("s", ORDER_V1)
    registry.register("t", ORDER_V1)
    client.get("/ui/api/subjects")  # first sample
    metrics: Metrics = client.app.state.metrics  # type: ignore[attr-defined]
    metrics.events_in.labels("s").inc(100)
    metrics.events_in.labels("t").inc(100)
    metrics.events_dead_lettered.labels("s", "type_mismatch").inc(5)
    rows = {r["subject"]: r for r in client.get("/ui/api/subjects").json()["subjects"]}
    assert (rows["s"]["status"], rows["t"]["status"]) == ("degraded", "healthy")
    assert rows["s"]["dead_letter_rate"] == pytest.approx(0.05)
    detail = client.get("/ui/api/subject", params={"subject": "s"}).json()
    assert detail["status"] == "degraded"


def test_a_subject_with_only_dead_letters_has_a_page(
    client: TestClient, registry: Registry
) -> None:
    """No version, drift or quarantine yet, but dead letters: the page exists (its panel
    shows them) instead of a 404."""
    registry.record_dead_letters(
        [
            DeadLetter(
                msg_id="RAW:1",
                subject="new/subject",
                reason="no_schema",
                message="no version yet",
                path=None,
                details=(),
                quarantine_id=None,
                headers={},
                data=b"{}",
                raw_subject="schemashift.raw.in",
                raw_seq=1,
                time=datetime(2026, 1, 1, tzinfo=UTC),
            )
        ]
    )
    body = client.get("/ui/api/subject", params={"subject": "new/subject"}).json()
    assert (body["latest_version"], body["versions"], body["status"]) == (None, [], "healthy")


def test_unknown_subject_is_404(client: TestClient) -> None:
    assert client.get("/ui/api/subject", params={"subject": "nope"}).status_code == 404


def test_unknown_quarantine_action_is_404(client: TestClient) -> None:
    assert client.post("/ui/api/quarantine/1/approve").status_code == 404


def test_diff_lists_each_change_with_its_contribution(
    client: TestClient, registry: Registry
) -> None:
    """The diff view gets the drift report (score = sum of contributions) and both schemas
    as tagged lines, where the changed property's lines can be found by its schema_path."""
    registry.register("shop/order.created", ORDER_V1)
    registry.register("shop/order.created", ORDER_V2)
    body = client.get(
        "/ui/api/diff", params={"subject": "shop/order.created", "from": 1, "to": 2}
    ).json()
    (change,) = body["changes"]
    assert change["path"] == "/coupon"
    assert change["class"] == "additive"
    assert change["contribution"] > 0
    assert body["score"] == pytest.approx(sum(c["contribution"] for c in body["changes"]))
    new_pointers = {line["pointer"] for line in body["new"]}
    assert change["schema_path"] in new_pointers
    assert change["schema_path"] not in {line["pointer"] for line in body["old"]}


def test_diff_of_a_missing_version_is_404(client: TestClient, registry: Registry) -> None:
    registry.register("s", ORDER_V1)
    answer = client.get("/ui/api/diff", params={"subject": "s", "from": 1, "to": 9})
    assert answer.status_code == 404


def quarantine_one(registry: Registry, subject: str) -> int:
    """A drift on a subject whose policy needs a person (auto-register off)."""
    from schemashift.registry.config import ConfigPatch

    registry.register(subject, ORDER_V1)
    registry.set_config(subject, ConfigPatch(auto_register=False))
    result = registry.observe(
        subject, [{"id": str(n), "amount": n, "note": "x"} for n in range(30)]
    )
    assert result.quarantine_id is not None, result
    return result.quarantine_id


def test_reject_closes_the_quarantine(client: TestClient, registry: Registry) -> None:
    """Rejecting empties the subject's queue, registers nothing and the status clears."""
    qid = quarantine_one(registry, "shop/pay")
    detail = client.get("/ui/api/subject", params={"subject": "shop/pay"}).json()
    assert [q["id"] for q in detail["quarantine"]] == [qid]
    assert detail["status"] == "quarantined"
    answer = client.post(f"/ui/api/quarantine/{qid}/reject")
    assert answer.status_code == 200
    assert answer.json()["result"]["status"] == "rejected"
    detail = client.get("/ui/api/subject", params={"subject": "shop/pay"}).json()
    assert detail["quarantine"] == []
    assert detail["latest_version"] == 1
    again = client.post(f"/ui/api/quarantine/{qid}/accept")
    assert again.status_code == 409  # a closed quarantine cannot be decided twice


def test_accept_registers_the_quarantined_schema(client: TestClient, registry: Registry) -> None:
    qid = quarantine_one(registry, "shop/pay")
    answer = client.post(f"/ui/api/quarantine/{qid}/accept").json()
    assert answer["result"]["resolved_version"] == 2
    assert registry.list_versions("shop/pay") == [1, 2]
    assert client.get("/ui/api/subjects").json()["totals"]["open_quarantines"] == 0


def test_a_subject_whose_first_drift_is_quarantined_is_listed(
    client: TestClient, registry: Registry
) -> None:
    """No version yet, one quarantine: listed as quarantined with no latest version, and its
    page opens (the queue is where a person registers v1)."""
    from schemashift.registry.config import ConfigPatch

    registry.set_config("new/thing", ConfigPatch(auto_register=False))
    registry.observe("new/thing", [{"id": str(n)} for n in range(20)])
    (row,) = client.get("/ui/api/subjects").json()["subjects"]
    assert (row["subject"], row["latest_version"], row["status"]) == (
        "new/thing",
        None,
        "quarantined",
    )
    detail = client.get("/ui/api/subject", params={"subject": "new/thing"}).json()
    assert detail["versions"] == []
    assert len(detail["quarantine"]) == 1
