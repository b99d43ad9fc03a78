"""Auth on the real registry app: Confluent and native routes, decoded names, no leaks.

The app is ``create_app`` over a real SQLite registry with ``install_auth``. Subjects:
``orders`` (two versions), ``shop/order.created``, and ``secret`` and ``orders-secret``
that the reader may not read; ``secret`` shares schema 1 with ``orders`` and owns schema 3
alone.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from schemashift.api.app import create_app
from schemashift.registry.service import Registry
from schemashift.security import install_auth, parse_auth_config
from schemashift.security.hashing import ScryptParameters, hash_password, hash_token

FAST = ScryptParameters(n=16, r=1, p=1)
TOKEN = "registry-test-token-0123456789abcdefghij"


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


READER = basic("reader", "r")
WRITER = basic("writer", "w")
ADMIN = basic("admin", "a")
BOT = {"Authorization": f"Bearer {TOKEN}"}


def auth_config() -> Any:
    def user(name: str, password: str, grants: list[tuple[str, list[str]]]) -> dict[str, Any]:
        return {
            "name": name,
            "password": hash_password(password, params=FAST),
            "grants": [{"subjects": s, "rights": r} for s, r in grants],
        }

    return parse_auth_config(
        {
            "users": [
                user("reader", "r", [("orders", ["read"]), ("shop/*", ["read"])]),
                user("writer", "w", [("orders", ["read", "write"])]),
                user("admin", "a", [("*", ["read", "write", "admin"])]),
            ],
            "tokens": [
                {
                    "name": "bot",
                    "token": hash_token(TOKEN),
                    "grants": [{"subjects": "orders", "rights": ["write", "admin"]}],
                }
            ],
        }
    )


def schema(n: int) -> str:
    return json.dumps({"type": "object", "properties": {f"f{n}": {"type": "string"}}})


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db: Path = tmp_path_factory.mktemp("auth") / "registry.db"
    registry = Registry.from_url(f"sqlite:///{db}")
    app = create_app(registry, state={"sunset_sweep_seconds": 0})
    install_auth(app, auth_config())
    with TestClient(app) as test_client:
        for subject, n in [
            ("orders", 1),
            ("secret", 1),
            ("orders", 2),
            ("secret", 3),
            ("orders-secret", 4),
            ("shop/order.created", 5),
        ]:
            put = test_client.put(
                f"/config/{subject.replace('/', '%2F')}",
                json={"compatibility": "NONE"},
                headers=ADMIN,
            )
            assert put.status_code == 200, put.text
            response = test_client.post(
                f"/subjects/{subject.replace('/', '%2F')}/versions",
                json={"schema": schema(n)},
                headers=ADMIN,
            )
            assert response.status_code == 200, response.text
        yield test_client
    registry.close()


def swap(response_body: bytes, absent: str, present: str) -> bytes:
    return response_body.replace(absent.encode(), present.encode())


SUBJECT_READS = [
    "/subjects/{s}/versions",
    "/subjects/{s}/versions/1",
    "/subjects/{s}/versions/latest",
    "/subjects/{s}/versions/1/schema",
    "/subjects/{s}/versions/1/referencedby",
    "/config/{s}",
    "/mode/{s}",
    "/v1/subjects/{s}/versions/1",
    "/v1/subjects/{s}/drift",
    "/v1/subjects/{s}/consumers",
    "/v1/subjects/{s}/diff?from=1&to=latest",
    "/v1/config/{s}",
]


@pytest.mark.parametrize("route", SUBJECT_READS)
@pytest.mark.parametrize("hidden", ["secret", "orders-secret"])
def test_unreadable_subject_reads_exactly_like_a_missing_one(
    client: TestClient, route: str, hidden: str
) -> None:
    """Every subject-scoped read: status, content type and body equal the missing-subject answer.

    Some routes answer 2xx for a subject that does not exist (an empty drift history, the
    inherited config); a hidden subject then gets that same empty answer.
    """
    absent = "z" * len(hidden)  # same length, never registered
    forbidden = client.get(route.format(s=hidden), headers=READER)
    missing = client.get(route.format(s=absent), headers=ADMIN)
    assert forbidden.status_code == missing.status_code
    assert forbidden.headers["content-type"] == missing.headers["content-type"]
    assert forbidden.content == swap(missing.content, absent, hidden)
    # and the reader really can read its own subject through the same route family
    assert client.get(route.format(s="orders"), headers=READER).status_code < 500


@pytest.mark.parametrize(
    "path",
    [
        "/subjects/secret",
        "/compatibility/subjects/secret/versions/latest",
        "/compatibility/subjects/secret/versions",
    ],
)
def test_read_like_posts_on_an_unreadable_subject_look_missing(
    client: TestClient, path: str
) -> None:
    """Lookups and compatibility checks are reads: hidden like a missing subject."""
    body = {"schema": schema(1)}
    forbidden = client.post(path, json=body, headers=READER)
    missing = client.post(path.replace("secret", "zzzzzz"), json=body, headers=ADMIN)
    assert (forbidden.status_code, forbidden.content) == (
        missing.status_code,
        swap(missing.content, "zzzzzz", "secret"),
    )


def test_subject_lists_are_filtered(client: TestClient) -> None:
    """/subjects and the by-id lists name only subjects the caller may read."""
    assert client.get("/subjects", headers=READER).json() == ["orders", "shop/order.created"]
    assert client.get("/subjects?subjectPrefix=secret", headers=READER).json() == []
    assert set(client.get("/subjects", headers=ADMIN).json()) == {
        "orders",
        "secret",
        "orders-secret",
        "shop/order.created",
    }
    assert client.get("/schemas/ids/1/subjects", headers=READER).json() == ["orders"]
    assert client.get("/schemas/ids/1/versions", headers=READER).json() == [
        {"subject": "orders", "version": 1}
    ]
    assert client.get("/schemas/ids/1/subjects", headers=ADMIN).json() == ["orders", "secret"]


@pytest.mark.parametrize("suffix", ["", "/schema", "/subjects", "/versions"])
def test_a_schema_id_used_only_by_unreadable_subjects_looks_missing(
    client: TestClient, suffix: str
) -> None:
    """Schema 3 belongs to `secret` alone: for the reader it is byte-for-byte a missing id."""
    forbidden = client.get(f"/schemas/ids/3{suffix}", headers=READER)
    missing = client.get(f"/schemas/ids/999{suffix}", headers=READER)
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.content == swap(missing.content, "999", "3")
    assert client.get(f"/schemas/ids/1{suffix}", headers=READER).status_code == 200


def test_percent_encoded_names_are_authorised_as_decoded(client: TestClient) -> None:
    """`shop%2Forder.created` is `shop/order.created` (granted by `shop/*`); `..` is literal."""
    assert client.get("/subjects/shop%2Forder.created/versions", headers=READER).json() == [1]
    traversal = client.get("/subjects/shop%2F..%2Fsecret/versions", headers=READER)
    assert traversal.status_code == 404  # a subject literally named shop/../secret: absent
    assert b"f3" not in traversal.content


def test_very_long_and_unicode_names_never_reach_data(client: TestClient) -> None:
    """A 10,000-character name or a confusable name is denied, never a 5xx."""
    for name in ["o" * 10_000, "ｏrders", "orders\u200b", "ORDERS"]:
        response = client.get(f"/subjects/{name}/versions", headers=READER)
        assert response.status_code in (404, 422), name[:20]


def test_rights_are_enforced_per_operation(client: TestClient) -> None:
    """Register needs write, deletes/config/mode need admin; global changes need `*`."""
    assert (
        client.post(
            "/subjects/orders/versions", json={"schema": schema(1)}, headers=READER
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/subjects/orders/versions", json={"schema": schema(1)}, headers=WRITER
        ).status_code
        == 200
    )
    assert (
        client.post(
            "/subjects/secret/versions", json={"schema": schema(1)}, headers=WRITER
        ).status_code
        == 403
    )
    assert client.delete("/subjects/orders/versions/1", headers=WRITER).status_code == 403
    assert (
        client.put("/config/orders", json={"compatibility": "FULL"}, headers=WRITER).status_code
        == 403
    )
    assert client.put("/mode/orders", json={"mode": "READONLY"}, headers=WRITER).status_code == 403
    assert client.put("/config", json={"compatibility": "FULL"}, headers=BOT).status_code == 403
    assert (
        client.put("/config/orders", json={"compatibility": "NONE"}, headers=BOT).status_code == 200
    )
    assert client.get("/v1/outbox", headers=WRITER).status_code == 403
    assert client.get("/v1/quarantine", headers=READER).status_code == 403


def test_forbidden_writes_do_not_reveal_existence(client: TestClient) -> None:
    """A write the caller may not make is 403 with one body, existing subject or not."""
    exists = client.delete("/subjects/secret", headers=WRITER)
    absent = client.delete("/subjects/zzzzzz", headers=WRITER)
    assert exists.status_code == absent.status_code == 403
    assert exists.content == absent.content


def test_global_metadata_is_open_to_any_principal_only(client: TestClient) -> None:
    """/config, /mode, /schemas/types answer any logged-in caller and no anonymous one."""
    for path in ["/config", "/mode", "/schemas/types", "/contexts"]:
        assert client.get(path, headers=READER).status_code == 200
        assert client.get(path).status_code == 401
