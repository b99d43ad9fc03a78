"""The shape fingerprint separates structures and ignores values."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from schemashift.pipeline.shapes import shape_of

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


def test_values_do_not_change_the_shape() -> None:
    """Same keys and types, different values: one shape."""
    assert shape_of({"a": 1, "b": "x", "c": [1, 2]}) == shape_of({"a": 9, "b": "y", "c": [3]})


def test_structure_changes_the_shape() -> None:
    """A new key, a retyped value, a nested change or an array element type: new shapes."""
    base = shape_of({"a": 1, "b": {"c": "x"}, "d": [1]})
    assert shape_of({"a": 1, "b": {"c": "x"}, "d": [1], "e": None}) != base
    assert shape_of({"a": "1", "b": {"c": "x"}, "d": [1]}) != base
    assert shape_of({"a": 1, "b": {"c": 2}, "d": [1]}) != base
    assert shape_of({"a": 1, "b": {"c": "x"}, "d": [1.5]}) != base
    assert shape_of({"a": True}) != shape_of({"a": 1})  # bool is not an integer here


@given(json_values)
def test_shape_is_hashable_and_deterministic(value: Any) -> None:
    """Every JSON value has a hashable shape equal to itself on recomputation."""
    first = shape_of(value)
    assert hash(first) == hash(shape_of(value))
    assert first == shape_of(value)


@given(st.dictionaries(st.text(max_size=5), json_values, max_size=5))
def test_dropping_a_key_changes_the_shape(payload: dict[str, Any]) -> None:
    """Removing any key gives a different shape (optional fields are analysed)."""
    for key in payload:
        smaller = {k: v for k, v in payload.items() if k != key}
        assert shape_of(smaller) != shape_of(payload)
