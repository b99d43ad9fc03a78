"""The 599 upstream compatibility cases (Karapace + Apicurio) in ``shared/compat``.

Soundness is absolute: where the semantic probe found a counterexample (an instance valid
under the writer and invalid under the reader), the checker must never say *compatible*, under
the strict and the observed policy (the observed policy is given the profile of the
counterexample, i.e. the data that was actually emitted). Agreement with the upstream labels
is measured per policy; where upstream contradicts the semantics (``semantic_note``), the
verdicts are pinned so docs/readme/diff.md stays true.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from typing import Any

import pytest

from schemashift.core.compat import check_compatibility
from schemashift.core.profile import Profile
from tests.support.environment import shared_dir

pytestmark = pytest.mark.corpus


@cache
def cases() -> tuple[dict[str, Any], ...]:
    path = shared_dir() / "compat" / "jsonschema_compat_cases.json"
    return tuple(json.loads(path.read_text()))


def counterexample(case: dict[str, Any]) -> Any:
    probe = case["semantic_probe"]
    return probe["instance"] if probe["status"] == "counterexample" else None


def observed_profile(case: dict[str, Any]) -> Profile:
    profile = Profile()
    instance = counterexample(case)
    if isinstance(instance, dict):
        profile.add(instance)
    return profile


def verdict(case: dict[str, Any], policy: str) -> str:
    profile = observed_profile(case) if policy == "observed" else None
    result = check_compatibility(
        case["writer"], case["reader"], "BACKWARD", policy=policy, profile=profile
    )
    return "compatible" if result.compatible else "incompatible"


def test_corpus_has_every_case() -> None:
    """All 599 cases are there, 157 of them with a counterexample."""
    assert len(cases()) == 599
    assert sum(1 for c in cases() if c["semantic_probe"]["status"] == "counterexample") == 157


@pytest.mark.parametrize("policy", ["strict", "observed"])
def test_never_compatible_where_a_counterexample_exists(policy: str) -> None:
    """Soundness: no 'compatible' on any of the 157 proven-incompatible cases."""
    unsound = [
        c["name"]
        for c in cases()
        if c["semantic_probe"]["status"] == "counterexample" and verdict(c, policy) == "compatible"
    ]
    assert unsound == []


def test_counterexamples_are_rejected_by_the_reader() -> None:
    """The probe's instances really are writer-valid and reader-invalid for a few cases
    (guards the meaning of the field the soundness test relies on)."""
    from schemashift.core.schema import parse_schema, validator_for

    checked = 0
    for case in cases():
        instance = counterexample(case)
        if instance is None or checked >= 20:
            continue
        writer, reader = parse_schema(case["writer"]), parse_schema(case["reader"])
        assert validator_for(writer).is_valid(instance)
        assert not validator_for(reader).is_valid(instance)
        checked += 1
    assert checked == 20


def agreement(policy: str) -> Counter[str]:
    tally: Counter[str] = Counter()
    for case in cases():
        mine = verdict(case, policy)
        tally["agree" if mine == case["expected"] else "disagree"] += 1
        if case.get("semantic_note") and mine != case["expected"]:
            tally["disagree_where_upstream_contradicts_semantics"] += 1
    return tally


@pytest.mark.parametrize(
    ("policy", "at_least"), [("strict", 514), ("lenient", 495), ("observed", 500)]
)
def test_agreement_with_upstream_labels(policy: str, at_least: int) -> None:
    """Agreement with the upstream labels stays at the documented level (docs/readme/diff.md);
    most remaining disagreements are cases where upstream contradicts the semantics."""
    tally = agreement(policy)
    assert tally["agree"] >= at_least, tally
    assert tally["disagree_where_upstream_contradicts_semantics"] >= 60, tally


@pytest.mark.parametrize("policy", ["strict", "lenient", "observed"])
@pytest.mark.parametrize(
    ("note", "count", "ours"),
    [
        # Karapace calls `true` an object schema; a reader accepting everything accepts all
        ("Karapace treats `true`", 61, "compatible"),
        # a writer with no instance is included in every reader
        ("writer admits no instance", 8, "compatible"),
        # upstream says compatible although a writer-valid, reader-invalid instance exists
        ("concrete writer-valid/reader-invalid instance", 3, "incompatible"),
    ],
)
def test_verdicts_where_upstream_contradicts_semantics(
    policy: str, note: str, count: int, ours: str
) -> None:
    """Each kind of `semantic_note` gets the semantic verdict under every policy, as
    docs/readme/diff.md states."""
    noted = [c for c in cases() if note in c.get("semantic_note", "")]
    assert len(noted) == count
    assert {verdict(c, policy) for c in noted} == {ours}
