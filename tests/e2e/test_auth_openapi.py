"""Every route of the served app, called with no credentials, a wrong password and a reader.

The app is composed as ``schemashift serve`` composes it (``create_app`` with the routers
the server adds) with ``install_auth``. The walk covers the OpenAPI document *and* the
routes hidden from it (UI, health, metrics), so a route added without thought for access
control cannot slip through:

* no credentials, or a wrong password: 401 with a challenge on every route but health;
* the reader (read on ``orders`` only) on a route naming the subject ``q7-hidden`` (or its
  schema, or its dead letter) gets either 403 or — for reads — exactly the answer for a
  subject (schema id, dead letter id) that does not exist;
* the reader on a route naming no subject gets 403, except the short list of global
  metadata routes spelled out below, whose answers never mention ``q7-hidden``.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from schemashift.api.app import create_app
from schemashift.registry.dead_letters import DeadLetter
from schemashift.registry.service import Registry
from schemashift.security import install_auth, parse_auth_config
from schemashift.security.hashing import ScryptParameters, hash_password
from schemashift.security.middleware import route_templates
from schemashift.server.parts import Parts, optional_routers
from schemashift.server.settings import ServerSettings

FAST = ScryptParameters(n=16, r=1, p=1)
HEALTH = {"/healthz", "/readyz"}
# Routes that name no subject and answer any logged-in principal (docs/security.md).
OPEN_TO_ANY_PRINCIPAL = {
    ("GET", "/"),
    ("GET", "/ui"),
    ("GET", "/ui/static/{name}"),
    ("GET", "/ui/subjects/{subject}"),  # the static page shell; its data calls are checked
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    ("GET", "/config"),
    ("GET", "/mode"),
    ("GET", "/schemas/types"),
    ("GET", "/contexts"),
    ("GET", "/subjects"),  # filtered
    ("GET", "/ui/api/subjects"),  # filtered
    ("GET", "/v1/dead-letters"),  # filtered
}
PARAMS = {"subject": "q7-hidden", "version": "1", "schema_id": "3", "name": "app.css"}
HIDDEN = "q7-hidden"
ABSENT = "zzzzzzzzz"  # as long as HIDDEN, never registered


def dead_letter(n: int, subject: str) -> DeadLetter:
    return DeadLetter(
        msg_id=f"RAW:{n}",
        subject=subject,
        reason="type_mismatch",
        message=f"{subject} event {n}",
        path="/a",
        details=(),
        quarantine_id=None,
        headers={},
        data=b'{"a": 1}',
        raw_subject="schemashift.raw.in",
        raw_seq=n,
        time=datetime(2026, 1, 1, tzinfo=UTC),
    )


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


READER = basic("reader", "reader-pw")
ADMIN = basic("admin", "admin-pw")
WRONG = basic("reader", "not-the-password")


def build_app(registry: Registry) -> FastAPI:
    routers = optional_routers(ServerSettings(), Parts())
    app = create_app(registry, routers=routers, state={"sunset_sweep_seconds": 0})
    config = parse_auth_config(
        {
            "users": [
                {
                    "name": "reader",
                    "password": hash_password("reader-pw", params=FAST),
                    "grants": [{"subjects": "orders", "rights": ["read"]}],
                },
                {
                    "name": "admin",
                    "password": hash_password("admin-pw", params=FAST),
                    "grants": [{"subjects": "*", "rights": ["read", "write", "admin"]}],
                },
            ]
        }
    )
    install_auth(app, config)
    return app


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, FastAPI]]:
    db: Path = tmp_path_factory.mktemp("walk") / "registry.db"
    registry = Registry.from_url(f"sqlite:///{db}")
    # dead letters 1 and 2 are orders', 3 (the id the walk asks for) is the hidden subject's
    registry.record_dead_letters(
        [dead_letter(1, "orders"), dead_letter(2, "orders"), dead_letter(3, HIDDEN)]
    )
    app = build_app(registry)
    with TestClient(app, raise_server_exceptions=False) as client:
        for subject, field in [("orders", "a"), (HIDDEN, "b"), (HIDDEN, "c")]:
            client.put(f"/config/{subject}", json={"compatibility": "NONE"}, headers=ADMIN)
            body = {
                "schema": json.dumps({"type": "object", "properties": {field: {"type": "string"}}})
            }
            assert (
                client.post(f"/subjects/{subject}/versions", json=body, headers=ADMIN).status_code
                == 200
            )
        yield client, app
    registry.close()


def all_routes(app: FastAPI) -> list[tuple[str, str]]:
    routes = set()
    for template, methods in route_templates(app):
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", template)
        for method in methods - {"HEAD"}:
            routes.add((method, path))
    return sorted(routes)


def fill(path: str, subject: str = HIDDEN, schema_id: str = "3") -> str:
    values = {**PARAMS, "subject": subject, "schema_id": schema_id, "dead_letter_id": schema_id}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), path)


def call(client: TestClient, method: str, url: str, headers: dict[str, str]) -> Any:
    body = {
        "schema": json.dumps({"type": "object"}),
        "compatibility": "NONE",
        "mode": "READWRITE",
        "fields": ["a"],
        "payloads": [{"a": 1}],
    }
    if method in ("GET", "DELETE"):
        return client.request(method, url, headers=headers)
    return client.request(method, url, headers=headers, json=body)


def test_the_walk_covers_the_openapi_document(served: tuple[TestClient, FastAPI]) -> None:
    """Every operation in /openapi.json is among the walked routes, and there are many."""
    client, app = served
    walked = set(all_routes(app))
    document = client.get("/openapi.json", headers=ADMIN).json()
    for path, item in document["paths"].items():
        for method in item:
            if method.upper() in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
                assert (method.upper(), path) in walked
    assert len(walked) >= 45


def test_no_route_answers_without_valid_credentials(served: tuple[TestClient, FastAPI]) -> None:
    """Anonymous and wrong-password calls: 401 with a Basic challenge, health excepted."""
    client, app = served
    for method, path in all_routes(app):
        for headers in ({}, WRONG):
            response = call(client, method, fill(path), headers)
            if path in HEALTH:
                assert response.status_code < 400, (method, path)
                continue
            assert response.status_code == 401, (method, path, response.status_code)
            assert any(
                c.startswith("Basic ") for c in response.headers.get_list("www-authenticate")
            )


def test_a_reader_gets_403_or_the_missing_answer_everywhere(
    served: tuple[TestClient, FastAPI],
) -> None:
    """The reader learns nothing about `q7-hidden` or schema 3 from any route."""
    client, app = served
    for method, path in all_routes(app):
        if path in HEALTH:
            continue
        response = call(client, method, fill(path), READER)
        names_subject = any(f"{{{p}}}" in path for p in ("subject", "schema_id", "dead_letter_id"))
        if (method, path) in OPEN_TO_ANY_PRINCIPAL:
            assert response.status_code < 500, (method, path)
            assert HIDDEN.encode() not in response.content, (method, path)
        elif response.status_code == 403:
            pass
        elif names_subject:
            missing = call(client, method, fill(path, subject=ABSENT, schema_id="999"), ADMIN)
            expected = missing.content.replace(ABSENT.encode(), HIDDEN.encode()).replace(
                b"999", b"3"
            )
            assert response.status_code == missing.status_code, (method, path)
            assert response.content == expected, (method, path)
        else:
            pytest.fail(f"{method} {path} answered the reader {response.status_code}")


@pytest.mark.parametrize(
    "path", [f"/ui/api/subject?subject={HIDDEN}", f"/ui/api/diff?subject={HIDDEN}&old=1&new=2"]
)
def test_ui_data_for_a_hidden_subject_looks_missing(
    served: tuple[TestClient, FastAPI], path: str
) -> None:
    """The UI's JSON endpoints (subject in the query) hide `q7-hidden` like the API does."""
    client, _ = served
    hidden = client.get(path, headers=READER)
    missing = client.get(path.replace(HIDDEN, ABSENT), headers=ADMIN)
    assert hidden.status_code == missing.status_code
    assert hidden.content == missing.content.replace(ABSENT.encode(), HIDDEN.encode())


def test_the_ui_asks_the_browser_for_a_login(served: tuple[TestClient, FastAPI]) -> None:
    """The UI page without credentials is a 401 with a Basic challenge (the browser prompt)."""
    client, _ = served
    response = client.get("/", headers={"Accept": "text/html"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic realm=")
    assert client.get("/", headers=READER).status_code == 200


def test_the_ui_overview_counts_only_readable_subjects(served: tuple[TestClient, FastAPI]) -> None:
    """The UI's subject list and its totals cover `orders` alone for the reader."""
    client, _ = served
    overview = client.get("/ui/api/subjects", headers=READER).json()
    assert [row["subject"] for row in overview["subjects"]] == ["orders"]
    assert overview["totals"]["subjects"] == 1
    assert overview["totals"].get("versions", 1) == 1
    everything = client.get("/ui/api/subjects", headers=ADMIN).json()
    assert everything["totals"]["subjects"] == 2
