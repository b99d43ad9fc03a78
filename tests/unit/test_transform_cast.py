"""Casting between versions, the Confluent wire format, dataschema URLs and the cache."""

from __future__ import annotations

from typing import Any

import pytest

from schemashift.core.transform import (
    Conformed,
    Rejected,
    TransformerCache,
    TransformOptions,
    cast,
    dataschema_url,
    decode_confluent,
    encode_confluent,
)
from schemashift.core.transform.cast import move
from schemashift.errors import PayloadError


def obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or []}


LINE_V1 = obj({"sku": {"type": "string"}, "qty": {"type": "integer"}})
LINE_V2 = obj({"product_code": {"type": "string"}, "qty": {"type": "integer"}})
VERSIONS: dict[int, dict[str, Any]] = {
    1: obj(
        {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "lines": {"type": "array", "items": LINE_V1},
        },
        ["id"],
    ),
    2: obj(
        {
            "id": {"type": "integer"},
            "full_name": {"type": "string"},
            "lines": {"type": "array", "items": LINE_V2},
            "channel": {"type": "string", "default": "web"},
        },
        ["id"],
    ),
    3: obj(
        {
            "id": {"type": "string"},
            "full_name": {"type": "string"},
            "lines": {"type": "array", "items": LINE_V2},
            "channel": {"type": "string", "default": "web"},
        },
        ["id"],
    ),
}
ALIASES = {2: {"/name": "/full_name", "/lines/*/sku": "/lines/*/product_code"}}
V1_EVENT = {"id": 7, "name": "Ada", "lines": [{"sku": "A-1", "qty": 2}, {"sku": "B-2", "qty": 1}]}


def cast_ok(payload: Any, a: int, b: int, **kwargs: Any) -> dict[str, Any]:
    result = cast(
        payload, from_version=a, to_version=b, versions=VERSIONS, aliases=ALIASES, **kwargs
    )
    assert isinstance(result, Conformed), result
    assert result.version == b
    return result.payload


def test_up_cast_applies_renames_and_defaults() -> None:
    """v1 -> v2 renames name and each line's sku, and fills v2's default."""
    assert cast_ok(V1_EVENT, 1, 2) == {
        "id": 7,
        "full_name": "Ada",
        "lines": [{"product_code": "A-1", "qty": 2}, {"product_code": "B-2", "qty": 1}],
        "channel": "web",
        "schemaVersion": 2,
    }


def test_cast_passes_through_intermediate_versions() -> None:
    """v1 -> v3 goes through v2 (renames) then v3 (id becomes a string by coercion)."""
    out = cast_ok(V1_EVENT, 1, 3)
    assert out["id"] == "7" and out["full_name"] == "Ada" and out["schemaVersion"] == 3


def test_round_trip_up_and_down_restores_the_event() -> None:
    """v1 -> v2 -> v1 gives the v1 event back: nothing in it was removed by v2."""
    up = cast_ok(V1_EVENT, 1, 2)
    down = cast_ok(up, 2, 1)
    assert down == {**V1_EVENT, "schemaVersion": 1}


def test_down_cast_gives_the_old_shape() -> None:
    """A v3 event cast to v1 has v1's fields only: renamed back, new fields dropped."""
    v3 = {"id": "9", "full_name": "Bo", "channel": "app", "lines": []}
    assert cast_ok(v3, 3, 1) == {"id": 9, "name": "Bo", "lines": [], "schemaVersion": 1}


def test_cast_rejects_what_cannot_be_made_valid() -> None:
    """A v3 id that is no integer cannot become a v2 id: a rejection, not an exception."""
    result = cast({"id": "x"}, from_version=3, to_version=1, versions=VERSIONS)
    assert isinstance(result, Rejected) and result.reasons[0].path == "/id"


def test_cast_needs_every_version_between() -> None:
    """A gap in the versions is misuse and raises."""
    with pytest.raises(ValueError, match="no schema"):
        cast(V1_EVENT, from_version=1, to_version=3, versions={1: VERSIONS[1], 3: VERSIONS[3]})


def test_cast_uses_the_cache_and_final_options() -> None:
    """With a cache each step compiles once; the caller's options shape the last step."""
    cache = TransformerCache()
    for _ in range(3):
        cast_ok(V1_EVENT, 1, 3, cache=cache)
    assert cache.misses == 2 and cache.hits == 4
    out = cast_ok(V1_EVENT, 1, 2, options=TransformOptions(version_field="v"))
    assert out["v"] == 2 and "schemaVersion" not in out


def test_move_keeps_an_existing_target() -> None:
    """A rename never overwrites a value already present at the new path."""
    doc: dict[str, Any] = {"a": 1, "b": 2, "x": {"y": 3}}
    move(doc, "/a", "/b")
    move(doc, "/x/y", "/z/w")
    assert doc == {"b": 2, "x": {}, "z": {"w": 3}}
    with pytest.raises(ValueError, match="shared leading"):
        move(doc, "/a/*", "/b")


def test_confluent_wire_format_round_trips() -> None:
    """0x00 + 4-byte big-endian id + JSON, and back; a bad frame is a PayloadError with a code."""
    frame = encode_confluent(258, b'{"a":1}')
    assert frame == b'\x00\x00\x00\x01\x02{"a":1}'
    assert decode_confluent(frame) == (258, b'{"a":1}')
    with pytest.raises(PayloadError) as short:
        decode_confluent(b"\x00\x00")
    assert short.value.code == "frame_too_short"
    with pytest.raises(PayloadError) as magic:
        decode_confluent(b"\x01\x00\x00\x00\x01{}")
    assert magic.value.code == "frame_bad_magic"
    with pytest.raises(ValueError, match="4 unsigned bytes"):
        encode_confluent(2**32, b"{}")


def test_dataschema_url_points_at_the_registry_version() -> None:
    """CloudEvents dataschema = <registry>/subjects/<subject>/versions/<n>/schema, subject escaped."""
    assert (
        dataschema_url("http://127.0.0.1:8081/", "github/push", 3)
        == "http://127.0.0.1:8081/subjects/github%2Fpush/versions/3/schema"
    )
    with pytest.raises(ValueError, match="start at 1"):
        dataschema_url("http://r", "s", 0)


def test_cache_keys_on_fingerprint_and_options_and_evicts() -> None:
    """Equal schemas (any key order) share an entry; other options compile anew; LRU eviction."""
    cache = TransformerCache(max_entries=2)
    a = cache.get({"type": "object", "properties": {}}, version=1)
    b = cache.get({"properties": {}, "type": "object"}, version=1)
    assert a is b and cache.hits == 1
    c = cache.get({"type": "object"}, version=1, options=TransformOptions(version_field=None))
    assert c is not a
    cache.get({"type": "object", "required": []}, version=1)
    assert len(cache) == 2
    assert cache.get({"type": "object", "properties": {}}, version=1) is not a  # evicted
    with pytest.raises(ValueError, match="at least 1"):
        TransformerCache(max_entries=0)
