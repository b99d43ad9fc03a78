"""The schema codec and check_schema: draft normalisation, local-only $ref, termination,
meta-schema validation and refused patterns."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from schemashift.core.schema import (
    BoolSchema,
    SchemaNode,
    check_schema,
    parse_schema,
    unsafe_reason,
)
from schemashift.errors import InvalidSchemaError


@pytest.fixture()
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any attempt to open a connection fails the test (proves 'never causes I/O')."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


def root(schema: Any) -> SchemaNode:
    node = parse_schema(schema).root
    assert isinstance(node, SchemaNode)
    return node


def test_draft07_tuple_items_become_prefix_items() -> None:
    """Array-form items is prefixItems, additionalItems is items."""
    node = root({"type": "array", "items": [{"type": "integer"}], "additionalItems": False})
    assert len(node.prefix_items) == 1
    assert node.items == BoolSchema(False, "/additionalItems")


def test_draft04_exclusive_flags_become_bounds() -> None:
    """draft-04 boolean exclusiveMinimum turns minimum into an exclusive bound."""
    node = root(
        {
            "$schema": "http://json-schema.org/draft-04/schema#",
            "minimum": 3,
            "exclusiveMinimum": True,
        }
    )
    assert node.minimum is None and node.exclusive_minimum == 3


def test_dependencies_split() -> None:
    """draft-07 dependencies splits into dependentRequired and dependentSchemas."""
    node = root({"dependencies": {"a": ["b"], "c": {"required": ["d"]}}})
    assert node.dependent_required == (("a", frozenset({"b"})),)
    assert [name for name, _ in node.dependent_schemas] == ["c"]


def test_definitions_and_anchors_resolve() -> None:
    """#/definitions/… and a draft-07 '#Name' $id anchor both resolve locally."""
    doc = parse_schema(
        {
            "definitions": {"A": {"$id": "#A", "type": "string"}},
            "properties": {"x": {"$ref": "#/definitions/A"}, "y": {"$ref": "#A"}},
        }
    )
    assert isinstance(doc.root, SchemaNode)
    x, y = doc.root.declared("x"), doc.root.declared("y")
    assert isinstance(x, SchemaNode) and isinstance(y, SchemaNode)
    assert x.ref == y.ref == "/definitions/A"


@pytest.mark.parametrize(
    "ref",
    [
        "http://example.com/s.json",
        "https://example.com/s.json#/a",
        "file:///etc/passwd",
        "other.json",
        "//host/x",
    ],
)
def test_remote_refs_are_refused_without_io(ref: str, no_network: None) -> None:
    """Any $ref not starting with '#' raises InvalidSchemaError and opens no connection."""
    with pytest.raises(InvalidSchemaError, match="remote"):
        parse_schema({"properties": {"a": {"$ref": ref}}})
    with pytest.raises(InvalidSchemaError, match="remote"):
        check_schema({"$ref": ref})


def test_unresolvable_local_ref_is_refused() -> None:
    with pytest.raises(InvalidSchemaError, match="does not resolve"):
        parse_schema({"$ref": "#/$defs/missing"})


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "#"},
        {"allOf": [{"$ref": "#"}]},
        {
            "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"anyOf": [{"$ref": "#/$defs/a"}]}},
            "$ref": "#/$defs/a",
        },
    ],
)
def test_cycles_without_descent_are_refused(schema: Any) -> None:
    """A reference cycle that never descends into the instance cannot terminate: refused."""
    with pytest.raises(InvalidSchemaError, match="cycle"):
        parse_schema(schema)


def test_recursive_schema_through_properties_is_fine() -> None:
    """Recursion that descends (a linked list) parses."""
    doc = parse_schema({"type": "object", "properties": {"next": {"$ref": "#"}}})
    assert "" in doc.nodes


def test_long_ref_chain_terminates() -> None:
    """A chain of 5,000 references parses without recursion errors."""
    defs = {f"d{i}": {"$ref": f"#/$defs/d{i + 1}"} for i in range(5000)}
    defs["d5000"] = {"type": "integer"}
    doc = parse_schema({"$defs": defs, "$ref": "#/$defs/d0"})
    assert len(doc.nodes) > 5000


def test_deep_nesting_is_refused() -> None:
    schema: Any = {"type": "integer"}
    for _ in range(300):
        schema = {"items": schema}
    with pytest.raises(InvalidSchemaError, match="deeper"):
        parse_schema(schema)


def test_unknown_type_name_is_refused() -> None:
    with pytest.raises(InvalidSchemaError, match="JSON types"):
        parse_schema({"type": "strin"})


def test_unknown_dialect_is_refused() -> None:
    with pytest.raises(InvalidSchemaError, match="dialect"):
        parse_schema({"$schema": "https://example.com/my-meta"})


def test_check_schema_validates_against_the_meta_schema() -> None:
    """A keyword the codec does not read (title) but the meta-schema types is refused."""
    with pytest.raises(InvalidSchemaError, match="not a valid JSON Schema"):
        check_schema({"type": "object", "properties": {"a": {"title": 5}}})
    assert check_schema({"type": "object", "properties": {"a": {"type": "string"}}}) is not None


@pytest.mark.parametrize(
    "pattern",
    [
        "(a+)+$",
        "^(\\w+\\s?)*$",
        "(a|a)*",
        "(x*)*y",
        "((ab)+)+",
        "(a{1,30})+",
        "^(a|aa)+$",
        "(?:ab|ac)*",
        "(x|y?)+",
        "([a-c]|[c-d]){2,}",
        "(\\d|5)+",
        "(a|[^b])*",
    ],
)
def test_catastrophic_patterns_are_refused(pattern: str) -> None:
    """Nested quantifiers and repeated identical alternations are refused in pattern and
    patternProperties."""
    assert unsafe_reason(pattern) is not None
    with pytest.raises(InvalidSchemaError, match="refused"):
        check_schema({"type": "string", "pattern": pattern})
    with pytest.raises(InvalidSchemaError, match="refused"):
        check_schema({"type": "object", "patternProperties": {pattern: {}}})


@pytest.mark.parametrize(
    "pattern",
    [
        "^[a-z]+$",
        "^\\d{3}-\\d{4}$",
        "(ab)+",
        "^(foo|bar)$",
        "[(+*)]+",
        "a{2}",
        "(a|b)*",
        "([a-z]|[0-9])+",
        "(?:\\d|x)+",
        "^(\\+|-)?\\d+$",
        "(a|aa){2,3}",
    ],
)
def test_ordinary_patterns_pass(pattern: str) -> None:
    """Alternations whose branches start with different characters, and bounded repeats,
    are accepted (the filter is conservative but not blanket)."""
    assert unsafe_reason(pattern) is None
    check_schema({"type": "string", "pattern": pattern})


def test_patterns_are_checked_even_where_unreferenced() -> None:
    """A catastrophic pattern in an unused $defs entry is refused too; a property *named*
    'pattern' or an enum value is not mistaken for a regex."""
    with pytest.raises(InvalidSchemaError, match="refused"):
        check_schema({"$defs": {"unused": {"type": "string", "pattern": "(a+)+$"}}})
    check_schema({"properties": {"pattern": {"type": "string"}}, "enum": [{"pattern": "(a+)+$"}]})


def test_invalid_regex_is_refused() -> None:
    with pytest.raises(InvalidSchemaError):
        check_schema({"type": "string", "pattern": "(unclosed"})
