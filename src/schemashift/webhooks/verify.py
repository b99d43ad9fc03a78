"""Verify a schemashift webhook request — for receivers; standard library only.

Every webhook request carries::

    Schemashift-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>

where the HMAC key is the subscription's secret (UTF-8) and the message is the timestamp,
a full stop and the raw request body: ``f"{t}.".encode() + body``. A header may carry several
``v1=`` entries (while a secret is being rotated); one match is enough.

    from schemashift.webhooks.verify import verify_signature, SignatureError

    try:
        verify_signature(secret, request.headers, raw_body)
    except SignatureError as exc:
        return 400, exc.reason

Verify the *raw* bytes before parsing them: re-serialised JSON does not match. The replay
window (``tolerance``, 5 minutes by default) rejects a captured request played back later;
de-duplicate retries with the CloudEvents ``id``, which is stable across attempts.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

__all__ = [
    "DEFAULT_TOLERANCE",
    "SIGNATURE_HEADER",
    "SignatureError",
    "compute_signature",
    "parse_signature_header",
    "verify_signature",
]

SIGNATURE_HEADER = "Schemashift-Signature"
DEFAULT_TOLERANCE = 300.0
SCHEME = "v1"
# A header longer than this is refused before any parsing; real ones are < 200 bytes.
MAX_HEADER_LENGTH = 4096


class SignatureError(ValueError):
    """The request is not authentic; ``reason`` is a stable code.

    Reasons: ``missing_header``, ``malformed_header``, ``timestamp_out_of_tolerance``,
    ``signature_mismatch``.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def compute_signature(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}.".encode() + body`` under ``secret``."""
    key = secret.encode() if isinstance(secret, str) else secret
    message = str(int(timestamp)).encode("ascii") + b"." + body
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def parse_signature_header(value: str) -> tuple[int, tuple[str, ...]]:
    """``(timestamp, v1 signatures)`` from a header value; unknown schemes are skipped."""
    if len(value) > MAX_HEADER_LENGTH:
        raise SignatureError("malformed_header", "signature header too long")
    timestamp: int | None = None
    signatures: list[str] = []
    for item in value.split(","):
        key, sep, val = item.strip().partition("=")
        if not sep:
            raise SignatureError("malformed_header", f"malformed signature item {item!r}")
        if key == "t":
            if timestamp is not None or not val.isascii() or not val.isdigit():
                raise SignatureError("malformed_header", "malformed or repeated timestamp")
            timestamp = int(val)
        elif key == SCHEME:
            signatures.append(val)
    if timestamp is None:
        raise SignatureError("malformed_header", "signature header has no timestamp")
    if not signatures:
        raise SignatureError("malformed_header", f"signature header has no {SCHEME} signature")
    return timestamp, tuple(signatures)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, candidate in headers.items():  # plain dicts are case-sensitive; HTTP is not
        if key.lower() == lowered:
            return candidate
    return None


def verify_signature(
    secret: str | bytes,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> int:
    """Check a request's signature and timestamp; return the signed timestamp.

    Raises :class:`SignatureError` when the header is missing or malformed, the timestamp is
    more than ``tolerance`` seconds away from ``now`` (default: the system clock) in either
    direction, or no ``v1`` signature matches. The comparison is constant-time.
    """
    value = _header(headers, SIGNATURE_HEADER)
    if value is None:
        raise SignatureError("missing_header", f"no {SIGNATURE_HEADER} header")
    timestamp, candidates = parse_signature_header(value)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError(
            "timestamp_out_of_tolerance",
            f"signed at {timestamp}, {abs(current - timestamp):.0f}s from now (limit {tolerance:.0f}s)",
        )
    expected = compute_signature(secret, timestamp, body)
    # Check every candidate (no early exit) so timing says nothing about which one matched.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(
            expected.encode("ascii"), candidate.encode("utf-8", "replace")
        )
    if not matched:
        raise SignatureError("signature_mismatch", "no signature matches the body and timestamp")
    return timestamp
