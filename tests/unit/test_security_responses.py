"""Filtering list answers down to readable subjects (pure helpers of the auth middleware)."""

from __future__ import annotations

import json

import pytest

from schemashift.security.responses import filter_subjects, json_escaped


def readable(name: str) -> bool:
    return name.startswith("ok")


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (["ok1", "secret", "ok2"], ["ok1", "ok2"]),
        (
            [{"subject": "ok1", "version": 1}, {"subject": "secret", "version": 2}],
            [{"subject": "ok1", "version": 1}],
        ),
        ([], []),
        ({"error_code": 40401, "message": "x"}, {"error_code": 40401, "message": "x"}),
        ([1, 2], [1, 2]),  # not subject-shaped: left alone
    ],
)
def test_lists_keep_only_readable_subjects(document: object, expected: object) -> None:
    """Plain names and {subject: …} rows are filtered; other shapes pass unchanged."""
    assert filter_subjects(document, readable) == expected


def test_totals_are_recomputed_over_the_kept_rows() -> None:
    """The UI overview's totals never count hidden subjects (no leak through counts)."""
    document = {
        "subjects": [
            {"subject": "ok1", "versions": 2, "events_per_second": 1.5, "status": "ok"},
            {"subject": "secret", "versions": 40, "events_per_second": 99.0, "status": "ok"},
        ],
        "totals": {"subjects": 2, "versions": 42, "events_per_second": 100.5, "status": "mixed"},
    }
    filtered = filter_subjects(document, readable)
    assert [r["subject"] for r in filtered["subjects"]] == ["ok1"]
    assert filtered["totals"] == {"subjects": 1, "versions": 2, "events_per_second": 1.5}


@pytest.mark.parametrize(
    "name", ["plain", 'quo"te', "back\\slash", "ünïcødé", "tab\tname", "/slash/"]
)
def test_json_escaped_matches_what_a_json_encoder_writes(name: str) -> None:
    """The subject written back into a hidden answer is escaped as the app's encoder does."""
    assert json_escaped(name) == json.dumps({"s": name}, ensure_ascii=False)[7:-2].encode()
