"""`schemashift worker` and `schemashift subscribe`: argument checks and exit codes."""

from __future__ import annotations

import io
from typing import Any

import pytest

from schemashift.cli import main
from tests.support.servers import free_port


def test_worker_exits_3_when_the_bus_cannot_be_reached() -> None:
    """No server at the URL: the worker fails with code 3 and says why, instead of idling."""
    out, err = io.StringIO(), io.StringIO()
    url = f"nats://127.0.0.1:{free_port()}"
    code = main(
        ["worker", "--bus", url, "--db", "sqlite://", "--unreachable-budget", "1"], out, err
    )
    assert code == 3
    assert "cannot connect" in err.getvalue()


def test_worker_refuses_a_pointer_without_slash() -> None:
    """A subject pointer must be a JSON Pointer."""
    err = io.StringIO()
    code = main(["worker", "--subject-pointer", "type"], io.StringIO(), err)
    assert code == 2 and "JSON Pointer" in err.getvalue()


def test_subscribe_needs_a_name_and_valid_contracts() -> None:
    """--name is required; --contract must be SUBJECT=/a,/b."""
    assert main(["subscribe"], io.StringIO(), io.StringIO()) == 2
    err = io.StringIO()
    code = main(["subscribe", "--name", "x", "--contract", "nofields"], io.StringIO(), err)
    assert code == 2 and "--contract" in err.getvalue()


def test_worker_json_duplicates_sets_the_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """--json-duplicates reaches the worker's options (last_wins unless told)."""
    from schemashift.cli import worker as worker_cli
    from schemashift.core.jsonparse import DuplicateKeys

    seen: list[Any] = []

    async def serve(args: Any, options: Any, stderr: Any) -> dict[str, int]:
        seen.append(options.limits.duplicate_keys)
        return {}

    monkeypatch.setattr(worker_cli, "_serve", serve)
    monkeypatch.delenv("SCHEMASHIFT_JSON_DUPLICATES", raising=False)
    assert main(["worker"], io.StringIO(), io.StringIO()) == 0
    assert main(["worker", "--json-duplicates", "reject"], io.StringIO(), io.StringIO()) == 0
    assert seen == [DuplicateKeys.LAST_WINS, DuplicateKeys.REJECT]
