"""Bytes in, bytes out: the typed fast path agrees with the Python path and is as strict."""

from __future__ import annotations

import json
from typing import Any

import pytest

from schemashift.core.jsonparse import DuplicateKeys, ParseLimits
from schemashift.core.transform import Rejected, Transformer, TransformOptions, compile_transformer
from schemashift.core.transform.fastpath import FastPath, build_fast_path

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer", "minimum": 0},
        "name": {"type": "string", "maxLength": 20},
        "price": {"type": "number"},
        "when": {"type": "string", "format": "date-time"},
        "paid": {"type": "boolean", "default": False},
        "tags": {"type": "array", "items": {"type": "string"}},
        "attrs": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
        "status": {"enum": ["new", "done"]},
        "note": {"type": ["string", "null"]},
        "raw": {},
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "default": 1}},
                "required": ["sku"],
            },
        },
    },
    "required": ["id", "name"],
}

PAYLOADS = [
    b'{"id":1,"name":"a"}',
    b'{"name":"a","id":1}',
    b'{"id":1,"name":"a","price":5,"paid":true,"tags":["x"],"attrs":{"k":null},"status":"new"}',
    b'{"id":1,"name":"a","price":5.0,"lines":[{"sku":"s"},{"sku":"t","qty":3}]}',
    b'{"id":"7","name":"a","price":"2.5","when":1700000000,"lines":[{"sku":"s","qty":"2"}]}',
    b'{"id":1.0,"name":"a"}',
    b'{"id":"-1","name":"a"}',
    b'{"id":"0","name":5,"lines":[{"sku":"s","qty":"x"}]}',
    b'{"id":"1","name":"a","when":-5,"price":"1e400"}',
    b'{"id":1,"name":"a","raw":{"deep":[1,{"x":null}]}}',
    b'{"id":1,"name":"a","extra":{"kept":true}}',
    b'{"id":1,"name":"a","when":"12:00 \\u003a"}',
    b'{"id":1,"name":"a","note":"colon: inside"}',
    b'{"id":-1,"name":"a"}',
    b'{"id":1}',
    b'{"id":1,"name":"a","status":"gone"}',
    b'{ "id" : 1 , "name" : "a" }',
    b'{"id":1,"name":"a","id":2}',
    b'{"id":1,"name":"a","attrs":{"k":"v","k":"w"}}',
    b'{"id":1,"name":"a","note":"x","note":"x"}',
    b'{"id":1,"name":"a","price":NaN}',
    b'{"id":1,"name":"a","price":1e999}',
    b'{"id":12345678901234567890123,"name":"a"}',
    b'{"id":1,"name":"\\ud800"}',
    b'{"id":1,"name":"\xff"}',
    b"[1,2]",
    b'{"id":1,',
    b"",
]


@pytest.fixture(scope="module")
def fast() -> Any:
    transformer = compile_transformer(SCHEMA, version=4)
    assert transformer.has_fast_path
    return transformer


@pytest.fixture(scope="module")
def rejecting() -> Any:
    """The fast path with --json-duplicates reject: a repeated key is refused."""
    options = TransformOptions(limits=ParseLimits(duplicate_keys=DuplicateKeys.REJECT))
    transformer = compile_transformer(SCHEMA, version=4, options=options)
    assert transformer.has_fast_path
    return transformer


@pytest.fixture(scope="module")
def slow() -> Any:
    transformer = compile_transformer(
        SCHEMA, version=4, options=TransformOptions(typed_fast_path=False)
    )
    assert not transformer.has_fast_path
    return transformer


@pytest.mark.parametrize("raw", PAYLOADS)
def test_fast_path_gives_the_python_paths_answer(fast: Any, slow: Any, raw: bytes) -> None:
    """Same bytes out, or the same rejection codes, whichever path a payload takes."""
    got, expected = fast.transform_bytes(raw), slow.transform_bytes(raw)
    if isinstance(expected, Rejected):
        assert isinstance(got, Rejected)
        assert [r.code for r in got.reasons] == [r.code for r in expected.reasons]
    else:
        assert got == expected


REPEATED = [
    b'{"id":1,"name":"a","id":2}',
    b'{"id":1,"name":"a","attrs":{"k":"v","k":"w"}}',
    b'{"id":1,"name":"a","note":"x:y","note":"z"}',
    b'{"id":1,"name":"a","id":1,"note":"\\u003a"}',
]


@pytest.mark.parametrize("raw", REPEATED)
def test_repeated_keys_are_refused_under_reject(rejecting: Any, raw: bytes) -> None:
    """With reject limits the bytes path refuses a repeated key, as jsonparse does."""
    result = rejecting.transform_bytes(raw)
    assert isinstance(result, Rejected)
    assert result.code == "duplicate_key"


@pytest.mark.parametrize("raw", REPEATED)
def test_repeated_keys_keep_the_last_value_by_default(fast: Any, slow: Any, raw: bytes) -> None:
    """By default (last_wins) both paths conform the payload json.loads reads."""
    expected = slow.transform_bytes(json.dumps(json.loads(raw)).encode())
    assert isinstance(expected, bytes)
    assert fast.transform_bytes(raw) == slow.transform_bytes(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b'{"id":1,"name":"a","price":NaN}', "nan_or_infinity"),
        (b'{"id":1,"name":"a","price":1e999}', "number_out_of_range"),
        (b'{"id":1,"name":"\\ud800"}', "lone_surrogate"),
        (b'{"id":1,"name":"\xff"}', "invalid_utf8"),
        (b'{"id":1,"name":"a","id":' + b"1" * 5000 + b"}", "integer_too_long"),
        (b"[1,2]", "not_an_object"),
        (b'{"id":1,', "malformed_json"),
    ],
)
def test_parse_refusals_are_rejections_with_codes(fast: Any, raw: bytes, code: str) -> None:
    """jsonparse semantics on the bytes path: each refusal is a reason, never an exception."""
    result = fast.transform_bytes(raw)
    assert isinstance(result, Rejected)
    assert result.code == code
    assert result.reasons[0].path == ""


def typed(transformer: Transformer) -> FastPath:
    """The transformer's typed path, built now (it is built on demand)."""
    assert transformer.has_fast_path
    fast = transformer.fast_path()
    assert fast is not None
    return fast


def test_coercible_payloads_stay_on_the_typed_path(fast: Any) -> None:
    """Numeric strings, epoch times and missing defaults are mended by the lenient decoder."""
    raw = b'{"id":"7","name":"a","price":"2.5","when":1700000000,"lines":[{"sku":"s","qty":"2"}]}'
    out = typed(fast).transform(raw)
    assert out == (
        b'{"id":7,"name":"a","price":2.5,"when":"2023-11-14T22:13:20Z","paid":false,'
        b'"lines":[{"sku":"s","qty":2}],"schemaVersion":4}'
    )
    assert typed(fast).transform(b'{"id":"-1","name":"a"}') is None  # below minimum: Python path
    # a number sent for text takes the second lenient decoder, still typed
    assert typed(fast).transform(b'{"id":1,"name":5,"tags":[7]}') == (
        b'{"id":1,"name":"5","paid":false,"tags":["7"],"schemaVersion":4}'
    )


def test_a_duplicate_cannot_hide_behind_a_filled_default(rejecting: Any) -> None:
    """The walker counts the colons it adds, so a default filled in does not mask a duplicate."""
    result = rejecting.transform_bytes(b'{"id":1,"name":"a","id":1}')
    assert isinstance(result, Rejected) and result.code == "duplicate_key"


def test_limits_apply_on_the_fast_path() -> None:
    """Size, key-count and depth limits reject on the bytes path as they do in jsonparse."""
    limits = ParseLimits(max_bytes=60, max_keys=3, max_depth=3)
    transformer = compile_transformer(SCHEMA, version=1, options=TransformOptions(limits=limits))
    too_large = transformer.transform_bytes(b'{"id":1,"name":"' + b"a" * 60 + b'"}')
    assert isinstance(too_large, Rejected) and too_large.code == "too_large"
    many = transformer.transform_bytes(b'{"id":1,"name":"a","attrs":{"a":"1","b":"2"}}')
    assert isinstance(many, Rejected) and many.code == "too_many_keys"
    deep = transformer.transform_bytes(b'{"id":1,"name":"a","raw":[[[[1]]]]}')
    assert isinstance(deep, Rejected) and deep.code == "too_deep"


def test_metadata_is_appended_to_the_encoded_payload() -> None:
    """The version lands after the payload's own fields, also when the payload is empty."""
    empty = compile_transformer(
        {"type": "object", "properties": {"a": {"type": "integer"}}}, version=2
    )
    assert empty.has_fast_path
    assert empty.transform_bytes(b"{}") == b'{"schemaVersion":2}'
    assert empty.transform_bytes(b'{"a":1}') == b'{"a":1,"schemaVersion":2}'
    bare = compile_transformer(
        {"type": "object", "properties": {"a": {"type": "integer"}}},
        version=2,
        options=TransformOptions(version_field=None),
    )
    assert bare.transform_bytes(b'{"a":1}') == b'{"a":1}'


def test_schema_declaring_the_metadata_field_keeps_the_typed_path() -> None:
    """A schema learned from conformed events declares schemaVersion: it is rewritten, not kept."""
    schema = {
        "type": "object",
        "properties": {"schemaVersion": {"type": "integer"}, "a": {"type": "integer"}},
        "required": ["schemaVersion", "a"],
        "additionalProperties": False,
    }
    fast = compile_transformer(schema, version=5)
    slow = compile_transformer(schema, version=5, options=TransformOptions(typed_fast_path=False))
    assert fast.has_fast_path
    for raw in (
        b'{"schemaVersion":2,"a":1}',
        b'{"a":1}',
        b'{"a":1,"schemaVersion":"x:y"}',
        b'{"a":1,"schemaVersion":[[1]]}',
        b'{"a":1,"schemaVersion":2,"schemaVersion":3}',
    ):
        got, expected = fast.transform_bytes(raw), slow.transform_bytes(raw)
        assert got == expected or (
            isinstance(got, Rejected)
            and isinstance(expected, Rejected)
            and got.code == expected.code
        )
    assert fast.transform_bytes(b'{"schemaVersion":2,"a":1}') == b'{"a":1,"schemaVersion":5}'
    assert typed(fast).transform(b'{"schemaVersion":2,"a":1}') is not None


@pytest.mark.parametrize(
    ("schema", "typed"),
    [
        ({"type": "object", "properties": {"a": {"type": "string"}}}, True),
        ({"type": "object", "additionalProperties": {"type": "integer"}}, True),
        (
            {
                "type": "object",
                "properties": {"a": {"anyOf": [{"type": "null"}, {"type": "integer"}]}},
            },
            True,
        ),
        (
            {
                "type": "object",
                "properties": {"a": {"anyOf": [{"type": "object"}, {"type": "object"}]}},
            },
            False,
        ),
        ({"type": "object", "properties": {"a": {"type": "array", "uniqueItems": True}}}, False),
        ({"type": "object", "properties": {"a": {"$ref": "#"}}}, False),
        ({"type": "array"}, False),
        ({"type": "object", "properties": {"a": {"type": "number", "multipleOf": 2}}}, False),
    ],
)
def test_which_schemas_get_the_typed_path(schema: dict[str, Any], typed: bool) -> None:
    """Only what msgspec checks exactly as JSON Schema does is typed; the rest stays in Python."""
    assert (build_fast_path(schema, TransformOptions(), ()) is not None) is typed


def test_bytes_like_and_text_inputs_are_accepted(fast: Any) -> None:
    """bytearray, memoryview and str take the parsing path and give the same answer."""
    raw = b'{"id":1,"name":"a"}'
    expected = fast.transform_bytes(raw)
    for variant in (bytearray(raw), memoryview(raw), raw.decode()):
        assert fast.transform_bytes(variant) == expected
    surrogate = fast.transform_bytes('{"id":1,"name":"\ud800"}')  # a str with a lone surrogate
    assert isinstance(surrogate, Rejected) and surrogate.code == "lone_surrogate"


def test_transform_json_returns_values() -> None:
    """transform_json parses strictly and returns Conformed or Rejected."""
    transformer = compile_transformer(SCHEMA, version=1)
    assert transformer.transform_json('{"id":1,"name":"a"}').ok
    assert not transformer.transform_json(b'{"id":-1,"name":"a"}').ok
    # a repeated key keeps its last value by default, and is refused under reject
    assert transformer.transform_json(b'{"id":1,"id":2,"name":"a"}').payload["id"] == 2
    options = TransformOptions(limits=ParseLimits(duplicate_keys=DuplicateKeys.REJECT))
    rejecting = compile_transformer(SCHEMA, version=1, options=options)
    assert not rejecting.transform_json(b'{"id":1,"id":1,"name":"a"}').ok


def test_dependencies_and_tags_are_checked_on_the_typed_path() -> None:
    """dependentRequired and tagged-union branches beside properties hold on both paths."""
    schema = {
        "type": "object",
        "properties": {
            "action": {"enum": ["opened", "closed"]},
            "a": {"type": "integer"},
            "b": {"type": "integer"},
            "closed_at": {"type": "string"},
        },
        "required": ["action"],
        "dependentRequired": {"a": ["b"]},
        "oneOf": [
            {"properties": {"action": {"const": "opened"}}},
            {"properties": {"action": {"const": "closed"}}, "required": ["closed_at"]},
        ],
    }
    fast = compile_transformer(schema, version=1, options=TransformOptions(version_field=None))
    assert fast.has_fast_path
    assert (
        typed(fast).transform(b'{"action":"opened","a":1,"b":2}')
        == b'{"action":"opened","a":1,"b":2}'
    )
    assert typed(fast).transform(b'{"action":"closed","closed_at":"x"}') is not None
    for raw, code in [
        (b'{"action":"opened","a":1}', "dependency_missing"),
        (b'{"action":"closed"}', "no_branch_matches"),
    ]:
        assert typed(fast).transform(raw) is None
        result = fast.transform_bytes(raw)
        assert isinstance(result, Rejected) and result.code == code


def test_typed_path_fills_the_conformed_default() -> None:
    """An object default is filled as the Python path conforms it (extras dropped, nested
    defaults filled), so both paths write the same bytes."""
    schema = {
        "type": "object",
        "properties": {
            "a": {
                "type": "object",
                "properties": {"x": {"type": "integer", "default": 1}},
                "additionalProperties": False,
                "default": {"junk": 2},
            }
        },
    }
    fast = compile_transformer(schema, version=1)
    slow = compile_transformer(schema, version=1, options=TransformOptions(typed_fast_path=False))
    assert (
        typed(fast).transform(b"{}")
        == slow.transform_bytes(b"{}")
        == b'{"a":{"x":1},"schemaVersion":1}'
    )
