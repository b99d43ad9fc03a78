"""Sign outgoing webhook requests (the verifying side is :mod:`schemashift.webhooks.verify`)."""

from __future__ import annotations

from schemashift.webhooks.verify import SCHEME, SIGNATURE_HEADER, compute_signature

__all__ = ["SIGNATURE_HEADER", "signature_header", "signed_headers"]


def signature_header(secrets: str | tuple[str, ...], timestamp: int, body: bytes) -> str:
    """The ``Schemashift-Signature`` value: ``t=<unix>,v1=<hex>`` (one ``v1`` per secret)."""
    keys = (secrets,) if isinstance(secrets, str) else secrets
    parts = [f"t={int(timestamp)}"]
    parts.extend(f"{SCHEME}={compute_signature(key, timestamp, body)}" for key in keys)
    return ",".join(parts)


def signed_headers(secret: str, timestamp: int, body: bytes, event_id: str) -> dict[str, str]:
    """Every header of a webhook request except those httpx adds itself."""
    return {
        "Content-Type": "application/cloudevents+json; charset=utf-8",
        SIGNATURE_HEADER: signature_header(secret, timestamp, body),
        # The CloudEvents id again, so a receiver can de-duplicate before parsing the body.
        "Schemashift-Event-Id": event_id,
        "User-Agent": "schemashift-webhooks/1",
    }
