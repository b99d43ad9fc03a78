"""The lossless coercions, one small function each, and the table that picks among them.

Lossless means the coerced value converts back to the original text: ``"42"`` → 42 → ``"42"``.
So ``"042"``, ``" 42"`` and ``"4.5"`` are not integers, ``"0.10000000000000000001"`` is not a
number (a double would drop digits), and integers are never passed through a float.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from schemashift.core.transform.context import is_finite
from schemashift.core.transform.options import Coercion

_NUMBER_TEXT: Final = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
# Python refuses int() of longer digit strings; jsonparse refuses them in payloads too.
_MAX_DIGITS: Final = 4300
# A double holds every integer up to 2**53 exactly; beyond it, 1.0 -> 1 may hide rounding.
_MAX_EXACT_FLOAT_INT: Final = 2**53
# Epoch values below this are seconds (up to year 5138), at or above it milliseconds.
MILLISECONDS_FROM: Final = 100_000_000_000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def string_to_integer(text: str) -> int | None:
    # isdigit() alone would accept other scripts' digits; isascii() keeps it to 0-9
    digits = text[1:] if text[:1] == "-" else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > _MAX_DIGITS:
        return None
    if digits[0] == "0" and (len(digits) > 1 or len(text) > 1):
        return None  # "042" would come back as "42", "-0" as "0"
    return int(text)


def string_to_number(text: str) -> int | float | None:
    as_integer = string_to_integer(text)
    if as_integer is not None:
        return as_integer
    try:
        value = float(text)
    except ValueError:
        return None
    if not is_finite(value):
        return None
    if repr(value) == text:
        return value  # the common case: the text is the double's own shortest form
    # float() also reads " 4.5", "4_5" and "0x1p3"; only JSON's grammar is a number here
    if len(text) > _MAX_DIGITS or _NUMBER_TEXT.fullmatch(text) is None:
        return None
    try:
        # the double must keep every digit of the text, compared as exact decimals
        exact = Decimal(text) == Decimal(repr(value))
    except InvalidOperation:  # pragma: no cover - the grammar above admits only decimals
        return None
    return value if exact else None


def string_to_boolean(text: str) -> bool | None:
    if text == "true":
        return True
    if text == "false":
        return False
    return None


def number_to_string(value: int | float) -> str | None:
    if isinstance(value, float):
        # repr is the shortest text that reads back as the same double
        return repr(value) if is_finite(value) else None
    return str(value)


def float_to_integer(value: float) -> int | None:
    if value.is_integer() and abs(value) <= _MAX_EXACT_FLOAT_INT:
        return int(value)
    return None


def epoch_to_datetime(value: int) -> str | None:
    """Epoch seconds (or milliseconds, from 10**11 on) as an RFC 3339 UTC ``date-time``.

    Integer arithmetic only, so no rounding; milliseconds keep three fraction digits so the
    text converts back to the same number.
    """
    try:
        if abs(value) < MILLISECONDS_FROM:
            moment = _EPOCH + timedelta(seconds=value)
            spec = "seconds"
        else:
            moment = _EPOCH + timedelta(milliseconds=value)
            spec = "milliseconds"
    except OverflowError:
        return None
    # isoformat is C and pads the year to four digits; UTC is written "Z"
    return moment.isoformat(timespec=spec)[:-6] + "Z"


Coercer = Callable[[Any, str], "tuple[Any, str] | None"]


def make_coercer(
    allowed: frozenset[str], enabled: frozenset[Coercion], string_format: str | None
) -> Coercer | None:
    """A function ``(value, json_type) -> (coerced, new_type) | None`` for one schema.

    ``allowed`` are the schema's types; only coercions into an allowed type and switched on
    in ``enabled`` are tried, in a fixed order. ``None`` when nothing could ever apply.
    """
    steps: dict[str, list[Callable[[Any], tuple[Any, str] | None]]] = {
        "string": [],
        "integer": [],
        "number": [],
    }
    if "integer" in allowed and "number" not in allowed and Coercion.STRING_TO_INTEGER in enabled:
        steps["string"].append(_into("integer", string_to_integer))
    if "number" in allowed and Coercion.STRING_TO_NUMBER in enabled:
        steps["string"].append(_number_from_string)
    if "boolean" in allowed and Coercion.STRING_TO_BOOLEAN in enabled:
        steps["string"].append(_into("boolean", string_to_boolean))
    if "integer" in allowed and Coercion.FLOAT_TO_INTEGER in enabled:
        steps["number"].append(_into("integer", float_to_integer))
    if "string" in allowed:
        if string_format == "date-time":
            if Coercion.EPOCH_TO_DATETIME in enabled:
                steps["integer"].append(_into("string", epoch_to_datetime))
        elif Coercion.NUMBER_TO_STRING in enabled:
            steps["integer"].append(_into("string", number_to_string))
            steps["number"].append(_into("string", number_to_string))
    table = {kind: tuple(fns) for kind, fns in steps.items() if fns}
    if not table:
        return None

    def coerce(value: Any, kind: str) -> tuple[Any, str] | None:
        for step in table.get(kind, ()):
            result = step(value)
            if result is not None:
                return result
        return None

    return coerce


def _into(
    kind: str, convert: Callable[[Any], Any | None]
) -> Callable[[Any], tuple[Any, str] | None]:
    def step(value: Any) -> tuple[Any, str] | None:
        result = convert(value)
        return None if result is None else (result, kind)

    return step


def _number_from_string(value: str) -> tuple[Any, str] | None:
    result = string_to_number(value)
    if result is None:
        return None
    return result, ("integer" if isinstance(result, int) else "number")
