"""`schemashift infer` end to end: through main() with real files and a real subprocess."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import fastavro
import pytest

from schemashift.cli import main

LINES = [
    b'{"type": "click", "x": 1, "ts": "2024-01-01T00:00:00Z"}',
    b'{"type": "click", "x": 2.5, "ts": "2024-01-02T00:00:00Z"}',
    b'{"type": "view", "page": "/", "ts": "2024-01-03T00:00:00Z"}',
]


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["infer", *argv], out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture()
def events_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(LINES) + b"\n")
    return path


def test_prints_the_schema_of_a_file(events_file: Path) -> None:
    """A JSON Lines file gives a 2020-12 schema on stdout and nothing on stderr."""
    code, out, err = run([str(events_file)])
    schema = json.loads(out)
    assert code == 0 and err == ""
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["properties"]["x"] == {"type": "number"}
    assert schema["properties"]["ts"]["format"] == "date-time"
    assert schema["required"] == ["ts", "type"]


def test_bad_lines_are_reported_with_line_numbers_and_skipped(tmp_path: Path) -> None:
    """NaN, duplicate keys (under --json-duplicates reject), huge integers and non-objects
    are per-line errors, not fatal."""
    path = tmp_path / "mixed.jsonl"
    huge = b"1" * 4400
    path.write_bytes(
        b"\n".join(
            [
                LINES[0],
                b'{"x": NaN}',
                b'{"a": 1, "a": 2}',
                b'{"n": ' + huge + b"}",
                b"[1, 2]",
                b"{oops",
                LINES[1],
            ]
        )
    )
    code, out, err = run(["--json-duplicates", "reject", str(path)])
    assert code == 0
    assert json.loads(out)["required"] == ["ts", "type", "x"]
    for line, reason in [
        (2, "nan_or_infinity"),
        (3, "duplicate_key"),
        (4, "integer_too_long"),
        (5, "not_an_object"),
        (6, "malformed_json"),
    ]:
        assert f"{path}:{line}: {reason}" in err
    assert "5 bad line(s) skipped" in err


GITLAB_BUILD = (
    b'{"object_kind": "build", "build_id": 1, "repository": {"name": "r", '
    b'"git_ssh_url": "git@a:r.git", "git_http_url": "https://a/r.git", '
    b'"git_ssh_url": "git@b:r.git"}}'
)


def test_a_repeated_key_keeps_its_last_value_by_default(tmp_path: Path) -> None:
    """A GitLab build hook repeats git_ssh_url: by default the line is profiled with the last
    value (as JSON.parse reads it), and stderr counts the lines that repeated a key."""
    path = tmp_path / "gitlab.jsonl"
    path.write_bytes(
        GITLAB_BUILD + b"\n" + GITLAB_BUILD.replace(b'"build_id": 1', b'"build_id": 2')
    )
    code, out, err = run(["--profile", str(path)])
    assert code == 0
    assert "duplicate_key" not in err and "bad line" not in err
    assert "2 line(s) repeated a key; the last value was kept" in err
    code, out, _ = run([str(path)])
    repository = json.loads(out)["properties"]["repository"]
    assert set(repository["properties"]) == {"name", "git_ssh_url", "git_http_url"}
    assert repository["properties"]["git_ssh_url"]["type"] == "string"


def test_json_duplicates_reject_refuses_the_line_in_one_line(tmp_path: Path) -> None:
    """--json-duplicates reject: the line is a bad one, named on one stderr line."""
    path = tmp_path / "gitlab.jsonl"
    path.write_bytes(LINES[0] + b"\n" + GITLAB_BUILD + b"\n")
    code, out, err = run(["--json-duplicates", "reject", str(path)])
    assert code == 0 and json.loads(out)["required"] == ["ts", "type", "x"]
    [line] = [x for x in err.splitlines() if "duplicate_key" in x]
    assert line == f"{path}:2: duplicate_key: duplicate key 'git_ssh_url' in one object"
    assert "1 bad line(s) skipped" in err
    code, out, err = run(["--json-duplicates", "reject", "--strict", str(path)])
    assert code == 1 and out == "" and err.count("\n") == 1


def test_strict_makes_a_bad_line_fatal(tmp_path: Path) -> None:
    """--strict stops at the first bad line with exit code 1 and prints no schema."""
    path = tmp_path / "bad.jsonl"
    path.write_bytes(LINES[0] + b"\n{bad\n" + LINES[1])
    code, out, err = run(["--strict", str(path)])
    assert code == 1 and out == ""
    assert f"{path}:2: malformed_json" in err


def test_group_by_infers_one_schema_per_value(events_file: Path) -> None:
    """--group-by /type keys the output by the pointer's value; a missing value is its own group."""
    with events_file.open("ab") as handle:
        handle.write(b'{"other": true}\n')
    code, out, _ = run(["--group-by", "/type", str(events_file)])
    groups = json.loads(out)
    assert code == 0
    assert set(groups) == {"click", "view", "(missing)"}
    assert "page" in groups["view"]["properties"] and "page" not in groups["click"]["properties"]


def test_avro_output_parses_with_fastavro(events_file: Path) -> None:
    """--format avro prints an Avro record fastavro accepts, named by --name."""
    code, out, _ = run(["--format", "avro", "--name", "Click", str(events_file)])
    avro = json.loads(out)
    fastavro.parse_schema(avro)
    assert code == 0 and avro["name"] == "Click"


def test_profile_output_is_a_restorable_profile(events_file: Path) -> None:
    """--profile prints the profile (to_dict), which Profile.from_dict accepts."""
    from schemashift.core.profile import Profile

    code, out, _ = run(["--profile", str(events_file)])
    profile = Profile.from_dict(json.loads(out))
    assert code == 0 and profile.count == 3


def test_demo_infers_generated_events_per_subject() -> None:
    """--demo N infers one schema per generated subject; --report prints a summary instead."""
    code, out, _ = run(["--demo", "400"])
    schemas = json.loads(out)
    assert code == 0
    assert "shop/order.created" in schemas
    code, out, _ = run(["--demo", "400", "--report"])
    assert code == 0
    assert "shop/order.created:" in out and "maps: /properties" in out
    assert "tagged unions: /method by type" in out


def test_no_valid_payload_and_missing_file_are_errors(tmp_path: Path) -> None:
    """Only bad lines → exit 1; a file that does not exist → exit 2 with the OS message."""
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"nope\n")
    code, _, err = run([str(path)])
    assert code == 1 and "no valid payloads" in err
    code, _, err = run([str(tmp_path / "absent.jsonl")])
    assert code == 2 and "absent.jsonl" in err


def test_bad_pointer_is_a_usage_error(events_file: Path) -> None:
    """--group-by must be a JSON Pointer."""
    code, _, err = run(["--group-by", "type", str(events_file)])
    assert code == 2 and "JSON Pointer" in err


def test_reads_stdin_in_a_real_process() -> None:
    """`schemashift infer -` in a subprocess reads stdin and writes the schema to stdout."""
    result = subprocess.run(
        [sys.executable, "-c", "from schemashift.cli import entry; entry()", "infer", "-"],
        input=b"\n".join(LINES),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["properties"]["type"]["type"] == "string"


class _Terminal(io.StringIO):
    """A text stream that says it is a terminal, as stderr is in an interactive shell."""

    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal_for_large_inputs(tmp_path: Path) -> None:
    """A large input shows a progress bar on a terminal stderr; pipes and small files do not."""
    path = tmp_path / "big.jsonl"
    path.write_bytes((LINES[0] + b"\n") * 30_000)
    tty = _Terminal()
    code = main(["infer", str(path)], io.StringIO(), tty)
    assert code == 0
    assert "\x1b[" in tty.getvalue()  # rich drew (and then cleared) a bar
    piped = io.StringIO()
    assert main(["infer", str(path)], io.StringIO(), piped) == 0
    assert piped.getvalue() == ""
    small_file = tmp_path / "small.jsonl"
    small_file.write_bytes(LINES[0] + b"\n")
    small = _Terminal()
    assert main(["infer", str(small_file)], io.StringIO(), small) == 0
    assert small.getvalue() == ""
