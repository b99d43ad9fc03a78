"""`schemashift dlq list|show|replay` against a real server (uvicorn on a loopback port, a
SQLite file, the in-process bus, no worker), dead letters seeded as the worker records them.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemashift.cli import main
from schemashift.registry.dead_letters import DeadLetter
from schemashift.server.app import SchemaShiftServer
from schemashift.server.settings import ServerSettings
from schemashift.server.testing import running_server
from tests.support.servers import free_port

ORDERS = "shop/order.created"


def letter(n: int, subject: str | None, reason: str = "type_mismatch", **kw: Any) -> DeadLetter:
    values: dict[str, Any] = {
        "msg_id": f"SCHEMASHIFT_RAW:{n}",
        "subject": subject,
        "reason": reason,
        "message": f"not conformable to version 1: /qty expected integer, got string ({n})",
        "path": "/qty",
        "details": ({"code": reason, "path": "/qty", "message": "expected integer"},),
        "quarantine_id": None,
        "headers": {"ce-id": f"e-{n}"},
        "data": json.dumps({"qty": str(n), "sku": "A-1"}).encode(),
        "raw_subject": "schemashift.raw.in",
        "raw_seq": n,
        "time": datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n),
    }
    values.update(kw)
    return DeadLetter(**values)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SchemaShiftServer]:
    db = tmp_path_factory.mktemp("cli-dlq") / "r.db"
    with running_server(ServerSettings(db_url=f"sqlite:///{db}", port=0, workers=0)) as running:
        running.registry.record_dead_letters(
            [
                letter(1, ORDERS),
                letter(2, ORDERS),
                letter(3, ORDERS, reason="too_deep", data=b"[[[", path=None),
                letter(4, "billing/payment"),
            ]
        )
        yield running


def dlq(server_url: str, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["dlq", "--registry", server_url, *args], out, err)
    return code, out.getvalue(), err.getvalue()


def test_every_action_answers_help() -> None:
    """`dlq --help` and each action's --help exit 0."""
    for args in (["dlq", "--help"], *(["dlq", a, "--help"] for a in ("list", "show", "replay"))):
        assert main(args, io.StringIO(), io.StringIO()) == 0


def test_list_prints_a_table(server: SchemaShiftServer) -> None:
    """Newest first, one row per dead letter with its reason, path and message."""
    code, out, err = dlq(server.url, "list", "--subject", ORDERS)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "TIME", "SUBJECT", "REASON", "PATH", "STATE", "MESSAGE"]
    assert [line.split()[0] for line in lines[1:]] == ["3", "2", "1"]
    assert "too_deep" in lines[1] and "/qty" in lines[2] and ORDERS in lines[2]


def test_list_json_lines_and_paging(server: SchemaShiftServer) -> None:
    """--json: one JSON object per line; more pages are announced on stderr with a cursor."""
    code, out, err = dlq(server.url, "--json", "list", "--limit", "2")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == [4, 3]
    assert err.strip() == "more: add --cursor 3"
    code, out, _ = dlq(server.url, "--json", "list", "--cursor", "3", "--reason", "type_mismatch")
    assert [json.loads(line)["id"] for line in out.splitlines()] == [2, 1]


def test_show_prints_the_record_and_the_payload(server: SchemaShiftServer) -> None:
    """`show ID`: why, where, and the original payload (pretty JSON, or base64 when not JSON)."""
    code, out, _ = dlq(server.url, "show", "2")
    assert code == 0
    assert "reason:       type_mismatch" in out and "path:         /qty" in out
    assert "header:       ce-id: e-2" in out
    payload = out.split("payload:\n", 1)[1]
    assert json.loads(payload) == {"qty": "2", "sku": "A-1"}
    code, out, _ = dlq(server.url, "show", "3")
    assert "(not JSON; base64) W1tb" in out  # b"[[["


def test_errors_are_one_line(server: SchemaShiftServer) -> None:
    """A missing id, a replay without a selector and an unreachable server: exit 1, one line."""
    code, out, err = dlq(server.url, "show", "999")
    assert (code, out) == (1, "")
    assert err == "schemashift dlq: HTTP 404: Dead letter 999 not found\n"
    code, _, err = dlq(server.url, "replay")
    assert code == 1 and err.count("\n") == 1 and "--all" in err
    code, _, err = dlq(f"http://127.0.0.1:{free_port()}", "list")
    assert code == 1 and err.startswith("schemashift dlq: cannot reach") and err.count("\n") == 1


def test_replay_by_id_reason_and_all(server: SchemaShiftServer) -> None:
    """Each selector re-drives and says how many; the rows are then replayed."""
    assert dlq(server.url, "replay", "--id", "1", "--id", "2")[1] == "replayed 2 dead letters\n"
    assert dlq(server.url, "replay", "--subject", ORDERS, "--reason", "too_deep")[1] == (
        "replayed 1 dead letter\n"
    )
    code, out, _ = dlq(server.url, "--json", "replay", "--all")
    assert (code, json.loads(out)) == (0, {"replayed": 1})
    assert dlq(server.url, "list")[1] == "no dead letters in state dead\n"
    code, out, _ = dlq(server.url, "--json", "list", "--state", "replayed")
    assert sorted(json.loads(line)["id"] for line in out.splitlines()) == [1, 2, 3, 4]
