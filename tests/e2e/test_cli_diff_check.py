"""`schemashift diff` and `schemashift check` end to end (files in, text/JSON out, exit codes)."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

from schemashift.cli import main


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def write(tmp_path: Path, name: str, value: object) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(value))
    return str(path)


OLD = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
NEW = {
    "type": "object",
    "properties": {"a": {"type": "number"}, "b": {"type": "string"}},
    "required": ["a"],
}


def test_diff_table_and_json(tmp_path: Path) -> None:
    old, new = write(tmp_path, "old.json", OLD), write(tmp_path, "new.json", NEW)
    code, out, _ = run("diff", old, new)
    assert code == 0
    assert "type_widened" in out and "property_added" in out and "drift score:" in out
    code, out, _ = run("diff", old, new, "--json")
    report = json.loads(out)
    assert code == 0 and 0 < report["score"] < 1
    assert {c["path"] for c in report["changes"]} == {"/a", "/b"}
    total = math.fsum(c["contribution"] for c in report["changes"])
    assert math.isclose(total, report["score"], abs_tol=1e-12)


def test_diff_of_jsonl_samples_infers_on_the_fly(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"id": 1, "name": "x"}\n{"id": 2, "name": "y"}\n')
    (tmp_path / "b.jsonl").write_text('{"id": "1", "name": "x"}\n')
    code, out, _ = run("diff", str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl"), "--json")
    report = json.loads(out)
    assert code == 0
    assert [(c["path"], c["code"]) for c in report["changes"]] == [("/id", "type_changed")]
    assert report["sample_count"] == 1 and report["inferred_schema"]["type"] == "object"


def test_identical_schemas_have_no_drift(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", OLD)
    code, out, _ = run("diff", old, old)
    assert code == 0 and "no structural change" in out and "drift score: 0.0000" in out


def test_check_exit_codes(tmp_path: Path) -> None:
    old, new = write(tmp_path, "old.json", OLD), write(tmp_path, "new.json", NEW)
    assert run("check", old, new, "--mode", "BACKWARD", "--policy", "lenient")[0] == 0
    code, out, _ = run("check", old, new, "--mode", "backward")
    assert code == 1 and "property_rejected" in out  # strict: the open writer may have sent b
    code, out, _ = run("check", new, old, "--mode", "BACKWARD", "--json")
    result = json.loads(out)
    assert code == 1 and result["compatible"] is False
    assert any(f["code"] == "type_narrowed" and f["path"] == "/a" for f in result["findings"])
    assert run("check", old, new, "--mode", "NONE")[0] == 0


def test_check_transitive_takes_every_earlier_schema(tmp_path: Path) -> None:
    v1 = write(tmp_path, "v1.json", {"type": "integer"})
    v2 = write(tmp_path, "v2.json", {"type": "number"})
    v3 = write(tmp_path, "v3.json", {"type": "number", "minimum": 0})
    assert run("check", v1, v2, v3, "--mode", "FORWARD")[0] == 0
    assert run("check", v1, v2, v3, "--mode", "FORWARD_TRANSITIVE")[0] == 1


def test_bad_input_exits_2(tmp_path: Path) -> None:
    good = write(tmp_path, "ok.json", OLD)
    remote = write(tmp_path, "remote.json", {"$ref": "https://example.com/schema.json"})
    (tmp_path / "broken.json").write_text("{not json")
    assert run("diff", good, str(tmp_path / "missing.json"))[0] == 2
    code, _, err = run("check", good, remote, "--mode", "BACKWARD")
    assert code == 2 and "remote" in err
    assert run("check", good, str(tmp_path / "broken.json"))[0] == 2
    assert run("check", good, good, "--policy", "observed")[0] == 2  # no payloads to observe
    assert run("check", good)[0] == 2


def test_observed_policy_uses_the_payloads(tmp_path: Path) -> None:
    """An optional property added to an open model is fine when the data never had it."""
    (tmp_path / "old.jsonl").write_text('{"a": 1}\n{"a": 2}\n')
    new = write(
        tmp_path,
        "new.json",
        {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}},
    )
    old = str(tmp_path / "old.jsonl")
    assert run("check", old, new, "--policy", "strict")[0] == 1
    assert run("check", old, new, "--policy", "observed")[0] == 0
    (tmp_path / "seen.jsonl").write_text('{"a": 1, "b": 5}\n')
    assert (
        run("check", old, new, "--policy", "observed", "--samples", str(tmp_path / "seen.jsonl"))[0]
        == 1
    )
