"""The demo generator: realistic, reproducible events with drift at scheduled positions."""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any

from schemashift.core.infer import infer
from schemashift.demo import SUBJECTS, DriftSchedule, generate, to_cloudevent


def events(
    count: int, seed: int = 1, drift: DriftSchedule | None = None
) -> list[tuple[str, dict[str, Any]]]:
    return list(generate(random.Random(seed), count, drift=drift))


def test_same_seed_same_stream() -> None:
    """Randomness comes only from the Random passed in: a seed reproduces the stream."""
    assert events(200, seed=5) == events(200, seed=5)
    assert events(200, seed=5) != events(200, seed=6)


def test_several_event_types_of_realistic_size() -> None:
    """Every subject occurs, and payloads are 0.2–5 KB of JSON."""
    stream = events(2000)
    assert set(Counter(s for s, _ in stream)) == set(SUBJECTS)
    sizes = [len(json.dumps(p)) for _, p in stream]
    assert min(sizes) >= 200 and max(sizes) <= 5_000


def test_payloads_have_optional_fields_and_a_free_form_map() -> None:
    """Orders have optional keys and a `properties` map the Analyzer treats as a map."""
    orders = [p for s, p in events(1500, drift=DriftSchedule.none()) if s == "shop/order.created"]
    schema = infer(orders)
    assert set(schema["properties"]) - set(schema["required"]) >= {"shipping", "coupon"}
    assert "additionalProperties" in schema["properties"]["properties"]
    assert schema["properties"]["line_items"]["items"]["type"] == "object"


def _schemas(stream: list[tuple[str, dict[str, Any]]], subject: str) -> dict[str, Any]:
    return infer([p for s, p in stream if s == subject])


def test_drift_appears_at_the_scheduled_positions() -> None:
    """Before 30 %: no drift. 30–55 %: a new optional field. 55–80 %: integer → number.
    After 80 %: a payment amount becomes a string and signups lose the required email."""
    stream = events(4000, seed=2)
    n = len(stream)
    early, mid, late, end = (
        stream[: int(n * 0.29)],
        stream[int(n * 0.31) : int(n * 0.54)],
        stream[int(n * 0.56) : int(n * 0.79)],
        stream[int(n * 0.81) :],
    )
    assert "gift_message" not in _schemas(early, "shop/order.created")["properties"]
    assert "gift_message" in _schemas(mid, "shop/order.created")["properties"]

    def quantity(part: list[tuple[str, dict[str, Any]]]) -> Any:
        items = _schemas(part, "shop/order.created")["properties"]["line_items"]["items"]
        return items["properties"]["quantity"]

    assert quantity(mid) == {"type": "integer"}
    assert quantity(late) == {"type": "number"}
    assert _schemas(late, "billing/payment.succeeded")["properties"]["amount"] == {
        "type": "integer"
    }
    assert _schemas(end, "billing/payment.succeeded")["properties"]["amount"] == {"type": "string"}
    assert "email" in _schemas(late, "identity/user.signed_up")["required"]
    assert "email" not in _schemas(end, "identity/user.signed_up")["properties"]


def test_drift_can_be_switched_off() -> None:
    """DriftSchedule.none() keeps every type stable over the whole stream."""
    stream = events(3000, drift=DriftSchedule.none())
    amount = _schemas(stream, "billing/payment.succeeded")["properties"]["amount"]
    assert amount == {"type": "integer"}


def test_cloudevent_wrapper() -> None:
    """to_cloudevent gives a structured CloudEvent 1.0 with source/type from the subject."""
    rng = random.Random(1)
    subject, payload = next(generate(rng, 1))
    event = to_cloudevent(subject, payload, rng)
    source, _, kind = subject.partition("/")
    assert event["specversion"] == "1.0"
    assert (event["source"], event["type"], event["data"]) == (source, kind, payload)
    assert len(event["id"]) == 36
