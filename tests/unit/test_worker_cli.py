"""`schemashift worker` and `schemashift subscribe`: argument checks and exit codes."""

from __future__ import annotations

import io

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
