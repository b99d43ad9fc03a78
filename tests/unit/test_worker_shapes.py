"""The shape fingerprint separates structures and ignores values."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from schemashift.pipeline.shapes import shape_guide, shape_of

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


MAPPED = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "properties": {"type": "object", "additionalProperties": {"type": "string"}},
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "sku": {"type": "string"},
                    "attrs": {
                        "anyOf": [
                            {"type": "object", "additionalProperties": {"type": "integer"}},
                            {"type": "null"},
                        ]
                    },
                },
            },
        },
    },
}


def test_keys_of_declared_maps_are_not_structure() -> None:
    """Under a version that declares `properties` (and `lines/*/attrs`) maps, new map keys
    keep the shape; the map values' types, the records' keys and array elements still count."""
    guide = shape_guide(MAPPED)
    base = shape_of({"id": 1, "properties": {"utm": "a"}, "lines": [{"sku": "x"}]}, guide)
    assert (
        shape_of({"id": 2, "properties": {"exp_42": "b"}, "lines": [{"sku": "y"}]}, guide) == base
    )
    assert (
        shape_of({"id": 2, "properties": {"a": "1", "b": "2"}, "lines": [{"sku": "y"}]}, guide)
        == base
    )
    assert shape_of({"id": 2, "properties": {"utm": 1}, "lines": [{"sku": "y"}]}, guide) != base
    assert shape_of({"id": 2, "properties": {}, "lines": [{"sku": "y"}]}, guide) != base
    assert (
        shape_of({"id": 2, "extra": 1, "properties": {"u": "a"}, "lines": [{"sku": "y"}]}, guide)
        != base
    )
    with_attrs = shape_of(
        {"id": 1, "properties": {"u": "a"}, "lines": [{"sku": "x", "attrs": {"w": 1}}]}, guide
    )
    assert with_attrs == shape_of(
        {"id": 1, "properties": {"v": "b"}, "lines": [{"sku": "x", "attrs": {"h": 2}}]}, guide
    )
    assert with_attrs != base
    # without the guide (no version yet), every key is structure
    assert shape_of({"properties": {"a": "x"}}) != shape_of({"properties": {"b": "x"}})


def test_only_pure_maps_are_collapsed() -> None:
    """A record with extras allowed, patternProperties or no map at all gives no guide."""
    assert shape_guide({"type": "object", "properties": {"a": {"type": "string"}}}) is None
    assert shape_guide({"type": "object", "additionalProperties": True}) is None
    assert (
        shape_guide(
            {"type": "object", "properties": {"a": {}}, "additionalProperties": {"type": "string"}}
        )
        is None
    )
    assert (
        shape_guide(
            {
                "type": "object",
                "patternProperties": {"^x": {}},
                "additionalProperties": {"type": "string"},
            }
        )
        is None
    )
    assert shape_guide({"$ref": "#/$defs/a", "$defs": {"a": {}}}) is None
    assert shape_guide(True) is None


@given(json_values, st.sampled_from([None, MAPPED, {"additionalProperties": {}}]))
def test_guided_shape_is_hashable_and_deterministic(value: Any, schema: Any) -> None:
    guide = shape_guide(schema) if schema is not None else None
    first = shape_of(value, guide)
    assert hash(first) == hash(shape_of(value, guide))
    assert first == shape_of(value, guide)
