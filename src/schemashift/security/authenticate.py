"""Turning an ``Authorization`` header into a :class:`Principal`, or nothing.

Unknown users cost the same scrypt work as known ones (a dummy hash is checked), so the
response time does not tell which user names exist.

HTTP Basic sends the password with every request, and one scrypt check costs ~40 ms of CPU,
so results are remembered in bounded caches keyed by HMAC-SHA-256 of the presented
credentials under a key drawn at start-up (the caches never hold a password):

* successes, so a client pays for scrypt once, not per request (:meth:`cached` answers
  them without leaving the event loop);
* failures, so repeating one wrong password costs a hash lookup, not a scrypt run;
* at most :data:`MAX_CONCURRENT_CHECKS` scrypt runs at a time, and one run per distinct
  credential however many requests carry it at once — a burst of 200 new connections with
  the same password costs one check, and a flood of distinct wrong passwords cannot occupy
  more than that many threads.

A new config (a new Authenticator) starts with empty caches, so a changed or removed
password takes effect at once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict

from schemashift.security.config import AuthConfig, Principal
from schemashift.security.hashing import hash_password, verify_password

CACHE_SIZE = 1_024
MAX_CONCURRENT_CHECKS = 2
# Longer headers are refused before any decoding or hashing.
MAX_HEADER_LENGTH = 4_096
_REFUSED = object()


class Authenticator:
    """Checks credentials against one :class:`AuthConfig`; safe to share between threads."""

    def __init__(self, config: AuthConfig) -> None:
        self.config = config
        self._cache_key = secrets.token_bytes(32)
        self._cache: OrderedDict[bytes, object] = OrderedDict()  # Principal or _REFUSED
        self._lock = threading.Lock()
        self._in_flight: dict[bytes, threading.Lock] = {}
        self._checks = threading.BoundedSemaphore(MAX_CONCURRENT_CHECKS)
        # Same parameters as real hashes, so a miss costs what a hit costs.
        self._dummy_hash = hash_password(secrets.token_urlsafe(16))

    def cached(self, authorization: str | None) -> tuple[bool, Principal | None]:
        """``(True, principal or None)`` when known without slow work; ``(False, None)`` when
        only :meth:`authenticate` can tell (a Basic credential not seen yet)."""
        parsed = _parse(authorization)
        if parsed is None:
            return True, None
        scheme, credentials = parsed
        if scheme == "bearer":
            return True, self._bearer(credentials)
        key = self._key(credentials)
        with self._lock:
            found = self._cache.get(key)
        if found is None:
            return False, None
        return True, found if isinstance(found, Principal) else None

    def authenticate(self, authorization: str | None) -> Principal | None:
        """The principal for an ``Authorization`` header value, or ``None`` (may block)."""
        parsed = _parse(authorization)
        if parsed is None:
            return None
        scheme, credentials = parsed
        if scheme == "bearer":
            return self._bearer(credentials)
        return self._basic(credentials)

    def _key(self, credentials: str) -> bytes:
        return hmac.new(
            self._cache_key, credentials.encode("utf-8", "surrogatepass"), hashlib.sha256
        ).digest()

    def _remember(self, key: bytes, outcome: object) -> None:
        with self._lock:
            self._cache[key] = outcome
            self._cache.move_to_end(key)
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    def _basic(self, credentials: str) -> Principal | None:
        key = self._key(credentials)
        with self._lock:
            flight = self._in_flight.setdefault(key, threading.Lock())
        with flight:  # the same credential arriving many times at once is checked once
            with self._lock:
                found = self._cache.get(key)
            if found is not None:
                return found if isinstance(found, Principal) else None
            principal = self._check_basic(credentials)
            self._remember(key, principal if principal is not None else _REFUSED)
        with self._lock:
            self._in_flight.pop(key, None)
        return principal

    def _check_basic(self, credentials: str) -> Principal | None:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, sep, password = decoded.partition(":")
        if not sep:
            return None
        entry = self.config.users.get(user)
        stored = entry.password_hash if entry is not None else self._dummy_hash
        with self._checks:
            ok = verify_password(password, stored)
        return entry.principal if entry is not None and ok else None

    def _bearer(self, token: str) -> Principal | None:
        if not token:
            return None
        presented = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        found: Principal | None = None
        # Compare against every token, not stopping at a match, so timing says nothing.
        for entry in self.config.tokens:
            if hmac.compare_digest(presented, entry.digest):
                found = entry.principal
        return found


def _parse(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or len(authorization) > MAX_HEADER_LENGTH:
        return None
    scheme, _, credentials = authorization.partition(" ")
    scheme = scheme.lower()
    if scheme not in ("basic", "bearer"):
        return None
    return scheme, credentials.strip()
