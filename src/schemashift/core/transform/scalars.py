"""Rule functions for scalar keywords: string lengths and patterns, numeric bounds,
``multipleOf``, ``enum`` and ``const``. Each compiles one schema's keywords into a check
``(value, ctx) -> value | FAIL`` or ``None`` when the schema has none of them."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from schemashift.core.transform.context import FAIL, Ctx, freeze, is_finite, json_equal
from schemashift.core.transform.result import ReasonCode
from schemashift.errors import InvalidSchemaError

Check = Callable[[Any, Ctx], Any]


def compile_pattern(pattern: Any, where: str) -> re.Pattern[str]:
    if not isinstance(pattern, str):
        raise InvalidSchemaError(f"{where}: pattern must be a string")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise InvalidSchemaError(f"{where}: pattern {pattern!r} does not compile: {exc}") from None


def string_check(schema: dict[str, Any], where: str) -> Check | None:
    min_length = schema.get("minLength")
    max_length = schema.get("maxLength")
    pattern = schema.get("pattern")
    if min_length is None and max_length is None and pattern is None:
        return None
    regex = compile_pattern(pattern, where) if pattern is not None else None

    def check(value: str, ctx: Ctx) -> Any:
        # JSON Schema counts code points, which is what len() counts on a str
        if min_length is not None and len(value) < min_length:
            return ctx.fail(ReasonCode.TOO_SHORT, f"shorter than {min_length} characters")
        if max_length is not None and len(value) > max_length:
            return ctx.fail(ReasonCode.TOO_LONG, f"longer than {max_length} characters")
        if regex is not None and regex.search(value) is None:
            return ctx.fail(ReasonCode.PATTERN_MISMATCH, f"does not match {regex.pattern!r}")
        return value

    return check


def number_check(schema: dict[str, Any]) -> Check | None:
    bounds: list[tuple[Callable[[Any, Any], bool], Any, str]] = []
    for keyword, test, text in (
        ("minimum", operator.ge, "below the minimum"),
        ("maximum", operator.le, "above the maximum"),
        ("exclusiveMinimum", operator.gt, "not above the exclusive minimum"),
        ("exclusiveMaximum", operator.lt, "not below the exclusive maximum"),
    ):
        bound = schema.get(keyword)
        # draft 4 used booleans for the exclusive keywords; 2020-12 uses numbers
        if isinstance(bound, int | float) and not isinstance(bound, bool):
            bounds.append((test, bound, f"{text} {bound}"))
    multiple_of = schema.get("multipleOf")
    if not bounds and multiple_of is None:
        return None
    divisor = _exact(multiple_of) if multiple_of is not None else None

    def check(value: int | float, ctx: Ctx) -> Any:
        for test, bound, message in bounds:
            if not test(value, bound):
                return ctx.fail(ReasonCode.OUT_OF_RANGE, message)
        if divisor is not None and _exact(value) % divisor != 0:
            return ctx.fail(ReasonCode.NOT_MULTIPLE_OF, f"not a multiple of {multiple_of}")
        return value

    return check


def _exact(number: int | float) -> Fraction:
    # the exact value of the shortest text: 0.07 is a multiple of 0.01, as a reader expects;
    # fractions never run out of precision on 4,000-digit integers as decimals would
    if isinstance(number, float) and is_finite(number):
        return Fraction(repr(number))
    return Fraction(number)


def enum_check(schema: dict[str, Any]) -> Check | None:
    checks: list[Check] = []
    if "const" in schema:
        expected = schema["const"]

        def check_const(value: Any, ctx: Ctx) -> Any:
            if json_equal(value, expected):
                return value
            return ctx.fail(ReasonCode.CONST_MISMATCH, f"is not the constant {expected!r}")

        checks.append(check_const)
    if "enum" in schema:
        choices = schema["enum"]
        if not isinstance(choices, list):
            raise InvalidSchemaError("enum must be an array")
        keys = frozenset(freeze(choice) for choice in choices)
        shown = ", ".join(repr(c) for c in choices[:10]) + (", …" if len(choices) > 10 else "")

        def check_enum(value: Any, ctx: Ctx) -> Any:
            if freeze(value) in keys:
                return value
            return ctx.fail(ReasonCode.ENUM_MISMATCH, f"is not one of {shown}")

        checks.append(check_enum)
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]

    def check_all(value: Any, ctx: Ctx) -> Any:
        for check in checks:
            if check(value, ctx) is FAIL:
                return FAIL
        return value

    return check_all
