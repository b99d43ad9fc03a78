"""JSON Schema → Avro export: every output parses with fastavro and keeps the structure."""

from __future__ import annotations

import random
from typing import Any

import fastavro
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemashift.core.avro import avro_name, to_avro
from schemashift.core.infer import infer
from schemashift.demo import SUBJECTS, generate


def fields_of(record: dict[str, Any]) -> dict[str, Any]:
    return {f["name"]: f for f in record["fields"]}


def test_record_fields_required_and_optional() -> None:
    """Required properties are plain fields; optional ones are null unions defaulting to null."""
    schema = infer([{"id": 1, "name": "a", "score": 1.5}, {"id": 2, "score": 2}])
    avro = to_avro(schema, "User")
    fastavro.parse_schema(avro)
    fields = fields_of(avro)
    assert avro["type"] == "record" and avro["name"] == "User"
    assert fields["id"]["type"] == "long"
    assert fields["score"]["type"] == "double"
    assert fields["name"]["type"] == ["null", "string"] and fields["name"]["default"] is None


def test_maps_arrays_enums_and_uuids() -> None:
    """Maps, arrays, enums and uuid strings get their Avro counterparts."""
    payloads = [
        {
            "metadata": {f"k{i}": "v"},
            "tags": ["a", "b"],
            "status": ("open", "closed")[i % 2],
            "id": "0f8fad5b-d9cb-469f-a165-70867728950e",
        }
        for i in range(30)
    ]
    avro = to_avro(infer(payloads), "Thing")
    fastavro.parse_schema(avro)
    fields = fields_of(avro)
    assert fields["metadata"]["type"] == {"type": "map", "values": "string"}
    assert fields["tags"]["type"]["type"] == "array"
    assert fields["status"]["type"]["type"] == "enum"
    assert fields["status"]["type"]["symbols"] == ["closed", "open"]
    assert fields["id"]["type"] == {"type": "string", "logicalType": "uuid"}


def test_invalid_names_are_rewritten_and_remembered() -> None:
    """Keys Avro cannot spell become valid names; the JSON name is kept in json_name."""
    avro = to_avro(infer([{"content-type": "x", "1st": 1, "@id": "y"}]), "my.event")
    fastavro.parse_schema(avro)
    names = {f["name"]: f.get("json_name") for f in avro["fields"]}
    assert names == {"content_type": "content-type", "_1st": "1st", "_id": "@id"}
    assert avro_name("shop/order.created") == "shop_order_created"


def test_unions_are_flattened_with_one_branch_per_kind() -> None:
    """object|string|null becomes one flat union, null first, nested records named uniquely."""
    schema = infer([{"r": {"id": 1}}, {"r": "x"}, {"r": None}, {"s": {"r": {"id": 2}}}])
    avro = to_avro(schema, "E")
    fastavro.parse_schema(avro)
    union = fields_of(avro)["r"]["type"]
    assert union[0] == "null"
    assert "string" in union
    assert any(isinstance(b, dict) and b["type"] == "record" for b in union)


def test_tagged_unions_export_as_the_flat_record() -> None:
    """A oneOf over a discriminator exports as the flat record (Avro has no per-branch required)."""
    payloads = [
        {"type": t, "n": i, **({"a": 1, "b": 2} if t == "x" else {"c": 3, "d": 4})}
        for i, t in enumerate(["x", "y"] * 10)
    ]
    schema = infer(payloads)
    assert "oneOf" in schema
    avro = to_avro(schema, "Tagged")
    fastavro.parse_schema(avro)
    assert set(fields_of(avro)) == {"type", "n", "a", "b", "c", "d"}


@pytest.mark.parametrize("subject", SUBJECTS)
def test_generated_events_validate_against_their_avro_export(subject: str) -> None:
    """Every generated event (drift included) validates against the exported Avro schema."""
    payloads = [p for s, p in generate(random.Random(3), 1200) if s == subject]
    parsed = fastavro.parse_schema(to_avro(infer(payloads), "Event"))
    invalid = [p for p in payloads if not fastavro.validate(p, parsed, raise_errors=False)]
    assert not invalid


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=4)),
    lambda c: st.one_of(
        st.lists(c, max_size=3), st.dictionaries(st.text(max_size=4), c, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.dictionaries(st.text(max_size=5), json_values, max_size=4), min_size=1, max_size=6)
)
def test_any_inferred_schema_exports_to_a_valid_avro_schema(payloads: list[dict[str, Any]]) -> None:
    """Whatever was inferred, fastavro.parse_schema accepts the export."""
    fastavro.parse_schema(to_avro(infer(payloads), "Any"))


@pytest.mark.parametrize("schema", [{}, {"type": "string"}, {"type": ["integer", "null"]}])
def test_non_object_roots_are_wrapped_in_a_record(schema: dict[str, Any]) -> None:
    """Avro needs a named top level: other roots become a one-field record."""
    avro = to_avro(schema, "Root")
    fastavro.parse_schema(avro)
    assert avro["type"] == "record" and avro["fields"][0]["name"] == "value"
