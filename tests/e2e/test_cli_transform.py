"""`schemashift transform` end to end: JSON Lines in, conformed lines out, rejections, exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from schemashift.cli import main

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "when": {"type": "string", "format": "date-time"},
        "paid": {"type": "boolean", "default": False},
    },
    "required": ["id"],
}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def files(tmp_path: Path, lines: list[str]) -> tuple[str, str]:
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(SCHEMA))
    data = tmp_path / "events.jsonl"
    data.write_text("\n".join(lines) + "\n")
    return str(schema), str(data)


def test_all_conformed_exits_zero(tmp_path: Path) -> None:
    """Each line is conformed (coerced, defaulted, versioned) and printed in order; exit 0."""
    schema, data = files(tmp_path, ['{"id":"1","when":1700000000}', "", '{"id":2,"paid":true}'])
    code, out, err = run("transform", schema, data, "--version", "4")
    assert code == 0 and err == ""
    assert [json.loads(line) for line in out.splitlines()] == [
        {"id": 1, "when": "2023-11-14T22:13:20Z", "paid": False, "schemaVersion": 4},
        {"id": 2, "paid": True, "schemaVersion": 4},
    ]


def test_rejections_go_to_stderr_with_line_numbers(tmp_path: Path) -> None:
    """Rejected lines are JSON on stderr with file, line and reasons; the rest still flows;
    exit 1. (A repeated key keeps its last value, as event payloads do by default.)"""
    schema, data = files(tmp_path, ['{"id":"x"}', '{"id":1}', "{oops", '{"id":1,"id":2}'])
    code, out, err = run("transform", schema, data)
    assert code == 1
    assert [json.loads(line)["id"] for line in out.splitlines()] == [1, 2]
    records = [json.loads(line) for line in err.splitlines()]
    assert [(r["line"], r["reasons"][0]["code"]) for r in records] == [
        (1, "type_mismatch"),
        (3, "malformed_json"),
    ]
    assert records[0]["file"] == data and records[0]["reasons"][0]["path"] == "/id"


def test_repeated_keys_are_rejected_on_request(tmp_path: Path) -> None:
    """``--json-duplicates reject``: a line repeating a key is a rejection ``duplicate_key``,
    as at ingest and in ``infer`` under the same setting."""
    schema, data = files(tmp_path, ['{"id":1,"id":2}', '{"id":3}'])
    code, out, err = run("transform", schema, data, "--json-duplicates", "reject")
    assert code == 1
    assert [json.loads(line)["id"] for line in out.splitlines()] == [3]
    [record] = [json.loads(line) for line in err.splitlines()]
    assert (record["line"], record["reasons"][0]["code"]) == (1, "duplicate_key")


def test_rejections_file_and_options(tmp_path: Path) -> None:
    """--rejections writes to a file; --no-coercion, --no-metadata and --extras change the output."""
    schema, data = files(tmp_path, ['{"id":"7"}', '{"id":7,"x":1}'])
    sink = tmp_path / "rejected.jsonl"
    code, out, err = run(
        "transform",
        schema,
        data,
        "--no-coercion",
        "--no-metadata",
        "--extras",
        "drop",
        "--rejections",
        str(sink),
    )
    assert code == 1 and err == ""
    assert out.splitlines() == ['{"id":7,"paid":false}']
    assert json.loads(sink.read_text())["line"] == 1
    code, out, _ = run(
        "transform",
        schema,
        data,
        "--disable",
        "string_to_integer",
        "--subject-field",
        "s",
        "--subject",
        "shop",
    )
    assert code == 1 and json.loads(out)["s"] == "shop"


def test_bad_input_exits_two(tmp_path: Path) -> None:
    """A missing or invalid schema, or a missing data file, is exit 2 with a message."""
    schema, data = files(tmp_path, ['{"id":1}'])
    code, _, err = run("transform", str(tmp_path / "nope.json"), data)
    assert code == 2 and "cannot use schema" in err
    (tmp_path / "remote.json").write_text(json.dumps({"$ref": "https://example.com/x"}))
    code, _, err = run("transform", str(tmp_path / "remote.json"), data)
    assert code == 2 and "remote" in err
    code, _, err = run("transform", schema, str(tmp_path / "missing.jsonl"))
    assert code == 2 and "no such file" in err


def test_reads_stdin_as_a_real_process(tmp_path: Path) -> None:
    """The console entry point reads stdin when no file is given (a real subprocess)."""
    schema, _ = files(tmp_path, [])
    proc = subprocess.run(
        [sys.executable, "-c", "from schemashift.cli import entry; entry()", "transform", schema],
        input=b'{"id":"3"}\n{"id":[]}\n',
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout) == {"id": 3, "paid": False, "schemaVersion": 1}
    assert json.loads(proc.stderr)["file"] == "<stdin>"
