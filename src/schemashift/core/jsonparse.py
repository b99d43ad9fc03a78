"""Strict JSON decoding for event payloads and API bodies.

Stricter than the JSON RFC allows parsers to be, because a registry that silently accepts
``NaN`` learns a schema no other consumer can read:

* integers are exact at any size up to Python's 4,300-digit limit (msgspec decodes them
  exactly; orjson would turn them into floats), longer ones are refused;
* ``NaN``, ``Infinity``, numbers that overflow a double (``1e999``), lone surrogates and
  invalid UTF-8 are refused;
* size, nesting depth and the total number of keys are bounded;
* a key repeated in one object follows the :class:`DuplicateKeys` policy of the limits:
  ``reject`` refuses the document, ``last_wins`` keeps the last value (what ``JSON.parse``
  and most parsers do; real webhooks, GitLab's ``build`` hook among them, repeat keys) and
  reports where (:func:`loads_with_duplicates`). Event payloads keep the last value
  (:data:`DEFAULT_LIMITS`); limits built for request bodies and schemas refuse, because a
  schema with a repeated key is ambiguous (``ParseLimits()``).

Every refusal is a :class:`~schemashift.errors.PayloadError` with a stable ``code``
(the :class:`ParseCode` values), so callers can dead-letter with a machine-readable reason.

Duplicate keys cost nothing on the common path: every decoded key came from a ``"key":``
token, so when the decoded key count equals the number of ``":`` byte pairs in the input
(and no key is separated from its colon by whitespace) no key can have been dropped. Only
when the counts differ (a ``\\":`` inside a string, pretty-printed input, a real duplicate)
do we re-check exactly with the standard library's pair hook, which refuses the duplicate or
finds the JSON Pointers of the repeated keys. msgspec keeps the last value of a repeated key,
at any depth, as ``json.loads`` does, so the value decoded once is the answer either way.

:func:`split_array` cuts a JSON array into its top-level elements without decoding them, so
a batch with one bad element can be read element by element.
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


class DuplicateKeys(StrEnum):
    """What a key repeated in one object does to the document."""

    LAST_WINS = "last_wins"  # the last value is kept, as JSON.parse does; reported
    REJECT = "reject"  # PayloadError DUPLICATE_KEY


# At most this many repeated keys are reported per document (a note, not an inventory).
MAX_REPORTED_DUPLICATES = 16


@dataclass(frozen=True, slots=True, init=False)
class ParseLimits:
    """Bounds applied to every payload. ``None`` switches a bound off.

    ``duplicate_keys`` is ``REJECT`` unless asked otherwise, so limits built for request
    bodies and schemas refuse a repeated key; :data:`DEFAULT_LIMITS`, the limits of event
    payloads, keep the last value. ``reject_duplicate_keys`` is the older boolean spelling,
    still accepted (it decides when given: ``False`` is ``LAST_WINS``) and readable.
    """

    max_bytes: int | None
    max_depth: int | None
    max_keys: int | None
    duplicate_keys: DuplicateKeys

    def __init__(
        self,
        max_bytes: int | None = 1_048_576,
        max_depth: int | None = 64,
        max_keys: int | None = 10_000,
        duplicate_keys: DuplicateKeys | str = DuplicateKeys.REJECT,
        *,
        reject_duplicate_keys: bool | None = None,
    ) -> None:
        if reject_duplicate_keys is not None:
            duplicate_keys = (
                DuplicateKeys.REJECT if reject_duplicate_keys else DuplicateKeys.LAST_WINS
            )
        object.__setattr__(self, "max_bytes", max_bytes)
        object.__setattr__(self, "max_depth", max_depth)
        object.__setattr__(self, "max_keys", max_keys)
        object.__setattr__(self, "duplicate_keys", DuplicateKeys(duplicate_keys))

    @property
    def reject_duplicate_keys(self) -> bool:
        return self.duplicate_keys is DuplicateKeys.REJECT


# The limits of one event payload (the worker, HTTP ingest, ``schemashift infer``, the
# transformer's options): a repeated key keeps its last value, as the producer's own JSON
# library most likely read it.
DEFAULT_LIMITS = ParseLimits(duplicate_keys=DuplicateKeys.LAST_WINS)

_DECODER = msgspec.json.Decoder()
_ENCODE = msgspec.json.encode
_KEY_THEN_SPACE = re.compile(rb'"[ \t\r\n]+:')
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_NAN_TOKEN = re.compile(rb"(?<![\"\w])-?(NaN|Infinity)\b")
_NO_DUPLICATES: tuple[str, ...] = ()


def loads(raw: bytes | bytearray | memoryview | str, limits: ParseLimits = DEFAULT_LIMITS) -> Any:
    """Decode one JSON document strictly; raise :class:`PayloadError` with a code on refusal."""
    return _parse(raw, limits, report=False)[0]


def loads_with_duplicates(
    raw: bytes | bytearray | memoryview | str, limits: ParseLimits = DEFAULT_LIMITS
) -> tuple[Any, tuple[str, ...]]:
    """Like :func:`loads`, and the keys that were repeated (so their last value was kept).

    The keys are JSON Pointers (``/build/git_ssh_url``), the object's path then the key, at
    most :data:`MAX_REPORTED_DUPLICATES`; empty when no key repeats (always under
    ``REJECT``). A repeated key inside a value that a later duplicate replaced is not
    reported: only what the decoded value holds.
    """
    return _parse(raw, limits, report=True)


def loads_object(
    raw: bytes | bytearray | memoryview | str, limits: ParseLimits = DEFAULT_LIMITS
) -> dict[str, Any]:
    """Like :func:`loads`, but the document must be a JSON object (an event payload)."""
    return _object(loads(raw, limits))


def loads_object_with_duplicates(
    raw: bytes | bytearray | memoryview | str, limits: ParseLimits = DEFAULT_LIMITS
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """:func:`loads_with_duplicates` for a document that must be a JSON object."""
    value, duplicates = loads_with_duplicates(raw, limits)
    return _object(value), duplicates


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(
            ParseCode.NOT_AN_OBJECT, f"expected a JSON object, got {json_type_name(value)}"
        )
    return value


def _parse(
    raw: bytes | bytearray | memoryview | str, limits: ParseLimits, *, report: bool
) -> tuple[Any, tuple[str, ...]]:
    data = _as_bytes(raw)
    if limits.max_bytes is not None and len(data) > limits.max_bytes:
        raise PayloadError(
            ParseCode.TOO_LARGE,
            f"payload of {len(data)} bytes exceeds the limit of {limits.max_bytes}",
        )
    value = _decode(data)
    # under LAST_WINS the decoded value is already the answer: duplicates are looked for
    # only when someone will read the report
    look = report or limits.duplicate_keys is DuplicateKeys.REJECT
    if isinstance(value, dict | list) and not _cleared_by_byte_counts(data, value, limits, look):
        return value, _check_by_walking(data, value, limits, report=report)
    return value, _NO_DUPLICATES


def _check_by_walking(
    data: bytes, value: dict[str, Any] | list[Any], limits: ParseLimits, *, report: bool = True
) -> tuple[str, ...]:
    """The exact depth, key-count and duplicate checks, for what byte counts cannot clear.

    Raises on a refusal; returns the repeated keys when ``limits`` keep the last value.
    """
    depth, keys = measure(value, limits.max_depth)
    if limits.max_depth is not None and depth > limits.max_depth:
        raise PayloadError(ParseCode.TOO_DEEP, f"nesting deeper than {limits.max_depth} levels")
    if limits.max_keys is not None and keys > limits.max_keys:
        raise PayloadError(
            ParseCode.TOO_MANY_KEYS, f"{keys} object keys exceed the limit of {limits.max_keys}"
        )
    if not keys:
        return _NO_DUPLICATES
    if limits.duplicate_keys is DuplicateKeys.REJECT:
        if _may_have_duplicates(data, keys):
            _check_duplicates_exactly(data)
        return _NO_DUPLICATES
    if report and _may_have_duplicates(data, keys):
        return _find_duplicates(data)
    return _NO_DUPLICATES


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


def _cleared_by_byte_counts(data: bytes, value: Any, limits: ParseLimits, look: bool) -> bool:
    """Decide the common case from byte counts, without walking the decoded tree.

    Each key has one colon token, so the colon count bounds the key count; a value nests no
    deeper than the number of ``{`` and ``[`` bytes; and re-encoding keeps one value per key
    and copies strings, so the same colon count before and after (with no ``\u003a``
    escape) means no duplicate was dropped (checked only when ``look`` asks for duplicates).
    False sends the payload down the exact path.
    """
    colons = data.count(b":")
    if limits.max_keys is not None and colons > limits.max_keys:
        return False
    if limits.max_depth is not None and data.count(b"{") + data.count(b"[") > limits.max_depth:
        return False
    if not look:
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
    try:
        json.loads(data, object_pairs_hook=_reject_duplicate_pairs)
    except RecursionError:
        raise PayloadError(ParseCode.TOO_DEEP, "nesting too deep to decode") from None


def _find_duplicates(data: bytes) -> tuple[str, ...]:
    """The JSON Pointers of the repeated keys, found with the standard library's pair hook.

    The hook sees each object's pairs but not where the object sits, so it remembers the
    objects that had a repeated key (holding them, so no id is reused) and a walk of the
    result names their paths.
    """
    flagged: dict[int, tuple[dict[str, Any], list[str]]] = {}

    def keep_last(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)  # the last value wins; the key keeps its first place
        if len(result) != len(pairs):
            seen: set[str] = set()
            repeated: list[str] = []
            for key, _ in pairs:
                if key in seen and key not in repeated:
                    repeated.append(key)
                seen.add(key)
            flagged[id(result)] = (result, repeated)
        return result

    try:
        tree = json.loads(data, object_pairs_hook=keep_last)
    except RecursionError:
        raise PayloadError(ParseCode.TOO_DEEP, "nesting too deep to decode") from None
    if not flagged:
        return _NO_DUPLICATES
    return _pointers_of(tree, flagged)


def _pointers_of(
    tree: Any, flagged: dict[int, tuple[dict[str, Any], list[str]]]
) -> tuple[str, ...]:
    found: list[str] = []
    stack: list[tuple[Any, str]] = [(tree, "")]
    while stack:
        node, path = stack.pop()
        children: list[tuple[Any, str]] = []
        if isinstance(node, dict):
            mark = flagged.get(id(node))
            if mark is not None and mark[0] is node:
                for key in mark[1]:
                    found.append(f"{path}/{_escape(key)}")
                    if len(found) == MAX_REPORTED_DUPLICATES:
                        return tuple(found)
            children = [
                (child, f"{path}/{_escape(key)}")
                for key, child in node.items()
                if isinstance(child, dict | list)
            ]
        elif isinstance(node, list):
            children = [
                (child, f"{path}/{index}")
                for index, child in enumerate(node)
                if isinstance(child, dict | list)
            ]
        stack.extend(reversed(children))  # document order
    return tuple(found)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


# -- splitting an array into its elements --------------------------------------------------

# Inside the outer brackets, a token is a bracket, or a run of anything else with strings
# taken whole (so a bracket or comma inside a string is text), or a quote that opens a string
# never closed. One C-level match per run: the Python loop sees brackets and runs, not bytes.
# (Strings are written unrolled, "[^"\\]*(\\.[^"\\]*)*": sre runs that a third faster than
# an alternation inside the repeat.)
_STRING = rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"'
_ARRAY_TOKEN = re.compile(
    rb'[^"\[\]{}]*+(?:' + _STRING + rb'[^"\[\]{}]*+)++|[^"\[\]{}]++|[\[\]{}]|"', re.DOTALL
)
# Between two top-level elements: a comma, or the text of a scalar element.
_SCALAR_OR_COMMA = re.compile(rb'[^",]*+(?:' + _STRING + rb'[^",]*+)++|[^",]++|,', re.DOTALL)
_WHITESPACE = b" \t\r\n"
_OPEN = frozenset(b"[{")
_CLOSE = {ord("]"): ord("["), ord("}"): ord("{")}
_QUOTE = ord('"')


def split_array(data: bytes, max_depth: int = 512) -> list[tuple[int, int]] | None:
    """The ``(start, end)`` byte spans of the top-level elements of the JSON array ``data``.

    Nothing is decoded: strings (with their escapes) are skipped whole and brackets counted,
    in linear time. An element's own bytes may still be bad JSON (``NaN``, invalid UTF-8, a
    duplicate key), which decoding it finds. None when ``data`` cannot be split: not an array,
    unbalanced or mismatched brackets, an unterminated string, two values without a comma
    between them, an empty element (``[1,,2]``, ``[1,]``), or nesting deeper than
    ``max_depth`` inside an element.
    """
    start = len(data) - len(data.lstrip(_WHITESPACE))
    end = len(data.rstrip(_WHITESPACE))
    if end - start < 2 or data[start] != ord("[") or data[end - 1] != ord("]"):
        return None
    spans: list[tuple[int, int]] = []
    opened = bytearray()  # the brackets open inside the current element
    expect_value = True
    element_start = 0
    for match in _ARRAY_TOKEN.finditer(data, start + 1, end - 1):
        at = match.start()
        first = data[at]
        if first in _OPEN:
            if not opened:
                if not expect_value:
                    return None
                element_start = at
            opened.append(first)
            if len(opened) > max_depth:
                return None
        elif first in _CLOSE:
            if not opened or opened.pop() != _CLOSE[first]:
                return None
            if not opened:
                spans.append((element_start, at + 1))
                expect_value = False
        elif first == _QUOTE and match.end() - at == 1:
            return None  # a string that never closes
        elif not opened:
            state = _between(data, at, match.end(), spans, expect_value)
            if state is None:
                return None
            expect_value = state
    if opened or (expect_value and spans):
        return None
    return spans


def _between(
    data: bytes, start: int, end: int, spans: list[tuple[int, int]], expect_value: bool
) -> bool | None:
    """Read the text between (or of) top-level elements: commas and scalar elements.

    Returns whether a value is expected next, or None when the text breaks the array.
    """
    chunk = data[start:end]
    if chunk.strip(_WHITESPACE) == b",":  # the usual separator of an array of objects
        return None if expect_value else True
    # without a string, commas are separators: split in C rather than match each piece
    pieces = chunk.split(b",") if b'"' not in chunk else None
    if pieces is not None:
        return _pieces(pieces, start, spans, expect_value)
    for match in _SCALAR_OR_COMMA.finditer(chunk):
        text = match.group()
        if text == b",":
            if expect_value:
                return None
            expect_value = True
            continue
        stripped = text.lstrip(_WHITESPACE)
        if not stripped:
            continue
        if not expect_value:
            return None
        first = start + match.start() + len(text) - len(stripped)
        spans.append((first, first + len(stripped.rstrip(_WHITESPACE))))
        expect_value = False
    return expect_value


def _pieces(
    pieces: list[bytes], start: int, spans: list[tuple[int, int]], expect_value: bool
) -> bool | None:
    """:func:`_between` for text without strings, already split at its commas."""
    offset = start
    for number, piece in enumerate(pieces):
        if number:  # a comma came before this piece
            if expect_value:
                return None
            expect_value = True
        stripped = piece.lstrip(_WHITESPACE)
        if stripped:
            if not expect_value:
                return None
            first = offset + len(piece) - len(stripped)
            spans.append((first, first + len(stripped.rstrip(_WHITESPACE))))
            expect_value = False
        offset += len(piece) + 1
    return expect_value
