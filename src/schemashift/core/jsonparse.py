"""Strict JSON decoding for event payloads and API bodies.

Stricter than the JSON RFC allows parsers to be, because a registry that silently accepts
``NaN`` or a duplicated key learns a schema no other consumer can read:

* integers are exact at any size up to Python's 4,300-digit limit (msgspec decodes them
  exactly; orjson would turn them into floats), longer ones are refused;
* ``NaN``, ``Infinity``, numbers that overflow a double (``1e999``), lone surrogates,
  invalid UTF-8 and duplicate keys are refused;
* size, nesting depth and the total number of keys are bounded.

Every refusal is a :class:`~schemashift.errors.PayloadError` with a stable ``code``
(the :class:`ParseCode` values), so callers can dead-letter with a machine-readable reason.

Duplicate keys cost nothing on the common path: every decoded key came from a ``"key":``
token, so when the decoded key count equals the number of ``":`` byte pairs in the input
(and no key is separated from its colon by whitespace) no key can have been dropped. Only
when the counts differ (a ``\\":`` inside a string, pretty-printed input) do we re-check
exactly with the standard library's pair hook.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import msgspec

from schemashift.errors import PayloadError


class ParseCode(StrEnum):
    MALFORMED = "malformed_json"
    INVALID_UTF8 = "invalid_utf8"
    LONE_SURROGATE = "lone_surrogate"
    NAN_OR_INFINITY = "nan_or_infinity"
    NUMBER_OUT_OF_RANGE = "number_out_of_range"
    INTEGER_TOO_LONG = "integer_too_long"
    DUPLICATE_KEY = "duplicate_key"
    TOO_DEEP = "too_deep"
    TOO_LARGE = "too_large"
    TOO_MANY_KEYS = "too_many_keys"
    NOT_AN_OBJECT = "not_an_object"


@dataclass(frozen=True, slots=True)
class ParseLimits:
    """Bounds applied to every payload. ``None`` switches a bound off."""

    max_bytes: int | None = 1_048_576
    max_depth: int | None = 64
    max_keys: int | None = 10_000
    reject_duplicate_keys: bool = True


DEFAULT_LIMITS = ParseLimits()

_DECODER = msgspec.json.Decoder()
_ENCODE = msgspec.json.encode
_KEY_THEN_SPACE = re.compile(rb'"[ \t\r\n]+:')
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_NAN_TOKEN = re.compile(rb"(?<![\"\w])-?(NaN|Infinity)\b")


def loads(raw: bytes | bytearray | memoryview | str, limits: ParseLimits = DEFAULT_LIMITS) -> Any:
    """Decode one JSON document strictly; raise :class:`PayloadError` with a code on refusal."""
    data = _as_bytes(raw)
    if limits.max_bytes is not None and len(data) > limits.max_bytes:
        raise PayloadError(
            ParseCode.TOO_LARGE,
            f"payload of {len(data)} bytes exceeds the limit of {limits.max_bytes}",
        )
    value = _decode(data)
    if isinstance(value, dict | list) and not _cleared_by_byte_counts(data, value, limits):
        _check_by_walking(data, value, limits)
    return value


def _check_by_walking(data: bytes, value: dict[str, Any] | list[Any], limits: ParseLimits) -> None:
    """The exact depth, key-count and duplicate checks, for what byte counts cannot clear."""
    depth, keys = measure(value, limits.max_depth)
    if limits.max_depth is not None and depth > limits.max_depth:
        raise PayloadError(ParseCode.TOO_DEEP, f"nesting deeper than {limits.max_depth} levels")
    if limits.max_keys is not None and keys > limits.max_keys:
        raise PayloadError(
            ParseCode.TOO_MANY_KEYS, f"{keys} object keys exceed the limit of {limits.max_keys}"
        )
    if limits.reject_duplicate_keys and keys and _may_have_duplicates(data, keys):
        _check_duplicates_exactly(data)


def loads_object(
    raw: bytes | bytearray | memoryview | str, limits: ParseLimits = DEFAULT_LIMITS
) -> dict[str, Any]:
    """Like :func:`loads`, but the document must be a JSON object (an event payload)."""
    value = loads(raw, limits)
    if not isinstance(value, dict):
        raise PayloadError(
            ParseCode.NOT_AN_OBJECT, f"expected a JSON object, got {json_type_name(value)}"
        )
    return value


def json_type_name(value: Any) -> str:
    """The JSON type of a decoded value, as JSON Schema names it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def measure(value: dict[str, Any] | list[Any], stop_depth: int | None = None) -> tuple[int, int]:
    """(maximum nesting depth, total object keys) without recursion.

    Stops descending once ``stop_depth`` is exceeded, so hostile nesting costs O(limit).
    """
    max_depth = 0
    keys = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    pop = stack.pop
    push = stack.append
    while stack:
        node, depth = pop()
        if depth > max_depth:
            max_depth = depth
            if stop_depth is not None and depth > stop_depth:
                break
        if isinstance(node, dict):
            keys += len(node)
            for child in node.values():
                if isinstance(child, dict | list):
                    push((child, depth + 1))
        else:
            for child in node:
                if isinstance(child, dict | list):
                    push((child, depth + 1))
    return max_depth, keys


def _as_bytes(raw: bytes | bytearray | memoryview | str) -> bytes:
    if isinstance(raw, str):
        try:
            return raw.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise PayloadError(
                ParseCode.LONE_SURROGATE, f"text contains a lone surrogate: {exc}"
            ) from None
    return bytes(raw)


def _decode(data: bytes) -> Any:
    try:
        return _DECODER.decode(data)
    except RecursionError:
        raise PayloadError(ParseCode.TOO_DEEP, "nesting too deep to decode") from None
    except UnicodeDecodeError as exc:
        raise PayloadError(
            ParseCode.INVALID_UTF8, f"invalid UTF-8: {exc.reason} at byte {exc.start}"
        ) from None
    except msgspec.ValidationError as exc:
        text = str(exc)
        if "Integer" in text:
            raise PayloadError(
                ParseCode.INTEGER_TOO_LONG, "integer longer than 4,300 digits"
            ) from None
        raise PayloadError(
            ParseCode.NUMBER_OUT_OF_RANGE, "number does not fit a double (for example 1e999)"
        ) from None
    except msgspec.DecodeError as exc:
        raise _explain_decode_error(data, str(exc)) from None


def _explain_decode_error(data: bytes, text: str) -> PayloadError:
    if "surrogate" in text or (_SURROGATE_ESCAPE.search(data) and "truncated" in text):
        return PayloadError(
            ParseCode.LONE_SURROGATE, "string contains a lone UTF-16 surrogate escape"
        )
    if "invalid character" in text and _NAN_TOKEN.search(data):
        return PayloadError(ParseCode.NAN_OR_INFINITY, "NaN and Infinity are not JSON numbers")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return PayloadError(
            ParseCode.INVALID_UTF8, f"invalid UTF-8: {exc.reason} at byte {exc.start}"
        )
    return PayloadError(
        ParseCode.MALFORMED, text.replace("JSON is malformed: ", "malformed JSON: ")
    )


def _cleared_by_byte_counts(data: bytes, value: Any, limits: ParseLimits) -> bool:
    """Decide the common case from byte counts, without walking the decoded tree.

    Each key has one colon token, so the colon count bounds the key count; a value nests no
    deeper than the number of ``{`` and ``[`` bytes; and re-encoding keeps one value per key
    and copies strings, so the same colon count before and after (with no ``\u003a``
    escape) means no duplicate was dropped. False sends the payload down the exact path.
    """
    colons = data.count(b":")
    if limits.max_keys is not None and colons > limits.max_keys:
        return False
    if limits.max_depth is not None and data.count(b"{") + data.count(b"[") > limits.max_depth:
        return False
    if not limits.reject_duplicate_keys:
        return True
    if data.find(b"\\") != -1 and (b"\\u003a" in data or b"\\u003A" in data):
        return False
    return bool(_ENCODE(value).count(b":") == colons)


def _may_have_duplicates(data: bytes, decoded_keys: int) -> bool:
    # Every key token is `"…":` unless whitespace sits between the key and its colon.
    # Then key tokens <= count('":'), and equality with the decoded count rules duplicates out.
    return decoded_keys != data.count(b'":') or _KEY_THEN_SPACE.search(data) is not None


def _reject_duplicate_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise PayloadError(ParseCode.DUPLICATE_KEY, f"duplicate key {key!r} in one object")
        result[key] = value
    return result


def _check_duplicates_exactly(data: bytes) -> None:
    # The document already decoded strictly, so the only possible refusal here is a duplicate.
    json.loads(data, object_pairs_hook=_reject_duplicate_pairs)
