"""Hashing of user passwords and bearer tokens, and their constant-time verification.

Passwords are hashed with scrypt (``hashlib.scrypt``), a memory-hard function, with a
random 16-byte salt per user. The stored form is self-describing, so the parameters can be
raised later without invalidating existing hashes::

    $scrypt$n=16384,r=8,p=1$<salt, base64>$<32-byte key, base64>

``n=2**14, r=8, p=1`` costs about 16 MiB and 40 ms per check on one core: cheap for a
login, expensive for someone guessing offline. Because HTTP Basic sends the password on
every request, :class:`~schemashift.security.auth.Authenticator` remembers successful
checks (keyed by an HMAC under a per-process random key), so the cost is paid once per
credential, not once per request.

Bearer tokens are generated here with 256 bits of entropy, so they cannot be guessed and a
plain SHA-256 is enough to keep them secret at rest (a slow hash protects only guessable
secrets). The stored form is ``$sha256$<hex digest>``.

Every comparison of secrets goes through :func:`hmac.compare_digest`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from schemashift.errors import SchemaShiftError

SCRYPT_PREFIX = "$scrypt$"
SHA256_PREFIX = "$sha256$"
TOKEN_BYTES = 32
SALT_BYTES = 16
KEY_BYTES = 32
# Refuse stored parameters that would let a crafted config file exhaust memory or CPU.
_MAX_N = 2**20
_MAX_R = 32
_MAX_P = 16


class CredentialFormatError(SchemaShiftError):
    """A stored password or token hash is not in a recognised, safe form."""


@dataclass(frozen=True, slots=True)
class ScryptParameters:
    """The scrypt cost parameters (see the module docstring for the defaults' cost)."""

    n: int = 2**14
    r: int = 8
    p: int = 1

    def check(self) -> None:
        if self.n < 2 or self.n & (self.n - 1) or self.n > _MAX_N:
            raise CredentialFormatError(f"scrypt n must be a power of two <= {_MAX_N}")
        if not 1 <= self.r <= _MAX_R or not 1 <= self.p <= _MAX_P:
            raise CredentialFormatError(f"scrypt needs 1 <= r <= {_MAX_R} and 1 <= p <= {_MAX_P}")

    @property
    def maxmem(self) -> int:
        # scrypt needs 128 * n * r * p bytes; give OpenSSL head-room above that.
        return 2 * 128 * self.n * self.r * self.p + 1_048_576


DEFAULT_SCRYPT = ScryptParameters()


def hash_password(
    password: str, *, params: ScryptParameters = DEFAULT_SCRYPT, salt: bytes | None = None
) -> str:
    """The stored form of ``password``: scrypt with a fresh random salt."""
    params.check()
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    key = _scrypt(password, salt, params)
    return f"{SCRYPT_PREFIX}n={params.n},r={params.r},p={params.p}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches the stored scrypt hash (constant-time comparison)."""
    params, salt, expected = parse_password_hash(stored)
    return hmac.compare_digest(_scrypt(password, salt, params), expected)


def parse_password_hash(stored: str) -> tuple[ScryptParameters, bytes, bytes]:
    """Split a stored scrypt hash into (parameters, salt, key); refuse anything else."""
    if not stored.startswith(SCRYPT_PREFIX):
        raise CredentialFormatError("password hashes must start with '$scrypt$'")
    parts = stored[len(SCRYPT_PREFIX) :].split("$")
    if len(parts) != 3:
        raise CredentialFormatError("expected $scrypt$n=..,r=..,p=..$salt$key")
    try:
        fields = dict(item.split("=", 1) for item in parts[0].split(","))
        params = ScryptParameters(n=int(fields["n"]), r=int(fields["r"]), p=int(fields["p"]))
        salt = base64.b64decode(parts[1], validate=True)
        key = base64.b64decode(parts[2], validate=True)
    except (KeyError, ValueError) as exc:
        raise CredentialFormatError(f"malformed scrypt hash: {exc}") from None
    params.check()
    if len(salt) < 8 or len(key) < 16:
        raise CredentialFormatError("scrypt salt or key too short")
    return params, salt, key


def new_token() -> str:
    """A fresh bearer token (256 random bits, URL-safe text)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The stored form of a bearer token."""
    return SHA256_PREFIX + hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_digest(stored: str) -> bytes:
    """The raw digest inside a stored token hash; refuse anything else."""
    if not stored.startswith(SHA256_PREFIX):
        raise CredentialFormatError("token hashes must start with '$sha256$'")
    try:
        digest = bytes.fromhex(stored[len(SHA256_PREFIX) :])
    except ValueError:
        raise CredentialFormatError("token hash is not hexadecimal") from None
    if len(digest) != 32:
        raise CredentialFormatError("token hash must be a SHA-256 digest (64 hex digits)")
    return digest


def verify_token(token: str, stored: str) -> bool:
    """Whether ``token`` matches the stored hash (constant-time comparison)."""
    presented = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
    return hmac.compare_digest(presented, token_digest(stored))


def _scrypt(password: str, salt: bytes, params: ScryptParameters) -> bytes:
    # "surrogatepass" so that any str a client can send hashes instead of raising.
    return hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=params.n,
        r=params.r,
        p=params.p,
        maxmem=params.maxmem,
        dklen=KEY_BYTES,
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
