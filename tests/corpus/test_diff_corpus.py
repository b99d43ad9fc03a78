"""Diffs of real consecutive payload versions (shared/corpus): the changed paths are exactly
the paths whose observed shape changed, and map-keyed objects cause no false drift."""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

import pytest

from schemashift.core.diff import diff
from schemashift.core.infer import infer
from tests.support.environment import shared_dir

pytestmark = pytest.mark.corpus

STRUCTURAL = {"property_added", "property_removed", "type_changed", "type_widened", "type_narrowed"}


def versions(folder: str, name: str) -> list[tuple[str, dict[str, Any]]]:
    root = shared_dir() / "corpus"
    payloads = (root / folder / f"{name}.jsonl").read_text().splitlines()
    provenance = (root / "provenance" / folder / f"{name}.jsonl").read_text().splitlines()
    return [
        (json.dumps(json.loads(p)["slot"]), json.loads(line))
        for p, line in zip(provenance, payloads, strict=True)
    ]


def shape(value: Any, path: str = "") -> dict[str, str]:
    """Oracle: each path → JSON type of the value there (objects recursed, arrays as '*')."""
    kind = "null" if value is None else type(value).__name__
    out = {path: kind}
    if isinstance(value, dict):
        for key, child in value.items():
            out |= shape(child, f"{path}/{key.replace('~', '~0').replace('/', '~1')}")
    return out


def top_most(paths: set[str]) -> set[str]:
    return {p for p in paths if not any(p.startswith(q + "/") for q in paths if q != p)}


def oracle(old: dict[str, Any], new: dict[str, Any]) -> set[str]:
    """The top-most paths whose presence or JSON type differs (int vs float aside: inference
    may read 1.0 as an integer) — below id-keyed maps, whose keys are not fields."""
    a, b = shape(old), shape(new)
    changed = set(a.keys() ^ b.keys())
    changed |= {p for p in a.keys() & b.keys() if a[p] != b[p] and {a[p], b[p]} != {"int", "float"}}
    return {p for p in top_most(changed) if not any(m in p for m in MAP_PARENTS)}


#: id-keyed maps named by the corpus README (GitHub `changes`, Stripe `metadata`)
MAP_PARENTS = ("/changes/", "/metadata/")
REPORTED = STRUCTURAL | {"nullability_added", "nullability_removed"}


def structural_paths(report: Any) -> set[str]:
    return {
        c.path
        for c in report.changes
        if c.code in REPORTED and "*" not in c.path and not _numeric_only(c.before, c.after)
    }


def _numeric_only(before: Any, after: Any) -> bool:
    return all(isinstance(x, list) and set(x) <= {"integer", "number"} for x in (before, after))


def check_file(folder: str, name: str, limit: int | None = None) -> int:
    by_slot: dict[str, list[dict[str, Any]]] = {}
    for slot, payload in versions(folder, name)[:limit]:
        by_slot.setdefault(slot, []).append(payload)
    compared = 0
    for payloads in by_slot.values():
        schemas = [infer([payload]) for payload in payloads]  # each payload inferred once
        for (old, new), (old_schema, new_schema) in zip(
            pairwise(payloads), pairwise(schemas), strict=True
        ):
            expected = {p for p in oracle(old, new) if "*" not in p}
            reported = structural_paths(diff(old_schema, new_schema))
            assert reported == expected, (name, reported ^ expected)
            compared += 1
    return compared


#: quick files (the start of GitHub pull_request's history among them); the rest is slow
FAST_FILES = [
    ("github", "pull_request", 60),
    ("github", "ping", None),
    ("github", "star", None),
    ("stripe", "event", None),
    ("stripe", "payout", None),
]


@pytest.mark.parametrize(("folder", "name", "limit"), FAST_FILES)
def test_consecutive_versions_list_exactly_the_changed_paths(
    folder: str, name: str, limit: int | None
) -> None:
    """For each example slot, each version against the next: the structural changes diff
    reports (added/removed/type/nullability) are exactly the top-most paths whose shape
    differs in the payloads (array insides excluded)."""
    assert check_file(folder, name, limit) > 0


@pytest.mark.slow
def test_whole_corpus_lists_exactly_the_changed_paths() -> None:
    """The same over every file of the corpus, whole (1,876 consecutive pairs)."""
    root = shared_dir() / "corpus"
    files = sorted(p for p in root.glob("*/*.jsonl") if p.parent.name != "provenance")
    assert sum(check_file(p.parent.name, p.stem) for p in files) > 1800


def test_map_keyed_objects_cause_no_false_drift() -> None:
    """Stripe metadata maps with different keys per payload: no change below /metadata."""
    payloads = [p for _, p in versions("stripe", "charge")]
    first = [
        dict(p, metadata={f"k{i}": "v" for i in range(j, j + 6)})
        for j, p in enumerate(payloads[:8])
    ]
    second = [
        dict(p, metadata={f"other{i}": "v" for i in range(j, j + 6)})
        for j, p in enumerate(payloads[:8])
    ]
    report = diff(infer(first), infer(second))
    assert [c.path for c in report.changes if c.path.startswith("/metadata")] == []
