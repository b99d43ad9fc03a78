"""Webhook signatures: what a receiver checks with schemashift.webhooks.verify."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemashift.webhooks.signing import signature_header, signed_headers
from schemashift.webhooks.verify import (
    SIGNATURE_HEADER,
    SignatureError,
    compute_signature,
    parse_signature_header,
    verify_signature,
)

SECRET = "whsec_unit-test-secret-0123456789"
NOW = 1_780_000_000


def headers_for(body: bytes, *, secret: str = SECRET, timestamp: int = NOW) -> dict[str, str]:
    return {SIGNATURE_HEADER: signature_header(secret, timestamp, body)}


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    """The documented recipe, recomputed independently with hmac/hashlib."""
    body = b'{"id":"1-1"}'
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + body, hashlib.sha256).hexdigest()
    assert compute_signature(SECRET, NOW, body) == expected
    assert signature_header(SECRET, NOW, body) == f"t={NOW},v1={expected}"


@settings(max_examples=60)
@given(
    secret=st.text(min_size=1, max_size=64),
    body=st.binary(max_size=512),
    skew=st.integers(min_value=-300, max_value=300),
)
def test_every_signed_request_verifies(secret: str, body: bytes, skew: int) -> None:
    """Any secret and body verify when the clock is within the tolerance of the signature."""
    headers = headers_for(body, secret=secret)
    assert verify_signature(secret, headers, body, now=NOW + skew, tolerance=300) == NOW


@settings(max_examples=60)
@given(body=st.binary(min_size=1, max_size=256), flip=st.integers(min_value=0, max_value=2047))
def test_a_tampered_body_is_rejected(body: bytes, flip: int) -> None:
    """Changing any single bit of the body breaks the signature."""
    headers = headers_for(body)
    index, bit = divmod(flip % (len(body) * 8), 8)
    tampered = bytearray(body)
    tampered[index] ^= 1 << bit
    with pytest.raises(SignatureError) as info:
        verify_signature(SECRET, headers, bytes(tampered), now=NOW)
    assert info.value.reason == "signature_mismatch"


def test_a_rewritten_timestamp_is_rejected() -> None:
    """Moving the timestamp forward (to extend a replay) invalidates the signature."""
    body = b"{}"
    signature = compute_signature(SECRET, NOW, body)
    forged = {SIGNATURE_HEADER: f"t={NOW + 600},v1={signature}"}
    with pytest.raises(SignatureError) as info:
        verify_signature(SECRET, forged, body, now=NOW + 600)
    assert info.value.reason == "signature_mismatch"


@pytest.mark.parametrize("offset", [301, -301, 86_400])
def test_replays_outside_the_window_are_rejected(offset: int) -> None:
    """A genuine request presented too late (or dated in the future) is refused."""
    body = b"{}"
    with pytest.raises(SignatureError) as info:
        verify_signature(SECRET, headers_for(body), body, now=NOW + offset, tolerance=300)
    assert info.value.reason == "timestamp_out_of_tolerance"


def test_the_wrong_secret_is_rejected() -> None:
    body = b"{}"
    with pytest.raises(SignatureError) as info:
        verify_signature("another-secret-entirely", headers_for(body), body, now=NOW)
    assert info.value.reason == "signature_mismatch"


def test_header_lookup_ignores_case() -> None:
    """Frameworks hand headers over in any case; plain dicts included."""
    body = b"{}"
    value = signature_header(SECRET, NOW, body)
    assert verify_signature(SECRET, {"schemashift-signature": value}, body, now=NOW) == NOW


def test_any_of_several_v1_signatures_may_match() -> None:
    """During a secret rotation the header carries one v1 per secret."""
    body = b"{}"
    value = signature_header(("old-secret-0123456789", SECRET), NOW, body)
    assert value.count("v1=") == 2
    assert verify_signature(SECRET, {SIGNATURE_HEADER: value}, body, now=NOW) == NOW


@pytest.mark.parametrize(
    "value",
    [
        "",
        "v1=abc",
        f"t={NOW}",
        f"t=abc,v1={'0' * 64}",
        f"t={NOW},t={NOW},v1={'0' * 64}",
        f"t=-5,v1={'0' * 64}",
        "garbage",
        "t=" + "1" * 5000,
    ],
)
def test_malformed_headers_are_rejected(value: str) -> None:
    with pytest.raises(SignatureError) as info:
        verify_signature(SECRET, {SIGNATURE_HEADER: value}, b"{}", now=NOW)
    assert info.value.reason == "malformed_header"


def test_a_missing_header_is_rejected() -> None:
    with pytest.raises(SignatureError) as info:
        verify_signature(SECRET, {"content-type": "application/json"}, b"{}", now=NOW)
    assert info.value.reason == "missing_header"


def test_unknown_schemes_are_skipped() -> None:
    """A future v2 entry beside v1 does not break today's receivers."""
    timestamp, signatures = parse_signature_header(f"t={NOW},v2=zzz,v1=abc")
    assert (timestamp, signatures) == (NOW, ("abc",))


def test_signed_headers_carry_content_type_signature_and_event_id() -> None:
    body = b'{"id":"7-2"}'
    headers = signed_headers(SECRET, NOW, body, "7-2")
    assert headers["Content-Type"].startswith("application/cloudevents+json")
    assert headers["Schemashift-Event-Id"] == "7-2"
    assert verify_signature(SECRET, headers, body, now=NOW) == NOW
