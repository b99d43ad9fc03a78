"""``/v1/dead-letters`` over real HTTP: a real server (uvicorn on a loopback port, a SQLite
file, the in-process bus, no worker — so replayed messages stay on the raw stream to be
read), dead letters seeded through ``Registry.record_dead_letters`` as the worker records
them, and httpx as the client. With ``--auth-config``: readers see only their subjects'
dead letters (a hidden id answers like a missing one), a replay needs write on its subject.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from schemashift.api.app import create_app
from schemashift.bus.base import Delivery
from schemashift.registry.dead_letters import DeadLetter
from schemashift.registry.service import Registry
from schemashift.security.hashing import ScryptParameters, hash_password
from schemashift.server.app import SchemaShiftServer
from schemashift.server.settings import ServerSettings
from schemashift.server.testing import running_server
from tests.support.servers import free_port, wait_for_port

ORDERS = "shop/order.created"
PAYMENTS = "billing/payment"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
FAST = ScryptParameters(n=16, r=1, p=1)


def letter(n: int, subject: str | None, reason: str = "type_mismatch", **kw: Any) -> DeadLetter:
    values: dict[str, Any] = {
        "msg_id": f"SCHEMASHIFT_RAW:{n}",
        "subject": subject,
        "reason": reason,
        "message": f"event {n}: /qty is not an integer",
        "path": "/qty",
        "details": ({"code": reason, "path": "/qty", "message": "expected integer"},),
        "quarantine_id": None,
        "headers": {"ce-id": f"e-{n}", "ce-source": "shop", "ce-type": "order.created"},
        "data": json.dumps({"qty": str(n)}).encode(),
        "raw_subject": "schemashift.raw.in",
        "raw_seq": n,
        "time": T0 + timedelta(seconds=n),
    }
    values.update(kw)
    return DeadLetter(**values)


def seed(registry: Registry) -> None:
    """Orders: three type mismatches, one too-deep payload (not JSON by the strict rules), one
    parked by quarantine 5; payments: one; and one whose subject could not be told."""
    registry.record_dead_letters(
        [
            letter(1, ORDERS),
            letter(2, ORDERS),
            letter(3, ORDERS, reason="too_deep", data=b"[" * 100 + b"]" * 100, path=None),
            letter(4, PAYMENTS),
            letter(5, None, reason="no_subject", path=None),
            letter(6, ORDERS),
            letter(7, ORDERS, state="parked", quarantine_id=5),
        ]
    )


def raw_stream(server: SchemaShiftServer) -> list[Delivery]:
    """Every message on the raw stream of the server's in-process bus (read on its loop)."""

    async def read() -> list[Delivery]:
        sub = await server.bus.subscribe("schemashift.raw.>", durable=None)
        got: list[Delivery] = []
        while batch := await sub.fetch(1000, 0.05):
            got.extend(batch)
        await sub.close()
        return got

    return asyncio.run_coroutine_threadsafe(read(), server.loop).result(10)


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[SchemaShiftServer, httpx.Client]]:
    db = tmp_path_factory.mktemp("dlq") / "dlq.db"
    settings = ServerSettings(db_url=f"sqlite:///{db}", port=0, workers=0)
    with running_server(settings) as server, httpx.Client(base_url=server.url) as http:
        seed(server.registry)
        yield server, http


def test_list_is_newest_first_with_a_cursor(served: tuple[SchemaShiftServer, httpx.Client]) -> None:
    """Dead rows newest first; next_cursor pages on; filters narrow together."""
    _, http = served
    first = http.get("/v1/dead-letters", params={"limit": 2}).json()
    assert [i["id"] for i in first["items"]] == [6, 5] and first["next_cursor"] == 5
    rest = http.get("/v1/dead-letters", params={"cursor": 5}).json()
    assert [i["id"] for i in rest["items"]] == [4, 3, 2, 1] and rest["next_cursor"] is None
    mine = http.get("/v1/dead-letters", params={"subject": ORDERS, "reason": "too_deep"}).json()
    assert [i["id"] for i in mine["items"]] == [3]
    parked = http.get("/v1/dead-letters", params={"state": "parked", "quarantine_id": 5}).json()
    assert [(i["id"], i["state"], i["quarantine_id"]) for i in parked["items"]] == [
        (7, "parked", 5)
    ]


def test_show_has_the_original_message(served: tuple[SchemaShiftServer, httpx.Client]) -> None:
    """One dead letter: reason, path, details, headers and the payload — decoded when it is
    JSON, null otherwise — with the exact bytes in data_base64."""
    _, http = served
    one = http.get("/v1/dead-letters/2")
    assert one.status_code == 200
    view = one.json()
    assert (view["subject"], view["reason"], view["path"]) == (ORDERS, "type_mismatch", "/qty")
    assert view["data"] == {"qty": "2"}
    assert view["headers"]["ce-id"] == "e-2"
    assert view["details"][0]["code"] == "type_mismatch"
    deep = http.get("/v1/dead-letters/3").json()
    assert deep["data"] is None
    assert base64.b64decode(deep["data_base64"]) == b"[" * 100 + b"]" * 100


def test_missing_and_malformed_ids(served: tuple[SchemaShiftServer, httpx.Client]) -> None:
    """A missing id: 404 with the registry's error body (40412); not a number: 422."""
    _, http = served
    missing = http.get("/v1/dead-letters/999")
    assert missing.status_code == 404
    assert missing.json() == {"error_code": 40412, "message": "Dead letter 999 not found"}
    assert http.get("/v1/dead-letters/99999999999999999999999").status_code == 404
    assert http.get("/v1/dead-letters/abc").status_code == 422
    assert http.get("/v1/dead-letters", params={"state": "gone"}).status_code == 422
    assert http.get("/v1/dead-letters", params={"limit": 1001}).status_code == 422


def test_counts_by_state_and_reason(served: tuple[SchemaShiftServer, httpx.Client]) -> None:
    """Counts for one subject (parked included), and for every subject."""
    _, http = served
    orders = http.get("/v1/dead-letters/counts", params={"subject": ORDERS}).json()
    assert orders["subject"] == ORDERS
    assert orders["counts"]["dead"] == {"too_deep": 1, "type_mismatch": 3}
    assert orders["counts"]["parked"] == {"type_mismatch": 1}
    everything = http.get("/v1/dead-letters/counts").json()
    assert everything["counts"]["dead"] == {"no_subject": 1, "too_deep": 1, "type_mismatch": 4}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"all": False},
        {"limit": 5},
        {"subject": ORDERS, "bogus": 1},
        {"ids": []},
        {"ids": [0]},
        {"ids": ["1"]},
        {"quarantine_id": True},
        {"subject": 5},
        {"subject": "a\u0000b"},
        [1, 2],
    ],
)
def test_a_replay_needs_a_valid_selection(
    served: tuple[SchemaShiftServer, httpx.Client], body: Any
) -> None:
    """No selector (a bare replay of everything must say {"all": true}), unknown fields and
    malformed values: 422 in the registry's error shape; nothing is re-driven."""
    _, http = served
    answer = http.post("/v1/dead-letters/replay", json=body)
    assert answer.status_code == 422, answer.text
    assert set(answer.json()) == {"error_code", "message"}
    assert http.post("/v1/dead-letters/replay", content=b"{").status_code == 400


def test_replay_publishes_to_the_raw_stream_and_marks(
    served: tuple[SchemaShiftServer, httpx.Client],
) -> None:
    """Replaying one reason of one subject: the messages land on the subject's raw bus
    subject with the original bytes; the rows become replayed; a second click re-drives
    nothing."""
    server, http = served
    before = len(raw_stream(server))
    answer = http.post(
        "/v1/dead-letters/replay", json={"subject": ORDERS, "reason": "type_mismatch"}
    )
    assert answer.status_code == 200 and answer.json() == {"replayed": 3}
    again = http.post(
        "/v1/dead-letters/replay", json={"subject": ORDERS, "reason": "type_mismatch"}
    )
    assert again.json() == {"replayed": 0}
    fresh = raw_stream(server)[before:]
    assert sorted(m.headers["schemashift-replay-of"] for m in fresh) == ["1", "2", "6"]
    assert {m.subject for m in fresh} == {"schemashift.raw.shop_2Forder_2Ecreated"}
    assert {m.data for m in fresh} == {json.dumps({"qty": str(n)}).encode() for n in (1, 2, 6)}
    states = [http.get(f"/v1/dead-letters/{n}").json()["state"] for n in (1, 2, 6, 3)]
    assert states == ["replayed", "replayed", "replayed", "dead"]
    counts = http.get("/v1/dead-letters/counts", params={"subject": ORDERS}).json()["counts"]
    assert counts["replayed"] == {"type_mismatch": 3}


def test_replay_by_ids_and_everything(served: tuple[SchemaShiftServer, httpx.Client]) -> None:
    """ids select rows (of any subject); {"all": true} takes what is left dead."""
    server, http = served
    assert http.post("/v1/dead-letters/replay", json={"ids": [4, 999]}).json() == {"replayed": 1}
    left = http.post("/v1/dead-letters/replay", json={"all": True}).json()["replayed"]
    assert (
        left == len(http.get("/v1/dead-letters", params={"state": "replayed"}).json()["items"]) - 4
    )
    assert http.get("/v1/dead-letters").json() == {"items": [], "next_cursor": None}
    unknown = [m for m in raw_stream(server) if m.headers.get("schemashift-replay-of") == "5"]
    assert [m.subject for m in unknown] == ["schemashift.raw.in"]  # no subject: its raw subject


@pytest.fixture()
def no_bus_url(tmp_path: Path) -> Iterator[str]:
    """The registry app alone (create_app without a bus) on a loopback port."""
    registry = Registry.from_url(f"sqlite:///{tmp_path / 'r.db'}")
    registry.record_dead_letters([letter(1, ORDERS)])
    port = free_port()
    config = uvicorn.Config(
        create_app(registry, state={"sunset_sweep_seconds": 0}),
        host="127.0.0.1",
        port=port,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        assert wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        registry.close()


def test_replay_without_a_bus_is_503(no_bus_url: str) -> None:
    """A process with no bus cannot re-drive: 503 (retry elsewhere); reads still work."""
    with httpx.Client(base_url=no_bus_url) as http:
        answer = http.post("/v1/dead-letters/replay", json={"subject": ORDERS})
        assert answer.status_code == 503
        assert answer.json()["error_code"] == 50302
        assert http.get("/v1/dead-letters/1").json()["state"] == "dead"


# -- with --auth-config ------------------------------------------------------------------------


def basic(user: str) -> tuple[str, str]:
    return (user, f"{user}-pw")


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SchemaShiftServer]:
    root = tmp_path_factory.mktemp("dlq-auth")
    users = [
        ("reader", [{"subjects": "shop/*", "rights": ["read"]}]),
        ("writer", [{"subjects": "shop/*", "rights": ["read", "write"]}]),
        ("admin", [{"subjects": "*", "rights": ["read", "write", "admin"]}]),
    ]
    document = {
        "users": [
            {"name": name, "password": hash_password(f"{name}-pw", params=FAST), "grants": grants}
            for name, grants in users
        ]
    }
    (root / "auth.json").write_text(json.dumps(document))
    settings = ServerSettings(
        db_url=f"sqlite:///{root / 'dlq.db'}", port=0, workers=0, auth_config=root / "auth.json"
    )
    with running_server(settings) as server:
        seed(server.registry)
        yield server


def test_anonymous_callers_get_401(guarded: SchemaShiftServer) -> None:
    """Every dead-letter route needs credentials."""
    with httpx.Client(base_url=guarded.url) as http:
        for method, path in [
            ("GET", "/v1/dead-letters"),
            ("GET", "/v1/dead-letters/1"),
            ("GET", "/v1/dead-letters/counts"),
            ("POST", "/v1/dead-letters/replay"),
        ]:
            assert http.request(method, path).status_code == 401, path


def test_a_reader_sees_only_its_subjects_dead_letters(guarded: SchemaShiftServer) -> None:
    """The list is filtered (no other subject's rows, none of unknown subject); a named hidden
    subject reads as one without dead letters; counts of every subject need read on *."""
    with httpx.Client(base_url=guarded.url, auth=basic("reader")) as http:
        listed = http.get("/v1/dead-letters").json()["items"]
        assert listed and {i["subject"] for i in listed} == {ORDERS}
        assert b"payment" not in http.get("/v1/dead-letters").content
        hidden = http.get("/v1/dead-letters", params={"subject": PAYMENTS})
        assert hidden.status_code == 200 and hidden.json()["items"] == []
        counts = http.get("/v1/dead-letters/counts", params={"subject": PAYMENTS}).json()
        assert counts["counts"] == {"dead": {}, "parked": {}, "replayed": {}}
        assert http.get("/v1/dead-letters/counts", params={"subject": ORDERS}).status_code == 200
        assert http.get("/v1/dead-letters/counts").status_code == 403


def test_a_hidden_id_answers_exactly_like_a_missing_one(guarded: SchemaShiftServer) -> None:
    """Row 4 (payments) and row 5 (no subject) are, for the reader, byte for byte the 404 of
    an id that does not exist; its own subject's rows are shown."""
    with (
        httpx.Client(base_url=guarded.url, auth=basic("reader")) as reader,
        httpx.Client(base_url=guarded.url, auth=basic("admin")) as admin,
    ):
        assert reader.get("/v1/dead-letters/1").json()["subject"] == ORDERS
        assert admin.get("/v1/dead-letters/4").json()["subject"] == PAYMENTS
        for hidden in (4, 5):
            forbidden = reader.get(f"/v1/dead-letters/{hidden}")
            missing = admin.get("/v1/dead-letters/888")
            assert forbidden.status_code == missing.status_code == 404
            assert forbidden.content == missing.content.replace(b"888", str(hidden).encode())
            assert forbidden.headers["content-type"] == missing.headers["content-type"]


def test_a_replay_needs_write_on_the_subject_it_names(guarded: SchemaShiftServer) -> None:
    """Without write on *, a replay must name a subject the caller may write; the subject then
    bounds it, so ids of another subject's rows re-drive nothing."""
    with (
        httpx.Client(base_url=guarded.url, auth=basic("reader")) as reader,
        httpx.Client(base_url=guarded.url, auth=basic("writer")) as writer,
        httpx.Client(base_url=guarded.url, auth=basic("admin")) as admin,
    ):
        assert reader.post("/v1/dead-letters/replay", json={"subject": ORDERS}).status_code == 403
        for body in (
            {"reason": "type_mismatch"},
            {"ids": [4]},
            {"all": True},
            {"subject": PAYMENTS},
        ):
            refused = writer.post("/v1/dead-letters/replay", json=body)
            assert refused.status_code == 403, body
        assert writer.post("/v1/dead-letters/replay", content=b"not json").status_code == 403
        bounded = writer.post("/v1/dead-letters/replay", json={"subject": ORDERS, "ids": [4]})
        assert bounded.json() == {"replayed": 0}
        assert admin.get("/v1/dead-letters/4").json()["state"] == "dead"
        done = writer.post("/v1/dead-letters/replay", json={"subject": ORDERS, "ids": [1, 2]})
        assert done.status_code == 200 and done.json() == {"replayed": 2}
        assert admin.post("/v1/dead-letters/replay", json={"ids": [4]}).json() == {"replayed": 1}
