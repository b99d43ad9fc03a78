"""Password and token hashing: scrypt round-trips, refusals, constant-time verification."""

from __future__ import annotations

import hashlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemashift.security import hash as hash_cli
from schemashift.security.hashing import (
    DEFAULT_SCRYPT,
    CredentialFormatError,
    ScryptParameters,
    hash_password,
    hash_token,
    new_token,
    parse_password_hash,
    token_digest,
    verify_password,
    verify_token,
)

# Cheap parameters so property tests stay fast; the format and code path are the same.
FAST = ScryptParameters(n=16, r=1, p=1)


@settings(max_examples=40, deadline=None)
@given(password=st.text(max_size=40), other=st.text(max_size=40))
def test_password_verifies_only_itself(password: str, other: str) -> None:
    """A hash accepts its own password and refuses any different one (any Unicode text)."""
    stored = hash_password(password, params=FAST)
    assert verify_password(password, stored)
    if other != password:
        assert not verify_password(other, stored)


def test_hash_is_salted_and_self_describing() -> None:
    """Two hashes of one password differ (per-user salt) and carry their parameters."""
    first = hash_password("hunter2", params=FAST)
    second = hash_password("hunter2", params=FAST)
    assert first != second
    assert first.startswith("$scrypt$n=16,r=1,p=1$")
    params, salt, key = parse_password_hash(first)
    assert params == FAST and len(salt) == 16 and len(key) == 32


def test_default_parameters_are_the_documented_ones() -> None:
    """The defaults are n=2**14, r=8, p=1 (docs/security.md quotes them)."""
    assert (DEFAULT_SCRYPT.n, DEFAULT_SCRYPT.r, DEFAULT_SCRYPT.p) == (16384, 8, 1)
    assert hash_password("x").startswith("$scrypt$n=16384,r=8,p=1$")


def test_hash_matches_hashlib_scrypt_with_the_same_salt() -> None:
    """The stored key is exactly hashlib.scrypt of the UTF-8 password (no home-made crypto)."""
    salt = b"0123456789abcdef"
    stored = hash_password("pässword", params=FAST, salt=salt)
    expected = hashlib.scrypt("pässword".encode(), salt=salt, n=16, r=1, p=1, dklen=32)
    assert parse_password_hash(stored)[2] == expected


@pytest.mark.parametrize(
    "stored",
    [
        "hunter2",  # plain text must never be accepted as a hash
        "$scrypt$n=16384,r=8,p=1$c2FsdA==",  # missing key
        "$scrypt$n=3,r=8,p=1$MDEyMzQ1Njc4OWFiY2RlZg==$" + "A" * 44,  # n not a power of two
        "$scrypt$n=1073741824,r=8,p=1$MDEyMzQ1Njc4OWFiY2RlZg==$" + "A" * 44,  # memory bomb
        "$scrypt$n=16,r=99,p=1$MDEyMzQ1Njc4OWFiY2RlZg==$" + "A" * 44,
        "$scrypt$r=8,p=1$MDEyMzQ1Njc4OWFiY2RlZg==$" + "A" * 44,  # missing n
        "$scrypt$n=16,r=1,p=1$not base64!$" + "A" * 44,
        "$scrypt$n=16,r=1,p=1$c2E=$" + "A" * 44,  # salt too short
    ],
)
def test_unsafe_or_malformed_hashes_are_refused(stored: str) -> None:
    """Only well-formed scrypt hashes with bounded cost parameters are accepted."""
    with pytest.raises(CredentialFormatError):
        parse_password_hash(stored)


def test_tokens_verify_and_are_random() -> None:
    """A token verifies against its hash only; new tokens carry 256 bits and never repeat."""
    token = new_token()
    stored = hash_token(token)
    assert stored.startswith("$sha256$") and len(stored) == len("$sha256$") + 64
    assert verify_token(token, stored)
    assert not verify_token(token + "x", stored)
    assert len({new_token() for _ in range(100)}) == 100
    assert len(token) >= 43


@pytest.mark.parametrize("stored", ["deadbeef", "$sha256$xyz", "$sha256$" + "ab" * 16])
def test_malformed_token_hashes_are_refused(stored: str) -> None:
    """Token hashes must be a full SHA-256 hex digest."""
    with pytest.raises(CredentialFormatError):
        token_digest(stored)


def test_hash_helper_reads_the_password_from_stdin() -> None:
    """`python -m schemashift.security.hash --stdin` prints a hash that verifies."""
    out = io.StringIO()
    assert hash_cli.main(["--stdin"], stdin=io.StringIO("s3cret\n"), stdout=out) == 0
    assert verify_password("s3cret", out.getvalue().strip())


def test_hash_helper_makes_tokens() -> None:
    """`--new-token` prints a token and a hash of exactly that token."""
    out = io.StringIO()
    assert hash_cli.main(["--new-token"], stdout=out) == 0
    lines = dict(line.split(":", 1) for line in out.getvalue().splitlines())
    assert verify_token(lines["token"].strip(), lines["hash"].strip())


def test_hash_helper_refuses_an_empty_password(capsys: pytest.CaptureFixture[str]) -> None:
    """An empty password is refused with a message rather than hashed."""
    assert hash_cli.main(["--stdin"], stdin=io.StringIO("\n"), stdout=io.StringIO()) == 1
    assert "empty" in capsys.readouterr().err
