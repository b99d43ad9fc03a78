"""Strict parsing: every hostile or non-JSON input is refused with a stable code."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemashift.core.jsonparse import ParseCode, ParseLimits, loads, loads_object
from schemashift.errors import PayloadError


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
        loads(raw)
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
