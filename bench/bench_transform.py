"""Transformer throughput against its anchors, measured in one run on the same events.

    python bench/bench_transform.py [--quick] [--events N] [--seconds S]

Prints events/s for: orjson parse, orjson parse+dump, msgspec typed decode+encode, pydantic
validate+dump, orjson + jsonschema-rs validate + a nested transform + dump, the jsonschema
library (small sample), schemashift's steady state (raw bytes of a known shape in, conformed
bytes out), schemashift on payloads that need coercions and defaults, and on real corpus
payloads when ../shared/corpus exists; then the ratios against the targets of issue 5.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import jsonschema
import jsonschema_rs
import msgspec
import orjson
from pydantic import BaseModel, ConfigDict, Field

from schemashift.core.transform import TransformOptions, compile_transformer

PYDANTIC = "pydantic validate+dump"
ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"

ADDRESS = {
    "type": "object",
    "properties": {
        "street": {"type": "string"},
        "city": {"type": "string"},
        "postal_code": {"type": "string"},
        "country": {"type": "string", "minLength": 2, "maxLength": 2},
    },
    "required": ["street", "city", "postal_code", "country"],
}
LINE = {
    "type": "object",
    "properties": {
        "sku": {"type": "string", "pattern": "^SKU-[0-9]+$"},
        "name": {"type": "string"},
        "quantity": {"type": "integer", "minimum": 1},
        "unit_price": {"type": "number", "minimum": 0},
        "discount": {"type": "number", "minimum": 0, "default": 0},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["sku", "name", "quantity", "unit_price", "tags"],
}
ORDER_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "order_id": {"type": "string"},
        "status": {"enum": ["placed", "paid", "shipped", "delivered", "cancelled"]},
        "created_at": {"type": "string", "format": "date-time"},
        "customer": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "email": {"type": "string"},
                "vip": {"type": "boolean", "default": False},
                "shipping_address": ADDRESS,
                "billing_address": ADDRESS,
            },
            "required": ["id", "name", "email", "shipping_address", "billing_address"],
        },
        "lines": {"type": "array", "items": LINE, "minItems": 1},
        "totals": {
            "type": "object",
            "properties": {
                "subtotal": {"type": "number"},
                "tax": {"type": "number"},
                "shipping": {"type": "number"},
                "total": {"type": "number"},
                "currency": {"type": "string", "minLength": 3, "maxLength": 3},
            },
            "required": ["subtotal", "tax", "shipping", "total", "currency"],
        },
        "coupon": {"type": ["string", "null"]},
        "gift": {"type": "boolean", "default": False},
        "notes": {"type": ["string", "null"]},
    },
    "required": ["order_id", "status", "created_at", "customer", "lines", "totals", "coupon"],
}


def order_events(count: int, seed: int = 5) -> list[dict[str, Any]]:
    """Deterministic ~1.7 KB order events that conform to ORDER_SCHEMA."""
    rng = random.Random(seed)
    words = ["alpha", "bravo", "cobalt", "delta", "ember", "fjord", "garnet", "harbor"]
    cities = ["Lisbon", "Utrecht", "Tampere", "Gdansk", "Bilbao", "Graz"]

    def address() -> dict[str, Any]:
        return {
            "street": f"{rng.randint(1, 999)} {rng.choice(words).title()} Street",
            "city": rng.choice(cities),
            "postal_code": f"{rng.randint(10000, 99999)}",
            "country": rng.choice(["PT", "NL", "FI", "PL", "ES", "AT"]),
        }

    events = []
    for n in range(count):
        lines = [
            {
                "sku": f"SKU-{rng.randint(1000, 99999)}",
                "name": " ".join(rng.choice(words) for _ in range(3)),
                "quantity": rng.randint(1, 5),
                "unit_price": round(rng.uniform(1, 300), 2),
                "discount": round(rng.uniform(0, 5), 2),
                "tags": [rng.choice(words) for _ in range(3)],
            }
            for _ in range(8)
        ]
        subtotal = round(sum(line["quantity"] * line["unit_price"] for line in lines), 2)
        events.append(
            {
                "order_id": f"ord_{n:08d}_{rng.getrandbits(40):010x}",
                "status": rng.choice(["placed", "paid", "shipped"]),
                "created_at": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
                f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z",
                "customer": {
                    "id": rng.randint(1, 10**9),
                    "name": f"{rng.choice(words).title()} {rng.choice(words).title()}",
                    "email": f"{rng.choice(words)}.{n}@example.com",
                    "vip": rng.random() < 0.1,
                    "shipping_address": address(),
                    "billing_address": address(),
                },
                "lines": lines,
                "totals": {
                    "subtotal": subtotal,
                    "tax": round(subtotal * 0.2, 2),
                    "shipping": 4.99,
                    "total": round(subtotal * 1.2 + 4.99, 2),
                    "currency": "EUR",
                },
                "coupon": None if rng.random() < 0.7 else f"SAVE{rng.randint(5, 30)}",
                "gift": False,
                "notes": None,
            }
        )
    return events


def without_defaults(event: dict[str, Any]) -> dict[str, Any]:
    """The event with every field that has a schema default left out (10 of them)."""
    out = json.loads(json.dumps(event))
    del out["customer"]["vip"]
    del out["gift"]
    for line in out["lines"]:
        del line["discount"]
    return out


def lightly_untidy(event: dict[str, Any], index: int) -> dict[str, Any]:
    """Defaults left out, the customer id as a string and the time as epoch seconds."""
    out = without_defaults(event)
    out["customer"]["id"] = str(out["customer"]["id"])
    out["created_at"] = 1_780_000_000 + index
    return out


def needing_work(event: dict[str, Any], index: int) -> dict[str, Any]:
    """The same event as a very untidy producer sends it: 19 values as strings or epoch."""
    out = json.loads(json.dumps(event))
    out["customer"]["id"] = str(out["customer"]["id"])
    del out["customer"]["vip"]
    del out["gift"]
    out["created_at"] = 1_780_000_000 + index
    for line in out["lines"]:
        line["quantity"] = str(line["quantity"])
        line["unit_price"] = str(line["unit_price"])
        del line["discount"]
    out["totals"]["shipping"] = "4.99"
    return out


# --- anchors -----------------------------------------------------------------------------


# The typed anchors check what ORDER_SCHEMA checks (pattern, bounds, lengths, enum), so every
# figure does the same validation work; without it the anchors would do less than the job.
Sku = Annotated[str, msgspec.Meta(pattern="^SKU-[0-9]+$")]
Country = Annotated[str, msgspec.Meta(min_length=2, max_length=2)]
Currency = Annotated[str, msgspec.Meta(min_length=3, max_length=3)]
Quantity = Annotated[int, msgspec.Meta(ge=1)]
Money = Annotated[float, msgspec.Meta(ge=0)]
Status = Literal["placed", "paid", "shipped", "delivered", "cancelled"]


class Address(msgspec.Struct):
    street: str
    city: str
    postal_code: str
    country: Country


class Line(msgspec.Struct):
    sku: Sku
    name: str
    quantity: Quantity
    unit_price: Money
    tags: list[str]
    discount: Money = 0.0


class Customer(msgspec.Struct):
    id: int
    name: str
    email: str
    shipping_address: Address
    billing_address: Address
    vip: bool = False


class Totals(msgspec.Struct):
    subtotal: float
    tax: float
    shipping: float
    total: float
    currency: Currency


class Order(msgspec.Struct):
    order_id: str
    status: Status
    created_at: str
    customer: Customer
    lines: Annotated[list[Line], msgspec.Meta(min_length=1)]
    totals: Totals
    coupon: str | None
    gift: bool = False
    notes: str | None = None


class PAddress(BaseModel):
    street: str
    city: str
    postal_code: str
    country: str = Field(min_length=2, max_length=2)


class PLine(BaseModel):
    sku: str = Field(pattern="^SKU-[0-9]+$")
    name: str
    quantity: int = Field(ge=1)
    unit_price: float = Field(ge=0)
    discount: float = Field(default=0, ge=0)
    tags: list[str]


class PCustomer(BaseModel):
    id: int
    name: str
    email: str
    vip: bool = False
    shipping_address: PAddress
    billing_address: PAddress


class PTotals(BaseModel):
    subtotal: float
    tax: float
    shipping: float
    total: float
    currency: str = Field(min_length=3, max_length=3)


class POrder(BaseModel):
    model_config = ConfigDict(extra="allow")
    order_id: str
    status: Status
    created_at: str
    customer: PCustomer
    lines: list[PLine] = Field(min_length=1)
    totals: PTotals
    coupon: str | None
    gift: bool = False
    notes: str | None = None


def nested_copy(value: Any) -> Any:
    """The 'transform' of the jsonschema-rs anchor: a recursive copy plus metadata."""
    if isinstance(value, dict):
        return {k: nested_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [nested_copy(v) for v in value]
    return value


# --- measurement -------------------------------------------------------------------------


Figure = tuple[str, Callable[[bytes], Any], Sequence[bytes]]


def measure(figures: Sequence[Figure], seconds: float, rounds: int = 20) -> dict[str, list[float]]:
    """Events per second of each figure in each of ``rounds`` interleaved windows.

    Interleaving matters on a shared machine: a burst of load from another process then
    slows every figure's window in that round alike, so per-round ratios stay meaningful.
    """
    rates: dict[str, list[float]] = {name: [] for name, _, _ in figures}
    window = seconds / rounds
    for _ in range(rounds):
        for name, work, payloads in figures:
            done = 0
            start = time.perf_counter()
            deadline = start + window
            while True:
                for raw in payloads:
                    work(raw)
                done += len(payloads)
                now = time.perf_counter()
                if now >= deadline:
                    break
            rates[name].append(done / (now - start))
    return rates


def ratio(rates: dict[str, list[float]], name: str, anchor: str) -> float:
    """The median over rounds of the per-round ratio (robust to load that moves over time)."""
    return statistics.median(a / b for a, b in zip(rates[name], rates[anchor], strict=True))


def corpus_payloads(limit_files: int | None) -> list[tuple[dict[str, Any], list[bytes]]]:
    """(schema inferred from the file, its payloads) for each corpus file."""
    if not CORPUS.is_dir():
        return []
    from schemashift.core.jsonparse import loads_object

    try:
        from schemashift.core.infer import infer as infer_schema  # type: ignore[attr-defined]
    except ImportError:
        from genson import SchemaBuilder

        def infer_schema(payloads: Any) -> dict[str, Any]:
            builder = SchemaBuilder()
            for payload in payloads:
                builder.add_object(payload)
            schema: dict[str, Any] = builder.to_schema()
            return schema

    files = sorted(p for p in CORPUS.glob("*/*.jsonl") if p.parent.name != "provenance")
    out = []
    for path in files[:limit_files]:
        lines = [line for line in path.read_bytes().splitlines() if line.strip()]
        payloads = [loads_object(line) for line in lines]
        out.append((infer_schema(payloads), [msgspec.json.encode(p) for p in payloads]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter windows (~15 s in total)")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=None, help="seconds per measurement")
    args = parser.parse_args(argv)
    seconds = args.seconds if args.seconds is not None else (0.6 if args.quick else 2.4)

    events = order_events(args.events)
    raws = [orjson.dumps(e) for e in events]
    untidy = [orjson.dumps(needing_work(e, i)) for i, e in enumerate(events)]
    light = [orjson.dumps(lightly_untidy(e, i)) for i, e in enumerate(events)]
    bare = [orjson.dumps(without_defaults(e)) for e in events]
    size = sum(map(len, raws)) / len(raws)
    print(f"{len(raws)} order events, {size:,.0f} bytes on average; {seconds:.1f} s a figure\n")

    transformer = compile_transformer(ORDER_SCHEMA, version=1, subject="shop/orders")
    python_only = compile_transformer(
        ORDER_SCHEMA, version=1, options=TransformOptions(typed_fast_path=False)
    )
    assert transformer.has_fast_path
    for raw in untidy[:50] + raws[:50] + light[:50] + bare[:50]:
        assert isinstance(transformer.transform_bytes(raw), bytes), "bench events must conform"

    order_decoder = msgspec.json.Decoder(Order)
    rs_validator = jsonschema_rs.validator_for(ORDER_SCHEMA)
    py_validator = jsonschema.Draft202012Validator(ORDER_SCHEMA)

    def rs_transform(raw: bytes) -> bytes:
        value = orjson.loads(raw)
        rs_validator.validate(value)
        out = nested_copy(value)
        out["schemaVersion"] = 1
        return orjson.dumps(out)

    def py_jsonschema(raw: bytes) -> bytes:
        value = orjson.loads(raw)
        py_validator.validate(value)
        return orjson.dumps(value)

    figures: list[Figure] = [
        ("orjson parse", orjson.loads, raws),
        ("orjson parse+dump", lambda r: orjson.dumps(orjson.loads(r)), raws),
        (
            "msgspec typed decode+encode",
            lambda r: msgspec.json.encode(order_decoder.decode(r)),
            raws,
        ),
        (PYDANTIC, lambda r: POrder.model_validate_json(r).model_dump_json(), raws),
        ("orjson+jsonschema-rs+transform+dump", rs_transform, raws),
        ("jsonschema (sample)", py_jsonschema, raws[:20]),
        ("schemashift steady state", transformer.transform_bytes, raws),
        ("schemashift defaults only", transformer.transform_bytes, bare),
        ("schemashift 2 coercions+defaults", transformer.transform_bytes, light),
        ("schemashift 19 coercions+defaults", transformer.transform_bytes, untidy),
        ("schemashift Python path (no C)", python_only.transform_bytes, raws),
    ]
    rates = measure(figures, seconds)
    for name, _, _ in figures:
        best = max(rates[name])
        print(f"{name:<40} {best:>12,.0f} events/s", flush=True)

    corpus = corpus_payloads(None if not args.quick else 20)
    if corpus:
        all_raw = [raw for _, payloads in corpus for raw in payloads]
        pairs = [(compile_transformer(s, version=1), p) for s, p in corpus]
        fast = sum(t.has_fast_path for t, _ in pairs)

        def corpus_pass(_: bytes) -> None:
            for t, payloads in pairs:
                for raw in payloads:
                    t.transform_bytes(raw)

        def corpus_orjson(_: bytes) -> None:
            for raw in all_raw:
                orjson.dumps(orjson.loads(raw))

        n = len(all_raw)
        corpus_rates = measure(
            [("orjson", corpus_orjson, [b""]), ("schemashift", corpus_pass, [b""])],
            seconds,
            rounds=6,
        )
        print(
            f"{'corpus orjson parse+dump':<40} {max(corpus_rates['orjson']) * n:>12,.0f} "
            f"events/s ({n} payloads, {len(pairs)} files)"
        )
        print(
            f"{'corpus schemashift (own inferred schema)':<40} "
            f"{max(corpus_rates['schemashift']) * n:>12,.0f} events/s "
            f"({fast}/{len(pairs)} schemas on the typed path; "
            f"{ratio(corpus_rates, 'schemashift', 'orjson'):.2f}x orjson parse+dump)"
        )

    print("\nratios against the targets (issue 5), median of per-round ratios")
    checks = [
        ("steady / orjson parse+dump", "schemashift steady state", "orjson parse+dump", 0.5),
        ("steady / pydantic validate+dump", "schemashift steady state", PYDANTIC, 2.0),
        ("defaults only / pydantic", "schemashift defaults only", PYDANTIC, 1.0),
        ("2 coercions + defaults / pydantic", "schemashift 2 coercions+defaults", PYDANTIC, 1.0),
        ("19 coercions + defaults / pydantic", "schemashift 19 coercions+defaults", PYDANTIC, 1.0),
    ]
    for label, name, anchor, target in checks:
        value = ratio(rates, name, anchor)
        verdict = "met" if value >= target else "MISSED"
        print(f"  {label:<36} {value:5.2f}x  (target >= {target}x: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
