"""core.widen: the smallest change that takes a payload, its classes, and `accepts`.

Pins: `accepts` agrees with the compiled strict checker (the pipeline trusts it instead of
compiling a checker per version); each widening step carries the class the evolution policy
decides on; a widened schema takes the new value and everything the old one took.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemashift.core.infer import infer
from schemashift.core.transform import Rejected, strict_checker
from schemashift.core.widen import accepts, widen

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["a", "b", "GET", "2024-01-01T00:00:00Z", "x@example.com", "12"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["k", "m", "type", "id"]), inner, max_size=3)
    ),
    max_leaves=8,
)
events = st.dictionaries(
    st.sampled_from(["id", "type", "qty", "note", "tags", "meta"]), values, max_size=5
)


def strictly(schema: Any, payload: Any) -> bool:
    return not isinstance(strict_checker(schema)(payload), Rejected)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(events, min_size=1, max_size=8), st.lists(events, min_size=1, max_size=4))
def test_accepts_agrees_with_the_strict_checker(
    seen: list[dict[str, Any]], later: list[dict[str, Any]]
) -> None:
    """On inferred schemas and their widenings, `accepts` says what the compiled strict
    checker says, for old and new values alike."""
    schema = infer(seen)
    for payload in [*seen, *later]:
        assert accepts(schema, payload) == strictly(schema, payload), (schema, payload)
        schema = widen(schema, payload).schema
        assert accepts(schema, payload) is True


def classes(schema: Any, payload: Any) -> list[tuple[str, str, str]]:
    return [(d.code, d.path, d.direction) for d in widen(schema, payload).deltas]


BASE = infer([{"id": i, "method": "GET" if i % 2 else "PUT", "note": None} for i in range(40)])


def test_each_step_carries_its_class() -> None:
    assert classes(BASE, {"id": 1, "method": "GET", "note": None, "coupon": "A"}) == [
        ("property_added", "/coupon", "additive")
    ]
    assert classes(BASE, {"id": 1.5, "method": "GET", "note": None}) == [
        ("type_widened", "/id", "additive")  # integer → number
    ]
    assert classes(BASE, {"id": "1", "method": "GET", "note": None}) == [
        ("type_widened", "/id", "modification")  # another kind of value
    ]
    assert classes(BASE, {"id": 1, "method": "GET", "note": "now text"}) == [
        ("type_widened", "/note", "additive")  # its first non-null type
    ]
    assert classes(BASE, {"id": 1, "method": "POST", "note": None}) == [
        ("enum_changed", "/method", "additive")
    ]
    assert classes(BASE, {"id": 1, "method": "GET"}) == [
        ("became_optional", "/note", "subtractive")
    ]
    assert classes(BASE, {"id": 1, "method": "GET", "note": None}) == []


def test_keys_that_do_not_recur_become_a_map() -> None:
    """With the fold rule saying so, undeclared members become map values (one step)."""
    widened = widen(
        BASE, {**{"id": 1, "method": "GET", "note": None}, "x1": 1}, fold=lambda *_: True
    )
    assert [(d.code, d.direction) for d in widened.deltas] == [("record_to_map", "additive")]
    assert accepts(widened.schema, {"id": 2, "method": "PUT", "note": None, "x9": 5})
