"""Filtering list answers down to readable subjects (pure helpers of the auth middleware)."""

from __future__ import annotations

import json

import pytest

from schemashift.security.responses import body_field, filter_subjects, json_escaped


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


def test_pages_keep_only_items_of_readable_subjects() -> None:
    """A dead-letter page keeps items naming a readable subject; an item of no known subject
    (null) or without one is dropped — those are for readers of `*` alone."""
    document = {
        "items": [
            {"id": 4, "subject": "ok1"},
            {"id": 3, "subject": "secret"},
            {"id": 2, "subject": None},
            {"id": 1},
            "ok2",
        ],
        "next_cursor": 1,
    }
    assert filter_subjects(document, readable) == {
        "items": [{"id": 4, "subject": "ok1"}],
        "next_cursor": 1,
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"subject": "ok1", "ids": [1]}', "ok1"),
        (b'{"ids": [1]}', None),
        (b'{"subject": 5}', None),
        (b'["subject"]', None),
        (b"{", None),
        (b"", None),
        # the route refuses duplicate keys, so the middleware must not pick one of them
        (b'{"subject": "ok1", "subject": "secret"}', None),
    ],
)
def test_body_field_reads_the_body_as_the_api_does(body: bytes, expected: str | None) -> None:
    """The subject a replay names is read with the API's strict parsing rules."""
    assert body_field(body, "subject") == expected


@pytest.mark.parametrize(
    "name", ["plain", 'quo"te', "back\\slash", "ünïcødé", "tab\tname", "/slash/"]
)
def test_json_escaped_matches_what_a_json_encoder_writes(name: str) -> None:
    """The subject written back into a hidden answer is escaped as the app's encoder does."""
    assert json_escaped(name) == json.dumps({"s": name}, ensure_ascii=False)[7:-2].encode()
