"""The lossless coercions: each one applies, can be switched off, and never loses information."""

from __future__ import annotations

from typing import Any

import pytest

from schemashift.core.transform import (
    NO_COERCIONS,
    Coercion,
    Conformed,
    Rejected,
    TransformOptions,
    compile_transformer,
)
from schemashift.core.transform.coercions import (
    epoch_to_datetime,
    float_to_integer,
    number_to_string,
    string_to_integer,
    string_to_number,
)

DATE_TIME = {"type": "string", "format": "date-time"}

CASES = [
    (Coercion.STRING_TO_INTEGER, {"type": "integer"}, "42", 42),
    (Coercion.STRING_TO_INTEGER, {"type": "integer"}, "-7", -7),
    (Coercion.STRING_TO_INTEGER, {"type": "integer"}, str(2**70), 2**70),
    (Coercion.STRING_TO_NUMBER, {"type": "number"}, "4.5", 4.5),
    (Coercion.STRING_TO_NUMBER, {"type": "number"}, "42", 42),
    (Coercion.STRING_TO_NUMBER, {"type": "number"}, "4.50", 4.5),
    (Coercion.STRING_TO_NUMBER, {"type": "number"}, "1e3", 1000.0),
    (Coercion.NUMBER_TO_STRING, {"type": "string"}, 42, "42"),
    (Coercion.NUMBER_TO_STRING, {"type": "string"}, 4.5, "4.5"),
    (Coercion.NUMBER_TO_STRING, {"type": "string"}, 2**70, str(2**70)),
    (Coercion.FLOAT_TO_INTEGER, {"type": "integer"}, 1.0, 1),
    (Coercion.STRING_TO_BOOLEAN, {"type": "boolean"}, "true", True),
    (Coercion.STRING_TO_BOOLEAN, {"type": "boolean"}, "false", False),
    (Coercion.EPOCH_TO_DATETIME, DATE_TIME, 1_700_000_000, "2023-11-14T22:13:20Z"),
    (Coercion.EPOCH_TO_DATETIME, DATE_TIME, 1_700_000_000_123, "2023-11-14T22:13:20.123Z"),
    (Coercion.EPOCH_TO_DATETIME, DATE_TIME, 0, "1970-01-01T00:00:00Z"),
]


def run(schema: dict[str, Any], value: Any, coercions: Any = None) -> Conformed | Rejected:
    options = TransformOptions(version_field=None)
    if coercions is not None:
        options = TransformOptions(version_field=None, coercions=coercions)
    transformer = compile_transformer(
        {"type": "object", "properties": {"v": schema}}, version=1, options=options
    )
    return transformer({"v": value})


@pytest.mark.parametrize(("coercion", "schema", "value", "expected"), CASES)
def test_coercion_applies(
    coercion: Coercion, schema: dict[str, Any], value: Any, expected: Any
) -> None:
    """Each listed coercion turns the value into the schema's type."""
    result = run(schema, value)
    assert isinstance(result, Conformed)
    assert result.payload["v"] == expected
    assert type(result.payload["v"]) is type(expected)


@pytest.mark.parametrize(("coercion", "schema", "value", "expected"), CASES)
def test_coercion_can_be_switched_off(
    coercion: Coercion, schema: dict[str, Any], value: Any, expected: Any
) -> None:
    """With its switch off, the same value is rejected (or, for 1.0, kept as a valid 1.0)."""
    result = run(schema, value, frozenset(Coercion) - {coercion})
    if coercion is Coercion.FLOAT_TO_INTEGER:
        # JSON Schema counts 1.0 as an integer: valid as it is, just not normalised
        assert result == Conformed({"v": 1.0}, 1)
        assert type(result.payload["v"]) is float
    else:
        assert isinstance(result, Rejected)
        assert result.code == "type_mismatch"
    assert (
        isinstance(run(schema, value, NO_COERCIONS), Rejected)
        or coercion is Coercion.FLOAT_TO_INTEGER
    )


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ({"type": "integer"}, "4.5"),
        ({"type": "integer"}, "042"),
        ({"type": "integer"}, " 42"),
        ({"type": "integer"}, "+42"),
        ({"type": "integer"}, "-0"),
        ({"type": "integer"}, "١٢"),  # Arabic-Indic digits are digits, but not JSON's
        ({"type": "integer"}, "4e2"),
        ({"type": "integer"}, 4.5),
        ({"type": "integer"}, True),
        ({"type": "number"}, "0.10000000000000000001"),  # a double cannot hold every digit
        ({"type": "number"}, "NaN"),
        ({"type": "number"}, "Infinity"),
        ({"type": "number"}, "1e999"),
        ({"type": "number"}, ""),
        ({"type": "boolean"}, "True"),
        ({"type": "boolean"}, "1"),
        ({"type": "boolean"}, 1),
        ({"type": "string"}, True),
        ({"type": "string"}, None),
        (DATE_TIME, 1.5),
        (DATE_TIME, 10**20),
        ({"type": "null"}, "null"),
    ],
)
def test_lossy_or_unlisted_coercions_are_refused(schema: dict[str, Any], value: Any) -> None:
    """Nothing that would lose or invent information is coerced; the payload is rejected."""
    result = run(schema, value)
    assert isinstance(result, Rejected), result
    assert result.code == "type_mismatch"


def test_big_integers_stay_exact() -> None:
    """2**70 passes through unchanged: no 64-bit squeeze, no float detour."""
    result = run({"type": "integer"}, 2**70 + 1)
    assert result == Conformed({"v": 2**70 + 1}, 1)
    transformer = compile_transformer(
        {"type": "object", "properties": {"v": {"type": "integer"}}}, version=1
    )
    out = transformer.transform_bytes(b'{"v":"1180591620717411303425"}')
    assert out == b'{"v":1180591620717411303425,"schemaVersion":1}'


def test_integral_floats_beyond_2_53_are_not_normalised() -> None:
    """2.0**60 is an integer to JSON Schema, but the double may already be rounded: kept as is."""
    result = run({"type": "integer"}, 2.0**60)
    assert result == Conformed({"v": 2.0**60}, 1)
    assert type(result.payload["v"]) is float


def test_coercion_result_must_still_meet_constraints() -> None:
    """ "-1" becomes -1, which minimum: 0 then rejects: coercion never bypasses validation."""
    result = run({"type": "integer", "minimum": 0}, "-1")
    assert isinstance(result, Rejected) and result.code == "out_of_range"


def test_helpers_round_trip_their_text() -> None:
    """Each helper's output converts back to its input (the definition of lossless here)."""
    for text in ["0", "-12", "98765432109876543210"]:
        value = string_to_integer(text)
        assert value is not None and str(value) == text
    for text in ["0.5", "123.25", "-7.125"]:
        number = string_to_number(text)
        assert number is not None and repr(number) == text
    assert number_to_string(0.1) == "0.1"
    assert float_to_integer(-3.0) == -3
    assert float_to_integer(3.5) is None
    assert epoch_to_datetime(-1) == "1969-12-31T23:59:59Z"
    assert epoch_to_datetime(10**18) is None
