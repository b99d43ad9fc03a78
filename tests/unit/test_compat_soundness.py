"""Soundness, tested by sampling: whenever the checker says *compatible*, every instance
Hypothesis draws from the writer validates under the reader.

Instances come from hypothesis-jsonschema's ``from_schema(writer)``; its object generator is
broken on the installed Hypothesis (``'many' object has no attribute 'more'``), so when it
fails the instance is drawn instead from a small JSON grammar (the same names, numbers and
strings the schemas use) and kept only if the writer accepts it.

Pairs come from a small random schema grammar (types, bounds, enums, objects open and closed,
arrays, anyOf/oneOf/not) plus the compatible cases of the unit table; examples are bounded
so the suite stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis_jsonschema import from_schema
from hypothesis_jsonschema._canonicalise import HypothesisRefResolutionError

from schemashift.core.compat import check_compatibility

SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

small_int = st.integers(-5, 5)
scalars = st.one_of(st.none(), st.booleans(), small_int, st.sampled_from(["a", "b", "xy"]))


def _leaf() -> st.SearchStrategy[dict[str, Any]]:
    number = st.fixed_dictionaries(
        {"type": st.sampled_from(["integer", "number"])},
        optional={
            "minimum": st.integers(-5, 0),
            "maximum": st.integers(0, 5),
            "multipleOf": st.sampled_from([1, 2, 3]),
        },
    )
    string = st.fixed_dictionaries(
        {"type": st.just("string")},
        optional={"minLength": st.integers(0, 2), "maxLength": st.integers(2, 4)},
    )
    enum = st.builds(
        lambda values: {"enum": values},
        st.lists(scalars, min_size=1, max_size=3, unique_by=json.dumps),
    )
    simple = st.builds(
        lambda t: {"type": t},
        st.sampled_from(["null", "boolean", ["string", "null"], ["integer", "string"]]),
    )
    return st.one_of(number, string, enum, simple)


def _extend(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    obj = st.builds(
        lambda props, required, extra: {
            "type": "object",
            "properties": props,
            "required": sorted(set(required) & set(props)),
            **extra,
        },
        st.dictionaries(st.sampled_from(["a", "b", "c"]), children, max_size=2),
        st.lists(st.sampled_from(["a", "b", "c"]), max_size=2),
        st.sampled_from(
            [
                {},
                {"additionalProperties": False},
                {"additionalProperties": True},
                {"additionalProperties": {"type": "integer"}},
            ]
        ),
    )
    arr = st.builds(
        lambda items, extra: {"type": "array", "items": items, **extra},
        children,
        st.sampled_from([{}, {"maxItems": 2}, {"minItems": 1}, {"uniqueItems": True}]),
    )
    union = st.builds(
        lambda a, b, key: {key: [a, b]}, children, children, st.sampled_from(["anyOf", "oneOf"])
    )
    negation = st.builds(lambda a: {"not": a}, children)
    return st.one_of(obj, arr, union, negation)


schemas = st.recursive(_leaf(), _extend, max_leaves=4)


def _extend_rich(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """More keywords: patternProperties, prefixItems/contains, allOf, if/then/else,
    dependentRequired, property counts and names, const, local $ref."""
    more = st.one_of(
        st.builds(
            lambda a, b: {"type": "object", "patternProperties": {"^a": a, "^k": b}},
            children,
            children,
        ),
        st.builds(
            lambda a, b, extra: {"type": "array", "prefixItems": [a], "items": b, **extra},
            children,
            children,
            st.sampled_from([{}, {"minItems": 1}, {"contains": {"type": "integer"}}]),
        ),
        st.builds(lambda a, b: {"allOf": [a, b]}, children, children),
        st.builds(lambda a, b, c: {"if": a, "then": b, "else": c}, children, children, children),
        st.builds(
            lambda a: {"type": "object", "dependentRequired": {"a": ["b"]}, "properties": {"a": a}},
            children,
        ),
        st.builds(
            lambda a: {
                "type": "object",
                "minProperties": 1,
                "maxProperties": 2,
                "propertyNames": {"maxLength": 1},
                "additionalProperties": a,
            },
            children,
        ),
        st.builds(lambda v: {"const": v}, scalars),
    )
    return st.one_of(_extend(children), more)


rich_schemas = st.recursive(_leaf(), _extend_rich, max_leaves=5)


small_json = st.recursive(
    scalars | st.sampled_from([0.5, -1.5, 2.0, "", "abcd"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["a", "b", "c", "d", "kind", "v", "next"]), inner, max_size=3
        )
    ),
    max_leaves=6,
)


#: how hypothesis-jsonschema fails here: broken object generator, unsatisfiable bounds,
#: recursive references
GENERATOR_FAILURES = (AttributeError, InvalidArgument, HypothesisRefResolutionError)


def draw_instance(data: Any, writer: Any) -> Any:
    """An instance valid under ``writer`` (from_schema, else filtered small JSON)."""
    try:
        return data.draw(from_schema(writer))
    except GENERATOR_FAILURES:  # see the module docstring
        return data.draw(small_json.filter(_validator(writer).is_valid))


def _validator(schema: Any) -> Any:
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    if (
        isinstance(schema, dict)
        and "$schema" not in schema
        and isinstance(schema.get("items"), list)
    ):
        cls = jsonschema.Draft7Validator  # draft-07 tuple form, read as the codec reads it
    return cls(schema)


def _checked(writer: Any, reader: Any, instance: Any) -> None:
    assert _validator(writer).is_valid(instance)
    assert _validator(reader).is_valid(instance), (
        f"checker said compatible, yet {instance!r} is valid under the writer "
        f"{writer!r} and not under the reader {reader!r}"
    )


@SETTINGS
@given(writer=schemas, reader=schemas, data=st.data())
def test_compatible_verdicts_hold_on_sampled_instances(writer: Any, reader: Any, data: Any) -> None:
    """Random pairs: a compatible verdict survives instances drawn from the writer."""
    assume(check_compatibility(writer, reader, "BACKWARD").compatible)
    for _ in range(3):
        _checked(writer, reader, draw_instance(data, writer))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    writer=rich_schemas,
    reader=rich_schemas,
    candidates=st.lists(small_json, min_size=20, max_size=20),
)
def test_rich_pairs_never_compatible_with_a_counterexample(
    writer: Any, reader: Any, candidates: list[Any]
) -> None:
    """A richer grammar, instances from a small JSON grammar: no candidate valid under the
    writer is rejected by the reader when the checker says compatible."""
    if not check_compatibility(writer, reader, "BACKWARD").compatible:
        return
    for instance in candidates:
        if _validator(writer).is_valid(instance):
            _checked(writer, reader, instance)


@SETTINGS
@given(base=schemas, data=st.data())
def test_widened_pairs_hold_on_sampled_instances(base: Any, data: Any) -> None:
    """Pairs built to be compatible (reader = anyOf[writer, more]) are found compatible
    where provable, and hold on sampled instances."""
    reader = {"anyOf": [base, {"type": "string"}]}
    if check_compatibility(base, reader, "BACKWARD").compatible:
        _checked(base, reader, draw_instance(data, base))


def _table_pairs() -> list[Any]:
    pairs = []
    for file in sorted((Path(__file__).parent / "compat_cases").glob("*.json")):
        for group in json.loads(file.read_text()):
            for case in group["cases"]:
                empty_writer = case["writer"] in (False, {"not": {}})  # nothing to sample
                if (
                    case["compatible"]
                    and not empty_writer
                    and case.get("mode", "BACKWARD") == "BACKWARD"
                    and case.get("policy", "strict") == "strict"
                ):
                    pairs.append(
                        pytest.param(case["writer"], case["reader"], id=case["description"])
                    )
    return pairs


@pytest.mark.parametrize(("writer", "reader"), _table_pairs())
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_table_compatible_cases_hold_on_sampled_instances(
    writer: Any, reader: Any, data: Any
) -> None:
    """Every compatible case of the unit table holds on instances drawn from its writer."""
    _checked(writer, reader, draw_instance(data, writer))
