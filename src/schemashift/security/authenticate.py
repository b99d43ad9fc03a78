"""Turning an ``Authorization`` header into a :class:`Principal`, or nothing.

Unknown users cost the same scrypt work as known ones (a dummy hash is checked), so the
response time does not tell which user names exist. Successful Basic checks are remembered
in a bounded cache keyed by HMAC-SHA-256 of the presented credentials under a key drawn
at start-up: the cache never holds a password, and a new config (a new Authenticator)
starts with an empty cache, so a changed or removed password takes effect at once.
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
# Longer headers are refused before any decoding or hashing.
MAX_HEADER_LENGTH = 4_096


class Authenticator:
    """Checks credentials against one :class:`AuthConfig`; safe to share between threads."""

    def __init__(self, config: AuthConfig) -> None:
        self.config = config
        self._cache_key = secrets.token_bytes(32)
        self._cache: OrderedDict[bytes, Principal] = OrderedDict()
        self._lock = threading.Lock()
        # Same parameters as real hashes, so a miss costs what a hit costs.
        self._dummy_hash = hash_password(secrets.token_urlsafe(16))

    def authenticate(self, authorization: str | None) -> Principal | None:
        """The principal for an ``Authorization`` header value, or ``None``."""
        if not authorization or len(authorization) > MAX_HEADER_LENGTH:
            return None
        scheme, _, credentials = authorization.partition(" ")
        scheme = scheme.lower()
        credentials = credentials.strip()
        if scheme == "basic":
            return self._basic(credentials)
        if scheme == "bearer":
            return self._bearer(credentials)
        return None

    def _basic(self, credentials: str) -> Principal | None:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, sep, password = decoded.partition(":")
        if not sep:
            return None
        cache_key = hmac.new(self._cache_key, decoded.encode("utf-8"), hashlib.sha256).digest()
        with self._lock:
            cached = self._cache.get(cache_key)
            if cached is not None:
                self._cache.move_to_end(cache_key)
                return cached
        entry = self.config.users.get(user)
        stored = entry.password_hash if entry is not None else self._dummy_hash
        ok = verify_password(password, stored)
        if entry is None or not ok:
            return None
        with self._lock:
            self._cache[cache_key] = entry.principal
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return entry.principal

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
