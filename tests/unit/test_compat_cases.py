"""Runner for the data-driven compatibility table in ``compat_cases/`` (JSON-Schema-Test-Suite
style: groups of cases, each ``writer``, ``reader``, optional ``mode`` (default BACKWARD, with
``writer`` = old and ``reader`` = new) and ``policy``, the expected ``compatible`` verdict and,
for incompatible cases, finding ``codes`` that must appear)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from schemashift.core.compat import check_compatibility

CASES_DIR = Path(__file__).parent / "compat_cases"


def load_cases() -> list[Any]:
    params = []
    for file in sorted(CASES_DIR.glob("*.json")):
        for group in json.loads(file.read_text()):
            for case in group["cases"]:
                case_id = f"{file.stem}: {group['description']}: {case['description']}"
                params.append(pytest.param(case, id=case_id))
    return params


@pytest.mark.parametrize("case", load_cases())
def test_compat_case(case: dict[str, Any]) -> None:
    """Each table case gets its expected verdict, and the expected finding codes."""
    result = check_compatibility(
        case["writer"],
        case["reader"],
        case.get("mode", "BACKWARD"),
        policy=case.get("policy", "strict"),
    )
    assert result.compatible is case["compatible"], result.findings
    assert result.compatible == (not result.findings)
    codes = {str(f.code) for f in result.findings}
    assert set(case.get("codes", [])) <= codes, codes


def test_table_is_not_empty() -> None:
    """The runner finds the table (a renamed folder would otherwise pass vacuously)."""
    assert len(load_cases()) > 50
