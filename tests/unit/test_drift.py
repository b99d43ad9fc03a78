"""The drift score: bounded, order-invariant, 0 iff no change, grows with each change, and
the per-change contributions sum to it; top-level and type/required changes weigh most."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemashift.core.diff import ChangeCode, diff
from schemashift.core.drift import DEFAULT_BASE, DriftWeights, combine

weights_lists = st.lists(st.floats(min_value=1e-6, max_value=0.9), max_size=40)


@settings(max_examples=200)
@given(weights_lists)
def test_score_is_bounded_and_contributions_sum_to_it(ws: list[float]) -> None:
    score, shares = combine(ws)
    assert 0.0 <= score <= 1.0
    assert math.isclose(math.fsum(shares), score, abs_tol=1e-12)
    assert (score == 0.0) == (not ws)


@settings(max_examples=200)
@given(weights_lists, st.randoms(use_true_random=False))
def test_score_is_order_invariant(ws: list[float], rnd: Any) -> None:
    shuffled = list(ws)
    rnd.shuffle(shuffled)
    assert combine(ws)[0] == combine(shuffled)[0]


@settings(max_examples=200)
@given(weights_lists, st.floats(min_value=1e-3, max_value=0.9))
def test_score_grows_when_a_change_is_added(ws: list[float], extra: float) -> None:
    before, after = combine(ws)[0], combine([*ws, extra])[0]
    assert after >= before
    if before < 0.99:
        assert after > before


properties = st.dictionaries(
    st.sampled_from(["a", "b", "c", "d", "e"]),
    st.sampled_from(
        [
            {"type": "string"},
            {"type": "integer"},
            {"type": ["string", "null"]},
            {"type": "object", "properties": {"x": {"type": "integer"}}},
        ]
    ),
    max_size=5,
)


def obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": sorted(required or [])}


@settings(max_examples=60, deadline=None)
@given(properties, properties)
def test_diff_score_properties(old: dict[str, Any], new: dict[str, Any]) -> None:
    """On real diffs: 0 on identical schemas, 0 iff no change, bounded, shares sum to score,
    and the same result whatever the property order."""
    report = diff(obj(old), obj(new))
    assert diff(obj(old), obj(old)).score == 0.0
    assert (report.score == 0.0) == (not report.changes)
    assert 0.0 <= report.score <= 1.0
    assert math.isclose(sum(c.contribution for c in report.changes), report.score, abs_tol=1e-9)
    reordered = obj(dict(reversed(list(new.items()))))
    assert diff(obj(old), reordered).score == report.score


def test_top_level_weighs_more_than_deep() -> None:
    top = diff(obj({"a": {"type": "string"}}), obj({}))
    deep = diff(obj({"p": obj({"a": {"type": "string"}})}), obj({"p": obj({})}))
    assert top.score > deep.score > 0


def test_type_change_and_required_removal_weigh_most() -> None:
    base = obj({"a": {"type": "string"}, "b": {"type": "string"}}, ["a"])
    type_change = diff(base, obj({"a": {"type": "object"}, "b": {"type": "string"}}, ["a"]))
    required_removed = diff(base, obj({"b": {"type": "string"}}))
    optional_removed = diff(base, obj({"a": {"type": "string"}}, ["a"]))
    added = diff(
        base,
        obj({"a": {"type": "string"}, "b": {"type": "string"}, "c": {"type": "string"}}, ["a"]),
    )
    assert type_change.score > optional_removed.score > added.score
    assert required_removed.score > optional_removed.score
    assert max(DEFAULT_BASE.values()) == DEFAULT_BASE[ChangeCode.TYPE_CHANGED]


def test_weights_are_data() -> None:
    """Custom weights change the score; invalid ones are refused."""
    old, new = obj({"a": {"type": "string"}}), obj({})
    heavier = DriftWeights(base={**DEFAULT_BASE, "property_removed": 0.8})
    assert diff(old, new, weights=heavier).score > diff(old, new).score
    with pytest.raises(ValueError):
        DriftWeights(cap=1.0)
    with pytest.raises(ValueError):
        DriftWeights(depth_decay=0)


def test_documented_example() -> None:
    """The worked example of docs/drift.md gives the numbers the page states."""
    old = obj({"a": {"type": "integer"}, "b": {"type": "string"}}, ["a"])
    new = obj({"a": {"type": "number"}, "c": {"type": "string"}}, ["a"])
    report = diff(old, new)
    assert math.isclose(report.score, 0.592, abs_tol=1e-9)
    shares = {c.path: round(c.contribution, 3) for c in report.changes}
    assert shares == {"/a": 0.158, "/b": 0.316, "/c": 0.118}
