"""A bounded fuzz run over ingestion → inference → transform: no crash, sound results.

Inputs are JSON documents drawn by Hypothesis (deep nesting, huge integers, any Unicode,
odd keys) and byte-level mutations of them (flipped, inserted and dropped bytes). For each:

* strict parsing either refuses with a :class:`PayloadError` or yields a value — nothing else;
* an accepted object is profiled, its inferred schema passes the registry's schema check,
  and the transformer compiled from it conforms the very payload it was learnt from;
* that transformer, given any other payload (decoded or as raw bytes), answers Conformed or
  Rejected and never raises.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemashift.core.jsonparse import loads_object
from schemashift.core.profile import Profile
from schemashift.core.schema import check_schema
from schemashift.core.transform import Conformed, Rejected, compile_transformer
from schemashift.errors import PayloadError

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
keys = st.one_of(
    st.text(max_size=12), st.sampled_from(["", "$ref", "__proto__", "a/b", "~1", "type"])
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(keys, children, max_size=5),
    ),
    max_leaves=30,
)
objects = st.dictionaries(keys, values, max_size=8)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A JSON object's bytes with a few random byte edits (or none)."""
    raw = bytearray(json.dumps(draw(objects), ensure_ascii=draw(st.booleans())).encode())
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(raw)))
        action = draw(st.sampled_from(["flip", "insert", "drop"]))
        byte = draw(st.integers(0, 255))
        if action == "insert" or not raw:
            raw.insert(at, byte)
        elif action == "flip":
            raw[min(at, len(raw) - 1)] = byte
        else:
            del raw[min(at, len(raw) - 1)]
    return bytes(raw)


def learn(payload: dict[str, Any]) -> Any:
    profile = Profile()
    profile.add(payload)
    schema = profile.finish()
    check_schema(schema)
    return compile_transformer(schema, version=1, subject="fuzz")


FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(raw=mutated(), other=objects)
def test_ingest_infer_transform_never_crashes(raw: bytes, other: dict[str, Any]) -> None:
    """Parse → profile → infer → compile → transform: refusals are values, never exceptions."""
    try:
        payload = loads_object(raw)
    except PayloadError:
        return
    transformer = learn(payload)
    own = transformer(payload)
    assert isinstance(own, Conformed), own
    assert isinstance(transformer(other), Conformed | Rejected)
    assert isinstance(transformer.transform_bytes(raw), bytes | Rejected)
    assert isinstance(transformer.transform_bytes(json.dumps(other).encode()), bytes | Rejected)


@FUZZ
@given(first=objects, second=objects)
def test_a_schema_learnt_from_two_payloads_conforms_both(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    """The schema inferred from two payloads accepts each of them (inference is sound)."""
    profile = Profile()
    profile.add(first)
    profile.add(second)
    schema = profile.finish()
    check_schema(schema)
    transformer = compile_transformer(schema, version=1)
    for payload in (first, second):
        result = transformer(payload)
        assert isinstance(result, Conformed), (payload, schema, result)
