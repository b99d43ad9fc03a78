"""Strict parsing: every hostile or non-JSON input is refused with a stable code; a repeated
key is refused or keeps its last value (and is reported), as the limits say."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemashift.core import jsonparse
from schemashift.core.jsonparse import (
    DEFAULT_LIMITS,
    MAX_REPORTED_DUPLICATES,
    DuplicateKeys,
    ParseCode,
    ParseLimits,
    loads,
    loads_object,
    loads_object_with_duplicates,
    loads_with_duplicates,
    split_array,
)
from schemashift.errors import PayloadError

REJECT = dataclasses.replace(DEFAULT_LIMITS, duplicate_keys=DuplicateKeys.REJECT)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"NaN", ParseCode.NAN_OR_INFINITY),
        (b'{"a": Infinity}', ParseCode.NAN_OR_INFINITY),
        (b'{"a": -Infinity}', ParseCode.NAN_OR_INFINITY),
        (b'{"a": 1e999}', ParseCode.NUMBER_OUT_OF_RANGE),
        (b'{"a": "\\ud800"}', ParseCode.LONE_SURROGATE),
        (b'{"a": "\\udc00x"}', ParseCode.LONE_SURROGATE),
        (b'{"a": "\xff"}', ParseCode.INVALID_UTF8),
        (b'{"a": 1, "a": 2}', ParseCode.DUPLICATE_KEY),
        (b'{"a" : 1, "a": 2, "b": 3}', ParseCode.DUPLICATE_KEY),
        (b'{"x": {"k": "\\":", "k": 1}}', ParseCode.DUPLICATE_KEY),
        (b"1" * 4301, ParseCode.INTEGER_TOO_LONG),
        (b"[" * 100_000, ParseCode.TOO_DEEP),
        (b'{"a":' * 100_000, ParseCode.TOO_DEEP),
        (b"[" * 70 + b"]" * 70, ParseCode.TOO_DEEP),
        (b'{"a": 1,}', ParseCode.MALFORMED),
        (b"", ParseCode.MALFORMED),
        (b'{"a": 1} trailing', ParseCode.MALFORMED),
    ],
)
def test_refusals_carry_a_code(raw: bytes, code: ParseCode) -> None:
    with pytest.raises(PayloadError) as info:
        loads(raw, REJECT)
    assert info.value.code == code


def test_big_integers_stay_exact() -> None:
    """Integers beyond 64 bits are never rounded through a double."""
    assert loads(b'{"id": 123456789012345678901234567890}') == {
        "id": 123456789012345678901234567890
    }
    assert loads(b"-80888888888888888888") == -80888888888888888888
    assert loads(b"9223372036854775808") == 2**63
    assert loads(b"1" * 4300) == int("1" * 4300)


def test_size_and_key_limits() -> None:
    with pytest.raises(PayloadError) as info:
        loads(b'{"a": "' + b"x" * 100 + b'"}', ParseLimits(max_bytes=50))
    assert info.value.code == ParseCode.TOO_LARGE
    many = json.dumps({f"k{i}": i for i in range(20)})
    with pytest.raises(PayloadError) as info:
        loads(many, ParseLimits(max_keys=10))
    assert info.value.code == ParseCode.TOO_MANY_KEYS


def test_object_required_for_events() -> None:
    with pytest.raises(PayloadError) as info:
        loads_object(b"[1, 2]")
    assert info.value.code == ParseCode.NOT_AN_OBJECT


def test_pretty_printed_and_colon_strings_are_accepted() -> None:
    """The duplicate check's slow path accepts legitimate input."""
    doc = {"time": "12:00:00", "quote": 'he said "x":', "nested": {"a": [1, {"b": 2}]}}
    assert loads(json.dumps(doc, indent=2)) == doc
    assert loads(json.dumps(doc)) == doc
    assert loads(json.dumps(doc, separators=(",", ":"))) == doc


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


@given(json_values)
def test_round_trips_what_the_standard_library_writes(value: object) -> None:
    """Anything json.dumps writes (no NaN, no duplicates) decodes to the same value."""
    assert loads(json.dumps(value)) == value
    assert loads(json.dumps(value, indent=1, ensure_ascii=False)) == value


# -- duplicate keys -----------------------------------------------------------------------

REPEATED = [
    (b'{"a": 1, "a": 2}', ("/a",)),
    (b'{"a" : 1, "a": 2, "b": 3}', ("/a",)),
    (b'{"x": {"k": "\\":", "k": 1}}', ("/x/k",)),
    (b'{"a":1,"b":{"c":[{"d":1,"d":{"e":2}}]},"a":{"f":3}}', ("/a", "/b/c/0/d")),
    (b'[{"a/b":1,"a/b":2},{"m~n":1,"m~n":2}]', ("/0/a~1b", "/1/m~0n")),
    (b'{"x":1,"x":2,"x":3,"y":[],"y":{}}', ("/x", "/y")),
    (b'{\n  "git_ssh_url": "a",\n  "git_ssh_url": "b"\n}', ("/git_ssh_url",)),
]


@pytest.mark.parametrize(("raw", "pointers"), REPEATED)
def test_last_wins_keeps_what_json_loads_keeps(raw: bytes, pointers: tuple[str, ...]) -> None:
    """Under last_wins a repeated key keeps its last value, at any depth, exactly as the
    standard library (and JSON.parse) decode it; the keys are reported as JSON Pointers."""
    value, found = loads_with_duplicates(raw)
    assert value == json.loads(raw)
    assert found == pointers
    assert loads(raw) == json.loads(raw)


def test_msgspec_itself_keeps_the_last_value() -> None:
    """The fast path trusts msgspec's decoder to keep the last value of a repeated key (no
    second decode when there is nothing to report): pinned here, nested and typed alike."""
    raw = b'{"a":1,"n":{"k":"x","k":{"deep":[1]}},"a":[2]}'
    assert msgspec.json.decode(raw) == json.loads(raw) == {"a": [2], "n": {"k": {"deep": [1]}}}

    class Typed(msgspec.Struct):
        a: list[int]
        n: dict[str, Any]

    # a typed decoder also checks the value it then drops (a refusal sends the transformer
    # to its Python path); values of the right type: the last one is kept
    typed = b'{"a":[1],"n":{"k":"x","k":{"deep":[1]}},"a":[2]}'
    assert msgspec.json.decode(typed, type=Typed) == Typed([2], {"k": {"deep": [1]}})


def test_reject_refuses_what_last_wins_reports() -> None:
    """The same documents are refused with duplicate_key under reject, which ParseLimits()
    (request bodies, schemas) still means; the default event limits keep the last value."""
    assert ParseLimits().duplicate_keys is DuplicateKeys.REJECT
    assert DEFAULT_LIMITS.duplicate_keys is DuplicateKeys.LAST_WINS
    for raw, _ in REPEATED:
        with pytest.raises(PayloadError) as info:
            loads_with_duplicates(raw, ParseLimits())
        assert info.value.code == ParseCode.DUPLICATE_KEY


def test_the_boolean_spelling_still_works() -> None:
    """reject_duplicate_keys (the older field) is accepted and readable."""
    assert ParseLimits(reject_duplicate_keys=False).duplicate_keys is DuplicateKeys.LAST_WINS
    assert ParseLimits(reject_duplicate_keys=True) == ParseLimits()
    assert DEFAULT_LIMITS.reject_duplicate_keys is False and REJECT.reject_duplicate_keys
    assert ParseLimits(duplicate_keys="last_wins") == ParseLimits(reject_duplicate_keys=False)
    relaxed = dataclasses.replace(ParseLimits(), reject_duplicate_keys=False)
    assert relaxed.duplicate_keys is DuplicateKeys.LAST_WINS


def test_the_report_is_bounded() -> None:
    """A document repeating hundreds of keys reports the first few, in document order."""
    raw = b"{" + b",".join(b'"k%d":1,"k%d":2' % (i, i) for i in range(200)) + b"}"
    value, found = loads_object_with_duplicates(raw)
    assert value == json.loads(raw)
    assert found == tuple(f"/k{i}" for i in range(MAX_REPORTED_DUPLICATES))


def test_no_duplicates_reports_nothing_without_the_exact_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Clean input (compact or with colons inside strings) is cleared by byte counts: the
    standard library's exact check never runs, whichever the policy."""

    def exact(data: bytes) -> Any:
        raise AssertionError("the exact duplicate check ran on clean input")

    monkeypatch.setattr(jsonparse, "_find_duplicates", exact)
    monkeypatch.setattr(jsonparse, "_check_duplicates_exactly", exact)
    doc = {"time": "12:00:00", "nested": {"a": [1, {"b": 2}]}, "t": ["x:y"]}
    raw = json.dumps(doc, separators=(",", ":")).encode()
    assert loads_with_duplicates(raw) == (doc, ())
    assert loads_with_duplicates(raw, REJECT) == (doc, ())
    assert loads(raw) == doc
    # and a real duplicate does go down the exact path
    with pytest.raises(AssertionError):
        loads_with_duplicates(b'{"a":1,"a":2}')


def test_plain_loads_does_not_look_for_duplicates_it_would_not_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """loads() under last_wins keeps msgspec's value: no re-encoding, no exact check."""

    def exact(data: bytes) -> Any:
        raise AssertionError("looked for duplicates nobody reads")

    monkeypatch.setattr(jsonparse, "_find_duplicates", exact)
    assert loads(b'{"a" :1, "a" :2}') == {"a": 2}


@given(json_values, st.sampled_from(["", " ", "\n"]))
def test_repeating_a_key_always_gives_json_loads_value(value: object, space: str) -> None:
    """Whatever the document, appending a repeat of a top-level key gives json.loads's value
    and reports that key; without the repeat nothing is reported."""
    doc = {"first": value, "second": [value]}
    text = json.dumps(doc, separators=("," + space, ":" + space))
    assert loads_with_duplicates(text) == (doc, ())
    repeated = text[:-1] + ',"first":' + json.dumps(value) + "}"
    got, found = loads_with_duplicates(repeated)
    assert got == json.loads(repeated)
    assert found[0] == "/first"


# -- splitting an array ---------------------------------------------------------------------


def test_split_array_finds_each_element() -> None:
    """Strings (with escapes, brackets and commas inside) are skipped whole; scalars,
    objects and arrays are each one element; whitespace is not part of an element."""
    body = b' [ 1, "a,]\\"[" , {"a":[1,{"}":2}]}, [ ], null,NaN,{"x":1,"x":2}] '
    spans = split_array(body)
    assert spans is not None
    assert [body[a:b] for a, b in spans] == [
        b"1",
        b'"a,]\\"["',
        b'{"a":[1,{"}":2}]}',
        b"[ ]",
        b"null",
        b"NaN",
        b'{"x":1,"x":2}',
    ]
    assert split_array(b"[]") == [] and split_array(b" [ ] ") == []


@pytest.mark.parametrize(
    "body",
    [
        b'{"a":1}',
        b"1",
        b"",
        b"[",
        b"[1,,2]",
        b"[1,]",
        b"[,1]",
        b"[1 {}]",
        b'[{"a":1} {"b":2}]',
        b'[{"a":1}x]',
        b"[{]",
        b'[{"a":1]]',
        b'["abc]',
        b"[1]]",
        b"[][]",
        b'[{"a":' * 600 + b"1" + b"}" * 600 + b"]",
    ],
)
def test_split_array_refuses_what_cannot_be_cut(body: bytes) -> None:
    """Not an array, unbalanced or mismatched brackets, an unterminated string, garbage
    between elements, empty elements, hostile nesting: None."""
    assert split_array(body) is None


@given(st.lists(json_values, max_size=8), st.sampled_from(["", " ", "\n\t"]))
def test_split_array_agrees_with_the_decoder(items: list[object], space: str) -> None:
    """Each span decodes to the element the whole array decodes to at its index."""
    body = json.dumps(items, indent=1 if space else None, ensure_ascii=False).encode()
    spans = split_array(body)
    assert spans is not None
    assert [json.loads(body[a:b]) for a, b in spans] == items
