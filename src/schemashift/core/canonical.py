"""Canonical JSON text and fingerprints of schemas.

The canonical form is the registry's identity: the same canonical text means the same global
schema id in every subject. Keys are sorted, there is no insignificant whitespace, and
non-ASCII characters are kept as UTF-8 (not escaped), so the text is stable across tools.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

_OPTS = orjson.OPT_SORT_KEYS


def canonical_bytes(value: Any) -> bytes:
    """The canonical UTF-8 JSON encoding of ``value`` (sorted keys, compact)."""
    try:
        return orjson.dumps(value, option=_OPTS)
    except TypeError:
        # orjson refuses integers beyond 64 bits; fall back to the exact standard encoder.
        import json

        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")


def canonical_text(value: Any) -> str:
    """The canonical JSON text of ``value``."""
    return canonical_bytes(value).decode("utf-8")


def fingerprint(value: Any) -> str:
    """SHA-256 (hex) of the canonical text: the schema's identity."""
    return hashlib.sha256(canonical_bytes(value)).hexdigest()
