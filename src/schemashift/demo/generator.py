"""A stream of realistic events with scheduled drift, for ``make run``, demos and benchmarks.

Four event types of an online shop (``shop/order.created``, ``web/page.clicked``,
``identity/user.signed_up``, ``billing/payment.succeeded``), 0.2–5 KB each, with optional
fields, nested arrays, ISO timestamps, UUIDs, e-mails, URIs, a small status vocabulary and
a free-form ``properties`` map whose keys vary from event to event, and a payment method
whose fields depend on its ``type`` (a tagged union).

Drift happens by *position* in the stream (a fraction of ``count``), so whoever consumes
the stream sees, in order (defaults of :class:`DriftSchedule`):

* ~30 %: a new optional field — orders gain ``gift_message``, clicks gain ``viewport``;
* ~55 %: a widening — order ``line_items/*/quantity`` becomes fractional (integer → number);
* ~80 %: a forbidden change — payments send ``amount`` as a string and signups stop
  sending the required ``email``. (Under the default BACKWARD policy the registry would
  accept both as a union / an optional field; ``make run`` forbids them by configuring
  payments FULL and a consumer of the signups' ``email``: see
  ``schemashift.server.demo_producer.prepare_demo``.)

All randomness comes from the ``random.Random`` passed in, and timestamps advance from a
fixed epoch by position, so a seed reproduces the stream exactly.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

SUBJECTS: tuple[str, ...] = (
    "shop/order.created",
    "web/page.clicked",
    "identity/user.signed_up",
    "billing/payment.succeeded",
)
_WEIGHTS = (0.3, 0.35, 0.15, 0.2)
_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
_COUNTRIES = ("DE", "FR", "US", "GB", "NL", "ES", "IT", "SE", "PL", "JP")
_CURRENCIES = ("EUR", "USD", "GBP")
_STATUSES = ("pending", "confirmed", "paid", "shipped")
_CHANNELS = ("web", "ios", "android", "store")
_PAGES = ("/", "/search", "/cart", "/checkout", "/p/{sku}", "/c/{category}", "/account")
_CATEGORIES = ("shoes", "shirts", "outdoor", "kitchen", "toys", "books", "garden")
_BROWSERS = ("firefox", "chrome", "safari", "edge")
_WORDS = ("red", "blue", "wool", "cotton", "classic", "pro", "mini", "max", "eco", "retro")
_SYLLABLES = ("an", "be", "ka", "lo", "mi", "ra", "so", "ti", "vu", "el", "jo", "na", "de", "ri")
_PROPERTY_KEYS = ("utm_source", "utm_medium", "utm_campaign", "referrer", "ab_bucket", "locale")


@dataclass(frozen=True, slots=True)
class DriftSchedule:
    """Where each drift starts, as a fraction of the stream (``None`` disables it)."""

    new_optional_field: float | None = 0.30
    type_widening: float | None = 0.55
    forbidden_change: float | None = 0.80

    @classmethod
    def none(cls) -> DriftSchedule:
        return cls(None, None, None)


@dataclass(frozen=True, slots=True)
class _Phase:
    new_field: bool
    widened: bool
    broken: bool


def _phase(schedule: DriftSchedule, position: float) -> _Phase:
    def on(start: float | None) -> bool:
        return start is not None and position >= start

    return _Phase(
        on(schedule.new_optional_field), on(schedule.type_widening), on(schedule.forbidden_change)
    )


def generate(
    rng: random.Random, count: int, *, drift: DriftSchedule | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``count`` pairs of (subject, payload), drifting per ``drift`` (defaults apply)."""
    schedule = drift if drift is not None else DriftSchedule()
    makers = {
        "shop/order.created": _order,
        "web/page.clicked": _click,
        "identity/user.signed_up": _signup,
        "billing/payment.succeeded": _payment,
    }
    for index in range(count):
        phase = _phase(schedule, index / count)
        subject = rng.choices(SUBJECTS, _WEIGHTS)[0]
        when = _EPOCH + timedelta(seconds=index * 7, microseconds=rng.randrange(1_000_000))
        yield subject, makers[subject](rng, when, phase)


def to_cloudevent(
    subject: str, payload: dict[str, Any], rng: random.Random, *, time: datetime | None = None
) -> dict[str, Any]:
    """Wrap a generated payload as a structured-mode CloudEvent 1.0 dict."""
    source, _, event_type = subject.partition("/")
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": _uuid(rng),
        "source": source,
        "type": event_type,
        "datacontenttype": "application/json",
        "data": payload,
    }
    if time is not None:
        event["time"] = _stamp(time)
    return event


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[rng.randrange(4)]}{h[17:20]}-{h[20:]}"


def _stamp(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _email(rng: random.Random) -> str:
    name = f"{rng.choice(_WORDS)}.{rng.choice(_WORDS)}{rng.randrange(1000)}"
    return f"{name}@{rng.choice(('example.com', 'mail.example.org', 'shop.test'))}"


def _person_name(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randrange(2, 4))).title()


def _payment_method(rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(("card", "card", "sepa_debit", "paypal"))
    if kind == "card":
        return {
            "type": "card",
            "brand": rng.choice(("visa", "mastercard", "amex")),
            "last4": f"{rng.randrange(10000):04d}",
            "exp_month": rng.randrange(1, 13),
            "exp_year": rng.randrange(2026, 2032),
        }
    if kind == "sepa_debit":
        return {
            "type": "sepa_debit",
            "iban_last4": f"{rng.randrange(10000):04d}",
            "mandate_id": f"md_{rng.getrandbits(40):010x}",
        }
    return {"type": "paypal", "payer_email": _email(rng)}


def _properties(rng: random.Random) -> dict[str, str]:
    keys = rng.sample(_PROPERTY_KEYS, rng.randrange(0, 4))
    # Free-form keys that rarely repeat: experiment flags, campaign ids.
    keys += [f"exp_{rng.randrange(10_000)}" for _ in range(rng.randrange(0, 3))]
    return {k: rng.choice((*_WORDS, "google", "newsletter", "b")) for k in keys}


def _address(rng: random.Random) -> dict[str, Any]:
    address: dict[str, Any] = {
        "line1": f"{rng.randrange(1, 300)} {rng.choice(_WORDS).title()} Street",
        "city": rng.choice(("Berlin", "Paris", "Austin", "Leeds", "Utrecht", "Osaka")),
        "postal_code": f"{rng.randrange(10000, 99999)}",
        "country": rng.choice(_COUNTRIES),
    }
    if rng.random() < 0.3:
        address["line2"] = f"Apt {rng.randrange(1, 80)}"
    return address


def _order(rng: random.Random, when: datetime, phase: _Phase) -> dict[str, Any]:
    items = []
    for _ in range(rng.randrange(1, 13)):
        quantity: int | float = rng.randrange(1, 5)
        if phase.widened and rng.random() < 0.3:
            quantity = rng.randrange(1, 20) / 4
        item: dict[str, Any] = {
            "sku": f"SKU-{rng.randrange(100000):05d}",
            "name": f"{rng.choice(_WORDS).title()} {rng.choice(_CATEGORIES)[:-1]}",
            "quantity": quantity,
            "unit_price": round(rng.uniform(2, 250), 2),
            "category": rng.choice(_CATEGORIES),
            "tags": rng.sample(_WORDS, rng.randrange(0, 4)),
        }
        if rng.random() < 0.2:
            item["discount"] = {
                "code": f"SAVE{rng.randrange(5, 50)}",
                "percent": rng.randrange(5, 50),
            }
        items.append(item)
    order: dict[str, Any] = {
        "order_id": _uuid(rng),
        "customer_id": rng.randrange(1, 10**12),
        "status": rng.choice(_STATUSES),
        "channel": rng.choice(_CHANNELS),
        "created_at": _stamp(when),
        "currency": rng.choice(_CURRENCIES),
        "total": round(sum(i["quantity"] * i["unit_price"] for i in items), 2),
        "line_items": items,
        "billing_address": _address(rng),
        "properties": _properties(rng),
    }
    if rng.random() < 0.7:
        order["shipping"] = {
            "method": rng.choice(("standard", "express", "pickup")),
            "address": _address(rng),
            "eta": (when + timedelta(days=rng.randrange(1, 8))).date().isoformat(),
        }
    if rng.random() < 0.25:
        order["coupon"] = None if rng.random() < 0.5 else f"WELCOME{rng.randrange(100)}"
    if phase.new_field and rng.random() < 0.4:
        order["gift_message"] = f"Happy birthday, {rng.choice(_WORDS)}!"
    return order


def _click(rng: random.Random, when: datetime, phase: _Phase) -> dict[str, Any]:
    page = rng.choice(_PAGES).format(
        sku=f"SKU-{rng.randrange(100000):05d}", category=rng.choice(_CATEGORIES)
    )
    click: dict[str, Any] = {
        "session_id": _uuid(rng),
        "user_id": rng.randrange(1, 10**6) if rng.random() < 0.6 else None,
        "url": f"https://shop.example.com{page}",
        "element": rng.choice(("button", "link", "image", "card")),
        "browser": rng.choice(_BROWSERS),
        "user_agent": f"Mozilla/5.0 ({rng.choice(('X11; Linux x86_64', 'Macintosh', 'Windows NT 10.0'))})"
        f" {rng.choice(_BROWSERS).title()}/{rng.randrange(90, 130)}.0",
        "ip": ".".join(str(rng.randrange(1, 255)) for _ in range(4)),
        "occurred_at": _stamp(when),
        "position": [rng.randrange(0, 1920), rng.randrange(0, 1080)],
        "properties": _properties(rng),
    }
    if rng.random() < 0.4:
        click["referrer"] = rng.choice(("https://www.google.com/", "https://news.example.org/a"))
    if phase.new_field and rng.random() < 0.5:
        click["viewport"] = {
            "width": rng.choice((390, 768, 1440)),
            "height": rng.choice((844, 1024, 900)),
        }
    return click


def _signup(rng: random.Random, when: datetime, phase: _Phase) -> dict[str, Any]:
    user: dict[str, Any] = {
        "user_id": rng.randrange(1, 10**6),
        "email": _email(rng),
        "name": {"first": _person_name(rng), "last": _person_name(rng)},
        "signed_up_at": _stamp(when),
        "country": rng.choice(_COUNTRIES),
        "marketing_opt_in": rng.random() < 0.4,
        "plan": rng.choice(("free", "plus", "pro")),
        "device": {
            "platform": rng.choice(_CHANNELS),
            "app_version": f"{rng.randrange(1, 5)}.{rng.randrange(20)}.{rng.randrange(10)}",
            "locale": rng.choice(("de-DE", "en-US", "en-GB", "fr-FR", "ja-JP")),
        },
        "properties": _properties(rng),
    }
    if rng.random() < 0.5:
        user["birth_date"] = (
            f"{rng.randrange(1950, 2006)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        )
    if rng.random() < 0.3:
        user["referral"] = {
            "code": f"REF{rng.randrange(10**6)}",
            "referrer_id": rng.randrange(1, 10**6),
        }
    if phase.broken:
        del user["email"]
    return user


def _payment(rng: random.Random, when: datetime, phase: _Phase) -> dict[str, Any]:
    cents = rng.randrange(100, 500_000)
    payment: dict[str, Any] = {
        "payment_id": f"pay_{rng.getrandbits(64):016x}",
        "order_id": _uuid(rng),
        "amount": f"{cents / 100:.2f}" if phase.broken else cents,
        "currency": rng.choice(_CURRENCIES),
        "method": _payment_method(rng),
        "captured": True,
        "captured_at": _stamp(when),
        "risk": {"score": rng.randrange(0, 100), "level": rng.choice(("normal", "elevated"))},
        "metadata": _properties(rng),
    }
    if rng.random() < 0.1:
        payment["refunds"] = [
            {"refund_id": f"re_{rng.getrandbits(48):012x}", "amount": rng.randrange(100, cents + 1)}
        ]
    return payment
