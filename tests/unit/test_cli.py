"""The CLI dispatcher: every command exists and answers --help."""

from __future__ import annotations

import io

import pytest

from schemashift.cli import COMMANDS, main


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help(command: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as info:
        # argparse prints help to sys.stdout and exits; main() turns that into a code
        raise SystemExit(main([command, "--help"], out, err))
    assert info.value.code == 0


def test_no_command_prints_usage() -> None:
    out = io.StringIO()
    assert main([], out, io.StringIO()) == 2
    assert "COMMAND" in out.getvalue()
