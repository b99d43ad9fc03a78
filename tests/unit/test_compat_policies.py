"""check_compatibility's modes, policies and contract: observed data, transitive lists,
FULL directions, errors, and the work budget."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from schemashift.core.compat import (
    CompatibilityMode,
    CompatibilityResult,
    FindingCode,
    check_compatibility,
)
from schemashift.core.profile import Profile
from schemashift.errors import InvalidSchemaError

OPEN = {"type": "object", "properties": {"a": {"type": "integer"}}}
ADDS_B = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}}


def profile_of(*payloads: dict[str, Any]) -> Profile:
    profile = Profile()
    for payload in payloads:
        profile.add(payload)
    return profile


def test_observed_policy_accepts_a_property_never_seen() -> None:
    """Strict flags an optional property added to an open model; observed does not when the
    data never carried it, nor when it carried it with an accepted type."""
    assert not check_compatibility(OPEN, ADDS_B, "BACKWARD").compatible
    unseen = profile_of({"a": 1}, {"a": 2})
    assert check_compatibility(OPEN, ADDS_B, "BACKWARD", policy="observed", profile=unseen)
    same_type = profile_of({"a": 1, "b": "x"})
    assert check_compatibility(OPEN, ADDS_B, "BACKWARD", policy="observed", profile=same_type)


def test_observed_policy_flags_a_property_seen_with_another_type() -> None:
    seen = profile_of({"a": 1, "b": 5})
    result = check_compatibility(OPEN, ADDS_B, "BACKWARD", policy="observed", profile=seen)
    assert not result.compatible
    assert [(f.path, f.code) for f in result.findings] == [("/b", FindingCode.TYPE_NARROWED)]


def test_observed_policy_looks_inside_nested_observed_values() -> None:
    """An undeclared object property is checked member by member against the reader."""
    reader = {
        "type": "object",
        "properties": {
            "a": {"type": "integer"},
            "c": {"type": "object", "properties": {"d": {"type": "integer"}}},
        },
    }
    good = profile_of({"a": 1, "c": {"d": 1}})
    bad = profile_of({"a": 1, "c": {"d": "x"}})
    assert check_compatibility(OPEN, reader, "BACKWARD", policy="observed", profile=good)
    result = check_compatibility(OPEN, reader, "BACKWARD", policy="observed", profile=bad)
    assert [f.path for f in result.findings] == ["/c/d"]


class StandIn:
    """A profile-shaped object whose paths use ``*`` for map values and array elements (as
    the Analyzer writes them once it reads an object as a map)."""

    def __init__(self, stats: Mapping[str, dict[str, Any]]) -> None:
        self._stats = stats

    def path_stats(self) -> Mapping[str, dict[str, Any]]:
        return self._stats


def test_observed_map_values_count_for_every_name() -> None:
    """Values observed under a map (``/m/*``) may have been sent under any name, so a reader
    naming one of them is judged against them — never 'unseen'."""
    writer = {"type": "object", "properties": {"m": {"type": "object"}}}
    reader = {
        "type": "object",
        "properties": {"m": {"type": "object", "properties": {"k1": {"type": "integer"}}}},
    }
    ints = StandIn(
        {
            "": {"types": {"object": 1}},
            "/m": {"types": {"object": 1}},
            "/m/*": {"types": {"integer": 3}},
        }
    )
    mixed = StandIn(
        {
            "": {"types": {"object": 1}},
            "/m": {"types": {"object": 1}},
            "/m/*": {"types": {"integer": 3, "string": 1}},
        }
    )
    assert check_compatibility(writer, reader, "BACKWARD", policy="observed", profile=ints)
    assert not check_compatibility(writer, reader, "BACKWARD", policy="observed", profile=mixed)


def test_lenient_assumes_only_declared_properties_are_sent() -> None:
    assert check_compatibility(OPEN, ADDS_B, "BACKWARD", policy="lenient")
    explicit = {**OPEN, "additionalProperties": True}
    assert not check_compatibility(explicit, ADDS_B, "BACKWARD", policy="lenient")


def test_modes_accept_strings_and_enums() -> None:
    for mode in ("backward", "BACKWARD", CompatibilityMode.BACKWARD):
        assert check_compatibility({"type": "integer"}, {"type": "number"}, mode)
    with pytest.raises(ValueError):
        check_compatibility({}, {}, "SIDEWAYS")
    with pytest.raises(ValueError):
        check_compatibility({}, {}, "BACKWARD", policy="observed")
    with pytest.raises(ValueError):
        check_compatibility([], {}, "BACKWARD")


def test_transitive_modes_check_every_earlier_schema() -> None:
    """Non-transitive modes use the last earlier schema; *_TRANSITIVE use all of them."""
    history = [{"type": "string"}, {"type": "integer"}]
    new = {"type": "number"}
    assert check_compatibility(history, new, "BACKWARD")
    result = check_compatibility(history, new, "BACKWARD_TRANSITIVE")
    assert not result.compatible
    assert "earlier schema 1 of 2" in result.findings[0].message


def test_full_reports_the_direction_of_each_finding() -> None:
    result = check_compatibility({"type": "integer"}, {"type": "number"}, "FULL")
    assert [(f.direction, f.code) for f in result.findings] == [
        ("forward", FindingCode.TYPE_NARROWED)
    ]
    assert result.to_dict()["findings"][0]["direction"] == "forward"


def test_result_contract() -> None:
    result = check_compatibility({"type": "string"}, {"type": "integer"}, "BACKWARD")
    assert isinstance(result, CompatibilityResult) and not result
    data = result.to_dict()
    assert data["compatible"] is False
    assert set(data["findings"][0]) == {"path", "code", "message"}


def test_remote_ref_is_refused() -> None:
    with pytest.raises(InvalidSchemaError):
        check_compatibility({"$ref": "https://example.com/x.json"}, {}, "BACKWARD")


def test_case_explosion_ends_in_a_finding_not_a_hang() -> None:
    """2^30 writer branches exceed the work budget: the answer is 'too complex', not a guess."""
    writer = {
        "allOf": [
            {"anyOf": [{"type": "integer", "minimum": i}, {"type": "string"}]} for i in range(30)
        ]
    }
    result = check_compatibility(writer, {"type": "integer"}, "BACKWARD")
    assert not result.compatible
    assert {f.code for f in result.findings} <= {FindingCode.TOO_COMPLEX, FindingCode.TYPE_NARROWED}


def test_observed_recursive_reader_checks_each_observed_level() -> None:
    """With a recursive reader, observed data deeper down is still checked (the co-inductive
    shortcut must not assume a deeper level from a shallower one)."""
    node = {
        "$defs": {
            "n": {
                "type": "object",
                "properties": {"v": {"type": "integer"}, "next": {"$ref": "#/$defs/n"}},
            }
        },
        "$ref": "#/$defs/n",
    }
    writer = {"type": "object"}
    ok = profile_of({"v": 1, "next": {"v": 2, "next": {"v": 3}}})
    bad = profile_of({"v": 1, "next": {"v": 2, "next": {"v": "three"}}})
    assert check_compatibility(writer, node, "BACKWARD", policy="observed", profile=ok)
    result = check_compatibility(writer, node, "BACKWARD", policy="observed", profile=bad)
    assert [f.path for f in result.findings] == ["/next/next/v"]


@pytest.mark.parametrize(
    ("writer", "compatible"),
    [
        (True, False),  # any object, any name: a crash here once (no writer core to look at)
        ({}, False),
        ({"type": "object", "additionalProperties": {}}, False),
        ({"type": "object", "properties": {"ab": {}}, "additionalProperties": False}, True),
        ({"type": "object", "properties": {"abcd": {}}, "additionalProperties": False}, False),
        ({"type": "object", "propertyNames": {"maxLength": 2}}, True),
    ],
)
def test_property_names_against_every_kind_of_writer(writer: Any, compatible: bool) -> None:
    """A reader's propertyNames holds when a writer core bounds its names (its own
    propertyNames, or a closed list of properties); a writer with no such core is flagged."""
    reader = {"type": "object", "propertyNames": {"maxLength": 3}}
    result = check_compatibility(writer, reader, "BACKWARD")
    assert result.compatible is compatible
    if not compatible:
        assert "property_names_narrowed" in [str(f.code) for f in result.findings]
