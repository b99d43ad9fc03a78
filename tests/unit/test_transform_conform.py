"""The Python path of the transformer: what it copies, fills, drops, rejects and adds."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from schemashift.core.transform import (
    Coercion,
    Conformed,
    ExtrasPolicy,
    MissingPolicy,
    ReasonCode,
    Rejected,
    TransformOptions,
    compile_transformer,
)
from schemashift.errors import InvalidSchemaError

NO_META = TransformOptions(version_field=None)


def conform(schema: dict[str, Any], payload: Any, **options: Any) -> dict[str, Any]:
    result = compile_transformer(
        schema, version=1, options=TransformOptions(version_field=None, **options)
    )(payload)
    assert isinstance(result, Conformed), result
    return result.payload


def reject(schema: dict[str, Any], payload: Any, **options: Any) -> list[tuple[str, str]]:
    result = compile_transformer(
        schema, version=1, options=TransformOptions(version_field=None, **options)
    )(payload)
    assert isinstance(result, Rejected), result
    return [(str(r.code), r.path) for r in result.reasons]


def obj(
    properties: dict[str, Any], required: list[str] | None = None, **more: Any
) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or [], **more}


def test_copies_nested_objects_arrays_and_maps() -> None:
    """Known fields are copied recursively through objects, arrays and map values."""
    schema = obj(
        {
            "user": obj(
                {"name": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}}
            ),
            "scores": {"type": "object", "additionalProperties": {"type": "integer"}},
        }
    )
    payload = {"user": {"name": "ada", "tags": ["a", "b"]}, "scores": {"x": 1, "y": 2}}
    out = conform(schema, payload)
    assert out == payload
    assert out["user"] is not payload["user"], "the output never aliases the input"


def test_input_is_never_modified() -> None:
    """Conforming builds new containers; coercions and defaults do not touch the input."""
    schema = obj({"n": {"type": "integer"}, "d": {"type": "string", "default": "x"}})
    payload = {"n": "5"}
    assert conform(schema, payload) == {"n": 5, "d": "x"}
    assert payload == {"n": "5"}


def test_output_follows_schema_order_then_extras() -> None:
    """Declared fields come in the schema's order, undeclared kept ones after, in input order."""
    schema = obj({"a": {"type": "integer"}, "b": {"type": "integer"}})
    out = conform(schema, {"z": 0, "b": 2, "y": 1, "a": 1})
    assert list(out) == ["a", "b", "z", "y"]


def test_tuples_follow_prefix_items() -> None:
    """prefixItems conforms each position; items: false rejects positions past the prefix."""
    schema = obj(
        {
            "point": {
                "type": "array",
                "prefixItems": [{"type": "number"}, {"type": "string"}],
                "items": False,
            }
        }
    )
    assert conform(schema, {"point": [1, "x"]}) == {"point": [1, "x"]}
    assert conform(schema, {"point": ["2", 3]}) == {"point": [2, "3"]}
    assert reject(schema, {"point": [1, "x", 3]}) == [("too_many_items", "/point/2")]


def test_union_prefers_the_branch_that_matches_exactly() -> None:
    """ "42" stays a string when the union allows strings; it becomes 42 only when it must."""
    either = obj({"v": {"anyOf": [{"type": "integer"}, {"type": "string"}]}})
    assert conform(either, {"v": "42"}) == {"v": "42"}
    assert conform(obj({"v": {"type": ["integer", "string"]}}), {"v": "42"}) == {"v": "42"}
    only_int = obj({"v": {"anyOf": [{"type": "integer"}, {"type": "boolean"}]}})
    assert conform(only_int, {"v": "42"}) == {"v": 42}


def test_tagged_union_picks_the_branch_the_value_is_valid_under() -> None:
    """With closed object branches, the branch that needs no dropping wins over the first one."""
    card = obj(
        {"kind": {"const": "card"}, "last4": {"type": "string"}},
        ["kind"],
        additionalProperties=False,
    )
    bank = obj(
        {"kind": {"const": "bank"}, "iban": {"type": "string"}},
        ["kind"],
        additionalProperties=False,
    )
    schema = obj({"method": {"oneOf": [card, bank]}})
    assert conform(schema, {"method": {"kind": "bank", "iban": "DE00"}}) == {
        "method": {"kind": "bank", "iban": "DE00"}
    }
    assert reject(schema, {"method": {"kind": "cash"}})[0][0] == "no_branch_matches"


def test_one_of_rejects_a_value_valid_under_two_branches() -> None:
    """oneOf output must be valid under exactly one branch."""
    schema = obj({"v": {"oneOf": [{"type": "integer"}, {"type": "number"}]}})
    assert reject(schema, {"v": 3}) == [("ambiguous_branches", "/v")]
    assert conform(schema, {"v": 3.5}) == {"v": 3.5}


def test_missing_fields_default_then_null_then_policy() -> None:
    """Absent fields: the default; else null when required and nullable; else omit or reject."""
    schema = obj(
        {
            "d": {"type": "string", "default": "dflt"},
            "n": {"type": ["string", "null"]},
            "o": {"type": "string"},
            "r": {"type": "integer"},
        },
        ["n", "r"],
    )
    assert reject(schema, {}) == [("required_missing", "/r")]
    assert conform(schema, {"r": 1}) == {"d": "dflt", "n": None, "r": 1}
    optional_null = obj({"n": {"type": ["string", "null"]}, "o": {"type": "string"}})
    assert conform(optional_null, {}) == {}
    assert conform(optional_null, {}, missing=MissingPolicy.FILL) == {"n": None}
    assert reject(optional_null, {}, missing=MissingPolicy.REJECT) == [("required_missing", "/o")]
    assert conform(schema, {"r": 1}, use_defaults=False) == {"n": None, "r": 1}


def test_container_defaults_are_fresh_copies() -> None:
    """Two outputs never share a default list."""
    transformer = compile_transformer(obj({"tags": {"type": "array", "default": []}}), version=1)
    first, second = transformer({}), transformer({})
    assert isinstance(first, Conformed) and isinstance(second, Conformed)
    first.payload["tags"].append("x")
    assert second.payload["tags"] == []


def test_invalid_default_is_refused_at_compile_time() -> None:
    """A default that its own schema rejects would emit invalid payloads: refused up front."""
    with pytest.raises(InvalidSchemaError, match="default"):
        compile_transformer(obj({"n": {"type": "integer", "default": "many"}}), version=1)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [(ExtrasPolicy.KEEP, {"a": 1, "x": 2}), (ExtrasPolicy.DROP, {"a": 1})],
)
def test_extras_of_open_schemas_follow_the_policy(
    policy: ExtrasPolicy, expected: dict[str, int]
) -> None:
    """Undeclared fields of an open schema are kept (default), dropped or rejected."""
    schema = obj({"a": {"type": "integer"}})
    assert conform(schema, {"a": 1, "x": 2}, extras=policy) == expected
    assert reject(schema, {"a": 1, "x": 2}, extras=ExtrasPolicy.REJECT) == [("extra_field", "/x")]


def test_extras_of_closed_schemas_are_dropped_by_default() -> None:
    """additionalProperties: false drops extras by default, or rejects them when asked."""
    schema = obj({"a": {"type": "integer"}}, additionalProperties=False)
    assert conform(schema, {"a": 1, "x": {"deep": 1}}) == {"a": 1}
    assert reject(schema, {"a": 1, "x": 2}, closed_extras=ExtrasPolicy.REJECT) == [
        ("extra_field", "/x")
    ]
    with pytest.raises(ValueError, match="KEEP"):
        TransformOptions(closed_extras=ExtrasPolicy.KEEP)


def test_options_accept_enum_values_as_strings() -> None:
    """ "drop" means ExtrasPolicy.DROP (the CLI and config files pass strings)."""
    options = TransformOptions(extras="drop", missing="fill", coercions=["string_to_integer"])  # type: ignore[arg-type]
    assert options.extras is ExtrasPolicy.DROP and options.missing is MissingPolicy.FILL
    assert options == TransformOptions(
        extras=ExtrasPolicy.DROP,
        missing=MissingPolicy.FILL,
        coercions=frozenset({Coercion.STRING_TO_INTEGER}),
    )
    assert conform(obj({"a": {"type": "integer"}}), {"a": 1, "x": 2}, extras="drop") == {"a": 1}


def test_required_but_forbidden_field_is_rejected() -> None:
    """required + additionalProperties: false without a declaration cannot be satisfied."""
    schema = obj({}, ["x"], additionalProperties=False)
    assert reject(schema, {"x": 1}) == [("false_schema", "/x")]


def test_pattern_properties_conform_matching_keys() -> None:
    """Keys matching a patternProperties regex are conformed to its schema, not treated as extras."""
    schema = obj({}, patternProperties={"^n_": {"type": "integer"}}, additionalProperties=False)
    assert conform(schema, {"n_a": "1", "other": 2}) == {"n_a": 1}


@pytest.mark.parametrize(
    ("schema", "value", "code"),
    [
        ({"type": "string", "minLength": 2}, "a", "too_short"),
        ({"type": "string", "maxLength": 2}, "abc", "too_long"),
        ({"type": "string", "pattern": "^[a-z]+$"}, "A1", "pattern_mismatch"),
        ({"type": "integer", "minimum": 0}, -1, "out_of_range"),
        ({"type": "integer", "maximum": 9}, 10, "out_of_range"),
        ({"type": "number", "exclusiveMinimum": 0}, 0, "out_of_range"),
        ({"type": "number", "exclusiveMaximum": 1}, 1.0, "out_of_range"),
        ({"type": "number", "multipleOf": 0.01}, 0.015, "not_multiple_of"),
        ({"enum": ["a", "b"]}, "c", "enum_mismatch"),
        ({"const": 1}, 2, "const_mismatch"),
        ({"type": "array", "minItems": 1}, [], "too_few_items"),
        ({"type": "array", "maxItems": 1}, [1, 2], "too_many_items"),
        ({"type": "array", "uniqueItems": True}, [1, 1.0], "items_not_unique"),
        ({"type": "array", "contains": {"type": "string"}}, [1], "contains_mismatch"),
        ({"type": "object", "minProperties": 1}, {}, "too_few_properties"),
        ({"type": "object", "maxProperties": 0}, {"a": 1}, "too_many_properties"),
        ({"type": "object", "dependentRequired": {"a": ["b"]}}, {"a": 1}, "dependency_missing"),
        ({"type": "object", "propertyNames": {"maxLength": 1}}, {"ab": 1}, "property_name_invalid"),
        ({"not": {"type": "string"}}, "s", "matches_forbidden_schema"),
        (False, 1, "false_schema"),
    ],
)
def test_constraints_are_enforced(schema: Any, value: Any, code: str) -> None:
    """Every keyword that limits values is compiled; a violation is a rejection with its code."""
    codes = reject(obj({"v": schema}), {"v": value})
    assert codes[0] == (code, "/v") or codes[0][0] == code


def test_multiple_of_uses_decimal_reading() -> None:
    """0.07 is a multiple of 0.01, as a person reads it (no binary rounding surprises)."""
    assert conform(obj({"v": {"type": "number", "multipleOf": 0.01}}), {"v": 0.07}) == {"v": 0.07}


def test_if_then_else_and_all_of() -> None:
    """if/then/else picks the schema to conform to; allOf conforms through every branch."""
    schema = obj(
        {
            "v": {
                "if": {"type": "string"},
                "then": {"maxLength": 3},
                "else": {"type": "integer"},
            },
            "w": {"allOf": [{"type": "integer"}, {"minimum": 5}]},
        }
    )
    assert conform(schema, {"v": "abc", "w": "7"}) == {"v": "abc", "w": 7}
    assert reject(schema, {"v": "abcd"}) == [("too_long", "/v")]
    assert reject(schema, {"w": 4}) == [("out_of_range", "/w")]


IF_DECIDED_ON_OUTPUT = [
    # the branch the input selects fills a default that flips "if": the other branch fits
    (
        {
            "type": "object",
            "if": {"required": ["a"]},
            "then": {"properties": {"a": {"type": "integer"}}},
            "else": {"properties": {"a": {"type": "string", "default": "x"}}},
        },
        {},
        {},
    ),
    # "5" is a string, so "then" coerces it to 5, which is no string: no branch can hold
    (
        {"if": {"type": "string"}, "then": {"type": "integer"}, "else": {"type": "string"}},
        "5",
        None,
    ),
    # "then" fills a default that "not" (checked before it) forbids
    (
        {
            "type": "object",
            "not": {"required": ["a"]},
            "if": {"type": "object"},
            "then": {"properties": {"a": {"type": "integer", "default": 1}}},
        },
        {},
        None,
    ),
    # the same through a recursive $ref beside if/then: the default would break the $ref
    (
        {
            "$ref": "#/$defs/leaf",
            "if": {"type": "object"},
            "then": {"properties": {"a": {"default": 1}}},
        },
        {},
        None,
    ),
]


@pytest.mark.parametrize(("inner", "value", "expected"), IF_DECIDED_ON_OUTPUT)
def test_if_is_decided_on_the_output_and_keywords_hold_together(
    inner: dict[str, Any], value: Any, expected: Any
) -> None:
    """A conformed output is valid under every keyword of its schema (the ``jsonschema``
    library agrees), even when conforming changes what ``if`` or ``not`` says; when no
    branch can hold, the value is rejected rather than emitted invalid."""
    leaf = {"type": "object", "properties": {"a": {"const": 2}}}
    schema = obj({"v": inner}, **{"$defs": {"leaf": leaf}})
    result = compile_transformer(schema, version=1, options=NO_META)({"v": value})
    if expected is None:
        assert isinstance(result, Rejected), result
        assert [str(r.code) for r in result.reasons] == ["condition_failed"]
    else:
        assert isinstance(result, Conformed), result
        assert result.payload == {"v": expected}
        jsonschema.Draft202012Validator(schema).validate(result.payload)


def test_local_refs_and_recursion() -> None:
    """Local $ref (including recursive ones) is followed; remote $ref is refused."""
    tree = {
        "$defs": {
            "node": obj(
                {
                    "value": {"type": "integer"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                }
            )
        },
        "$ref": "#/$defs/node",
    }
    payload = {"value": "1", "children": [{"value": 2, "children": [{"value": "3"}]}]}
    assert conform(tree, payload) == {
        "value": 1,
        "children": [{"value": 2, "children": [{"value": 3}]}],
    }
    assert reject(tree, {"children": [{"value": "x"}]}) == [("type_mismatch", "/children/0/value")]
    with pytest.raises(InvalidSchemaError, match="remote"):
        compile_transformer({"$ref": "https://example.com/s.json"}, version=1)
    with pytest.raises(InvalidSchemaError, match="points at nothing"):
        compile_transformer({"$ref": "#/$defs/missing"}, version=1)


def test_reasons_collect_every_failure_with_pointer_paths() -> None:
    """All failing fields are reported, with RFC 6901 escaping of / and ~ in keys."""
    schema = obj({"a/b": {"type": "integer"}, "m~n": obj({"x": {"type": "integer"}}, ["x"])})
    assert reject(schema, {"a/b": "x", "m~n": {}}) == [
        ("type_mismatch", "/a~1b"),
        ("required_missing", "/m~0n/x"),
    ]


def test_bad_data_never_raises() -> None:
    """Non-objects, non-JSON Python values and NaN are rejections, not exceptions."""
    transformer = compile_transformer(obj({"v": {}}), version=1)
    for payload in (None, [], "x", {"v": {1, 2}}, {"v": float("nan")}, {1: "x"}):
        result = transformer(payload)
        assert isinstance(result, Rejected), payload
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(5000):
        node["v"] = {}
        node = node["v"]
    recursive = compile_transformer(
        {"$ref": "#/$defs/n", "$defs": {"n": obj({"v": {"$ref": "#/$defs/n"}})}}, version=1
    )
    assert isinstance(recursive(deep), Rejected)


def test_metadata_fields_are_written_and_configurable() -> None:
    """schemaVersion by default; schema id and subject on request; metadata in the input is replaced."""
    schema = obj({"a": {"type": "integer"}}, additionalProperties=False)
    default = compile_transformer(schema, version=3, subject="s", schema_id=9)
    assert default({"a": 1, "schemaVersion": 1}) == Conformed({"a": 1, "schemaVersion": 3}, 3)
    named = compile_transformer(
        schema,
        version=3,
        subject="shop/orders",
        schema_id=9,
        options=TransformOptions(
            version_field="v", schema_id_field="schemaId", subject_field="schemaSubject"
        ),
    )
    result = named({"a": 1})
    assert isinstance(result, Conformed)
    assert result.payload == {"a": 1, "v": 3, "schemaId": 9, "schemaSubject": "shop/orders"}
    off = compile_transformer(schema, version=3, options=NO_META)
    assert off({"a": 1}) == Conformed({"a": 1}, 3)


def test_declared_metadata_field_must_accept_the_version() -> None:
    """A schema declaring schemaVersion as a string cannot receive the integer version."""
    with pytest.raises(InvalidSchemaError, match="schemaVersion"):
        compile_transformer(obj({"schemaVersion": {"type": "string"}}), version=1)
    fits = compile_transformer(
        obj({"schemaVersion": {"type": "integer"}}, ["schemaVersion"]), version=2
    )
    assert fits({}) == Conformed({"schemaVersion": 2}, 2)


def test_rejected_needs_a_reason() -> None:
    """A rejection without reasons cannot be built, so every dead letter says why."""
    with pytest.raises(ValueError, match="reason"):
        Rejected((), 1)
    assert ReasonCode.TYPE_MISMATCH == "type_mismatch"


def test_branch_beside_properties_only_constrains() -> None:
    """A tagged-union branch fills nothing and may not undo the object's own rules."""
    tagged = obj(
        {"action": {"enum": ["opened", "closed"]}, "closed_at": {"type": "string"}},
        ["action"],
        oneOf=[
            {"properties": {"action": {"const": "opened"}}},
            {"properties": {"action": {"const": "closed"}}, "required": ["closed_at"]},
        ],
    )
    assert reject(tagged, {"action": "closed"}) == [("no_branch_matches", "")]
    assert conform(tagged, {"action": "closed", "closed_at": "x"}) == {
        "action": "closed",
        "closed_at": "x",
    }
    conflicting = obj({"n": {"type": "string"}}, anyOf=[{"properties": {"n": {"type": "integer"}}}])
    assert reject(conflicting, {"n": "42"}) == [("condition_failed", "")]
