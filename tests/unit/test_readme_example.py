"""The README's ten-line example runs and prints what the README says it does."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def ten_line_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## In ten lines", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the README lost its ten-line example"
    return match.group(1)


def test_ten_line_example_runs_as_documented() -> None:
    code = ten_line_example()
    assert len([line for line in code.splitlines() if line and not line.startswith("#")]) <= 12
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    import schemashift as ss

    report = namespace["report"]
    assert isinstance(report, ss.DriftReport)
    assert [(c.path, str(c.code)) for c in report.changes] == [
        ("/amount", "type_widened"),
        ("/coupon", "property_added"),
    ]
    assert f"{report.score:.2f}" in code
    v1, v2, profile = namespace["v1"], namespace["v2"], namespace["profile"]
    assert isinstance(v1, dict)
    assert isinstance(v2, dict)
    assert not ss.check_compatibility(v1, v2, "BACKWARD").compatible  # strict, as the README says
    assert ss.check_compatibility(v1, v2, "BACKWARD", policy="observed", profile=profile).compatible
    conformed = ss.compile_transformer(v2, version=2)(
        {"id": "3", "email": "cy@example.com", "amount": "4.25"}
    )
    assert isinstance(conformed, ss.Conformed)
    assert repr(conformed.payload) in code
