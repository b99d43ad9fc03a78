"""Strict parsing for the Python path, with the common case decided cheaply.

The rules and error codes are exactly :func:`schemashift.core.jsonparse.loads_object`'s; it
is the fallback for every payload this module cannot clear at once. What is cheaper here:
``jsonparse`` walks the decoded tree in Python to count keys and depth; this module decides
most payloads from byte counts instead —

* keys: each key has one colon token, so the colon count bounds the key count;
* depth: a value nests no deeper than the number of ``{`` and ``[`` bytes;
* duplicates: re-encoding the decoded object keeps one value per key and copies strings, so
  the same colon count before and after (and no ``\\u003a`` escape) means none was dropped.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from schemashift.core.jsonparse import ParseLimits, loads_object

_DECODER: Final = msgspec.json.Decoder()
_ENCODE: Final = msgspec.json.encode


def parse_object(raw: bytes, limits: ParseLimits) -> dict[str, Any]:
    """The payload as a dict; :class:`~schemashift.errors.PayloadError` on refusal."""
    if limits.max_bytes is not None and len(raw) > limits.max_bytes:
        return loads_object(raw, limits)  # raises too_large
    try:
        value = _DECODER.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError):
        return loads_object(raw, limits)  # raises with the exact code
    if not isinstance(value, dict):
        return loads_object(raw, limits)  # raises not_an_object
    colons = raw.count(b":")
    if limits.max_keys is not None and colons > limits.max_keys:
        return loads_object(raw, limits)
    if limits.max_depth is not None and raw.count(b"{") + raw.count(b"[") > limits.max_depth:
        return loads_object(raw, limits)
    if limits.reject_duplicate_keys and (
        _ENCODE(value).count(b":") != colons
        or (raw.find(b"\\") != -1 and (b"\\u003a" in raw or b"\\u003A" in raw))
    ):
        return loads_object(raw, limits)
    return value
