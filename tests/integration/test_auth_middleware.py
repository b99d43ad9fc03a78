"""The auth middleware on a small stand-in app with Confluent-shaped routes.

These tests pin the middleware's own behaviour (route resolution on decoded names, hiding,
filtering, challenges) independently of the registry; test_auth_registry.py runs the same
rules against the real application.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from schemashift.security import install_auth, parse_auth_config
from schemashift.security.hashing import ScryptParameters, hash_password, hash_token

FAST = ScryptParameters(n=16, r=1, p=1)
TOKEN = "bearer-token-for-tests-0123456789abcdef"
SUBJECTS = {
    "orders": {1: 1},
    "orders-secret": {1: 2},
    "shop/order.created": {1: 1},
    "shop/../secret": {1: 2},
    "ｏrders": {1: 2},
}
SCHEMAS = {1: '{"type":"object"}', 2: '{"type":"string"}'}
DEAD_LETTERS = {1: "orders", 2: "orders-secret", 3: None}  # id -> subject (None: unknown)


def stand_in_app() -> FastAPI:
    app = FastAPI()

    def missing(subject: str) -> JSONResponse:
        return JSONResponse(
            {"error_code": 40401, "message": f"Subject '{subject}' not found."}, 404
        )

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/subjects")
    def subjects() -> list[str]:
        return sorted(SUBJECTS)

    @app.get("/subjects/{subject:path}/versions")
    def versions(subject: str) -> Any:
        return sorted(SUBJECTS[subject]) if subject in SUBJECTS else missing(subject)

    @app.post("/subjects/{subject:path}/versions")
    def register(subject: str) -> dict[str, int]:
        return {"id": 1}

    @app.delete("/subjects/{subject:path}")
    def delete(subject: str) -> Any:
        return [1] if subject in SUBJECTS else missing(subject)

    @app.get("/schemas/ids/{schema_id:int}")
    def by_id(schema_id: int) -> Any:
        if schema_id not in SCHEMAS:
            return JSONResponse(
                {"error_code": 40403, "message": f"Schema {schema_id} not found"}, 404
            )
        return {"schema": SCHEMAS[schema_id]}

    @app.get("/schemas/ids/{schema_id:int}/subjects")
    def id_subjects(schema_id: int) -> Any:
        if schema_id not in SCHEMAS:
            return JSONResponse(
                {"error_code": 40403, "message": f"Schema {schema_id} not found"}, 404
            )
        return sorted(s for s, v in SUBJECTS.items() if schema_id in v.values())

    @app.put("/config")
    def put_config() -> dict[str, str]:
        return {"compatibility": "FULL"}

    @app.post("/v1/events")
    def ingest(request: Request) -> dict[str, Any]:
        return {"accepted": 1, "subject": request.query_params.get("subject")}

    @app.websocket("/ws/subjects/{subject:path}")
    async def follow(websocket: WebSocket, subject: str) -> None:
        await websocket.accept()
        await websocket.send_json({"subject": subject})
        await websocket.close()

    @app.get("/ui/api/subject")
    def ui_subject(subject: str) -> Any:
        return {"subject": subject} if subject in SUBJECTS else missing(subject)

    @app.get("/v1/dead-letters/{dead_letter_id}")
    def dead_letter(dead_letter_id: int) -> Any:
        if dead_letter_id not in DEAD_LETTERS:
            return JSONResponse(
                {"error_code": 40412, "message": f"Dead letter {dead_letter_id} not found"}, 404
            )
        return {"id": dead_letter_id, "subject": DEAD_LETTERS[dead_letter_id]}

    @app.post("/v1/dead-letters/replay")
    async def replay(request: Request) -> dict[str, Any]:
        return {"body": (await request.body()).decode()}

    return app


def auth_document() -> dict[str, Any]:
    def user(name: str, password: str, grants: list[dict[str, Any]]) -> dict[str, Any]:
        return {"name": name, "password": hash_password(password, params=FAST), "grants": grants}

    return {
        "users": [
            user("reader", "r-pass", [{"subjects": "orders", "rights": ["read"]}]),
            user("shop", "s-pass", [{"subjects": "shop/*", "rights": ["read", "write"]}]),
            user("admin", "a-pass", [{"subjects": "*", "rights": ["read", "write", "admin"]}]),
        ],
        "tokens": [
            {
                "name": "bot",
                "token": hash_token(TOKEN),
                "grants": [{"subjects": "orders", "rights": ["write"]}],
            }
        ],
    }


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


READER = basic("reader", "r-pass")
SHOP = basic("shop", "s-pass")
ADMIN = basic("admin", "a-pass")


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = stand_in_app()
    install_auth(app, parse_auth_config(auth_document()))
    with TestClient(app) as test_client:
        yield test_client


def test_health_is_public(client: TestClient) -> None:
    """/healthz answers without credentials."""
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{}, basic("reader", "nope"), basic("ghost", "r-pass"), {"Authorization": "Bearer nope"}],
)
def test_missing_or_wrong_credentials_get_401_with_a_challenge(
    client: TestClient, headers: dict[str, str]
) -> None:
    """No or wrong credentials: 401, a Basic challenge (browser prompt) and a Bearer one."""
    response = client.get("/subjects", headers=headers)
    assert response.status_code == 401
    challenges = response.headers.get_list("www-authenticate")
    assert any(c.startswith("Basic realm=") for c in challenges)
    assert any(c.startswith("Bearer realm=") for c in challenges)
    assert response.json()["error_code"] == 40101


def test_two_authorization_headers_are_refused(client: TestClient) -> None:
    """Ambiguous credentials (two Authorization headers) authenticate nobody."""
    response = client.get(
        "/subjects",
        headers=[
            ("Authorization", READER["Authorization"]),
            ("Authorization", ADMIN["Authorization"]),
        ],
    )
    assert response.status_code == 401


def test_lists_show_only_readable_subjects(client: TestClient) -> None:
    """GET /subjects is filtered to the caller's readable subjects; admin sees all."""
    assert client.get("/subjects", headers=READER).json() == ["orders"]
    assert client.get("/subjects", headers=SHOP).json() == ["shop/../secret", "shop/order.created"]
    assert client.get("/subjects", headers=ADMIN).json() == sorted(SUBJECTS)


@pytest.mark.parametrize("subject", ["orders-secret", "ｏrders", "secret", "orders%00", "x" * 5000])
def test_a_forbidden_subject_answers_exactly_like_a_missing_one(
    client: TestClient, subject: str
) -> None:
    """Status, headers and body for an unreadable subject equal those of an absent one."""
    forbidden = client.get(f"/subjects/{subject}/versions", headers=READER)
    absent = client.get(f"/subjects/{subject}/versions", headers=ADMIN)
    if subject in SUBJECTS:
        absent = client.get("/subjects/no-such-subject/versions", headers=ADMIN)
        expected = absent.content.replace(b"no-such-subject", subject.encode())
    else:
        expected = absent.content
    assert forbidden.status_code == 404
    assert forbidden.content == expected
    assert forbidden.headers["content-type"] == absent.headers["content-type"]


def test_percent_encoded_slash_is_checked_as_the_decoded_name(client: TestClient) -> None:
    """`shop%2Forder.created` is the subject `shop/order.created`; `%2F..%2F` gives no escape."""
    assert client.get("/subjects/shop%2Forder.created/versions", headers=SHOP).json() == [1]
    assert client.get("/subjects/shop/order.created/versions", headers=SHOP).json() == [1]
    # `shop/../secret` is an opaque subject name: reachable via `shop/*`, and it is NOT `secret`.
    assert client.get("/subjects/shop%2F..%2Fsecret/versions", headers=SHOP).json() == [1]
    denied = client.get("/subjects/secret/versions", headers=SHOP)
    assert denied.status_code == 404
    assert client.get("/subjects/orders/versions", headers=SHOP).status_code == 404


def test_writes_and_deletes_need_their_rights(client: TestClient) -> None:
    """Read does not imply write; write does not imply admin; 403 names no subject state."""
    assert client.post("/subjects/orders/versions", headers=READER).status_code == 403
    assert client.post("/subjects/shop%2Fnew/versions", headers=SHOP).status_code == 200
    assert client.delete("/subjects/shop%2Forder.created", headers=SHOP).status_code == 403
    # No read right and no admin right: 403 whether or not the subject exists.
    exists = client.delete("/subjects/orders-secret", headers=SHOP)
    absent = client.delete("/subjects/never-registered", headers=SHOP)
    assert exists.status_code == absent.status_code == 403
    assert exists.content == absent.content
    assert client.delete("/subjects/orders", headers=ADMIN).status_code == 200
    assert client.put("/config", headers=READER).status_code == 403
    assert client.put("/config", headers=ADMIN).status_code == 200


def test_schema_ids_are_visible_only_through_a_readable_subject(client: TestClient) -> None:
    """Schema 2 is used only by unreadable subjects: it answers like a missing id."""
    assert client.get("/schemas/ids/1", headers=READER).status_code == 200
    hidden = client.get("/schemas/ids/2", headers=READER)
    missing = client.get("/schemas/ids/99", headers=READER)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content.replace(b"99", b"2")
    assert client.get("/schemas/ids/1/subjects", headers=READER).json() == ["orders"]
    assert client.get("/schemas/ids/2/subjects", headers=READER).status_code == 404
    assert client.get("/schemas/ids/2/subjects", headers=ADMIN).json() == [
        "orders-secret",
        "shop/../secret",
        "ｏrders",
    ]


def test_ingest_needs_write_on_the_named_subject_or_everywhere(client: TestClient) -> None:
    """?subject= needs write on it; without it only a global write grant will do."""
    bot = {"Authorization": f"Bearer {TOKEN}"}
    assert client.post("/v1/events?subject=orders", headers=bot).status_code == 200
    assert client.post("/v1/events?subject=orders-secret", headers=bot).status_code == 403
    assert (
        client.post("/v1/events?subject=orders&subject=orders-secret", headers=bot).status_code
        == 403
    )
    assert client.post("/v1/events", headers=bot).status_code == 403
    assert client.post("/v1/events", headers=ADMIN).status_code == 200


def test_query_parameter_subjects_are_checked_and_hidden(client: TestClient) -> None:
    """UI JSON endpoints take ?subject=; an unreadable one answers like a missing one."""
    assert (
        client.get("/ui/api/subject", params={"subject": "orders"}, headers=READER).status_code
        == 200
    )
    hidden = client.get("/ui/api/subject", params={"subject": "orders-secret"}, headers=READER)
    absent = client.get("/ui/api/subject", params={"subject": "orders-nothing"}, headers=ADMIN)
    assert hidden.status_code == absent.status_code == 404
    assert hidden.content == absent.content.replace(b"orders-nothing", b"orders-secret")
    # Two values: the handler would see the last one; both must be readable.
    both = client.get("/ui/api/subject?subject=orders&subject=orders-secret", headers=READER)
    assert both.status_code == 404


def test_a_record_by_id_is_shown_only_through_its_subject(client: TestClient) -> None:
    """Dead letter 2 belongs to an unreadable subject and 3 to none: for the reader both are
    byte for byte a missing id; 1 is its own; a reader of `*` sees all."""
    assert client.get("/v1/dead-letters/1", headers=READER).json() == {"id": 1, "subject": "orders"}
    missing = client.get("/v1/dead-letters/99", headers=READER)
    assert missing.status_code == 404
    for hidden in (2, 3):
        answer = client.get(f"/v1/dead-letters/{hidden}", headers=READER)
        assert answer.status_code == 404
        assert answer.content == missing.content.replace(b"99", str(hidden).encode())
    assert client.get("/v1/dead-letters/3", headers=ADMIN).json() == {"id": 3, "subject": None}
    assert client.get("/v1/dead-letters/x", headers=READER).status_code == 422  # the app's own


def test_a_body_subject_needs_the_right_on_it(client: TestClient) -> None:
    """A replay passes with write on the subject its body names (the route then sees the very
    same body), or with write on `*`; otherwise 403, also for a body that is not JSON."""
    body = b'{"subject": "shop/order.created", "reason": "r"}'
    passed = client.post("/v1/dead-letters/replay", content=body, headers=SHOP)
    assert passed.status_code == 200 and passed.json() == {"body": body.decode()}
    chunked = client.post(
        "/v1/dead-letters/replay", content=iter([body[:10], body[10:]]), headers=SHOP
    )
    assert chunked.json() == {"body": body.decode()}
    for refused in (b'{"subject": "orders"}', b'{"reason": "r"}', b"[", b""):
        answer = client.post("/v1/dead-letters/replay", content=refused, headers=SHOP)
        assert answer.status_code == 403, refused
    assert client.post("/v1/dead-letters/replay", content=body, headers=READER).status_code == 403
    assert client.post("/v1/dead-letters/replay", content=b"{}", headers=ADMIN).status_code == 200
    huge = b'{"subject": "shop/x", "pad": "' + b"x" * (1024 * 1024) + b'"}'
    assert client.post("/v1/dead-letters/replay", content=huge, headers=SHOP).status_code == 413


def test_unknown_paths_need_credentials_then_get_the_apps_404(client: TestClient) -> None:
    """A path no route serves: 401 anonymous, then the app's own 404 (nothing to leak)."""
    assert client.get("/nothing-here").status_code == 401
    assert client.get("/nothing-here", headers=READER).status_code == 404


def test_install_refuses_an_app_with_routes_it_cannot_read() -> None:
    """A route without a readable path template would be unauthorisable: refused at install."""
    from starlette.routing import BaseRoute

    class Opaque(BaseRoute):
        pass

    app = stand_in_app()
    app.router.routes.append(Opaque())
    with pytest.raises(TypeError, match="cannot read the path"):
        install_auth(app, parse_auth_config(auth_document()))


def test_websockets_need_credentials_and_the_subject_right(client: TestClient) -> None:
    """A websocket is refused (closed with 1008) without credentials or without read."""
    with client.websocket_connect("/ws/subjects/orders", headers=READER) as ws:
        assert ws.receive_json() == {"subject": "orders"}
    for headers in ({}, READER):
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            client.websocket_connect("/ws/subjects/orders-secret", headers=headers) as ws,
        ):
            ws.receive_json()
        assert refused.value.code == 1008


def test_head_requests_are_authorised_like_get(client: TestClient) -> None:
    """HEAD on a subject route needs the same read right as GET."""
    assert client.head("/subjects/orders/versions").status_code == 401
    assert client.head("/subjects/orders/versions", headers=READER).status_code in (200, 405)
