"""diff(): one change per structural difference, at the event path, with a stable code."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings

from schemashift.core.diff import ChangeClass, ChangeCode, diff
from schemashift.core.profile import Profile
from tests.unit.test_compat_soundness import rich_schemas


def codes(old: Any, new: Any) -> dict[str, str]:
    return {c.path: str(c.code) for c in diff(old, new).changes}


def obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required or [], **extra}


def test_property_added_and_removed() -> None:
    report = diff(obj({"a": {"type": "string"}}), obj({"b": {"type": "string"}}))
    by_path = {c.path: c for c in report.changes}
    assert by_path["/a"].code is ChangeCode.PROPERTY_REMOVED
    assert by_path["/a"].change_class is ChangeClass.SUBTRACTIVE
    assert by_path["/b"].code is ChangeCode.PROPERTY_ADDED
    assert by_path["/b"].to_dict()["class"] == "additive"


def test_type_codes() -> None:
    assert codes(obj({"a": {"type": "integer"}}), obj({"a": {"type": "number"}})) == {
        "/a": "type_widened"
    }
    assert codes(obj({"a": {"type": "number"}}), obj({"a": {"type": "integer"}})) == {
        "/a": "type_narrowed"
    }
    assert codes(obj({"a": {"type": "string"}}), obj({"a": {"type": "boolean"}})) == {
        "/a": "type_changed"
    }
    assert codes(obj({"a": {"type": "string"}}), obj({"a": {"type": ["string", "null"]}})) == {
        "/a": "nullability_added"
    }


def test_type_change_to_object_is_one_change() -> None:
    """The children of a field that became an object are part of its type change."""
    new = obj({"a": obj({"x": {"type": "integer"}, "y": {"type": "string"}})})
    assert codes(obj({"a": {"type": "string"}}), new) == {"/a": "type_changed"}


def test_required_and_constraints() -> None:
    assert codes(obj({"a": {"type": "string"}}), obj({"a": {"type": "string"}}, ["a"])) == {
        "/a": "became_required"
    }
    assert codes(
        obj({"a": {"type": "string"}}), obj({"a": {"type": "string", "format": "date"}})
    ) == {"/a": "format_changed"}
    assert codes(
        obj({"a": {"type": "string", "maxLength": 9}}),
        obj({"a": {"type": "string", "maxLength": 5}}),
    ) == {"/a": "constraint_tightened"}
    report = diff(obj({"a": {"enum": ["x"]}}), obj({"a": {"enum": ["x", "y"]}}))
    assert [(c.code, c.change_class) for c in report.changes] == [
        (ChangeCode.ENUM_CHANGED, ChangeClass.ADDITIVE)
    ]


def test_maps_are_compared_by_value_schema() -> None:
    """Map keys never count as properties: only the value schema matters."""
    old = obj({"metadata": {"type": "object", "additionalProperties": {"type": "string"}}})
    same = obj({"metadata": {"type": "object", "additionalProperties": {"type": "string"}}})
    assert diff(old, same).changes == ()
    wider = obj(
        {"metadata": {"type": "object", "additionalProperties": {"type": ["string", "null"]}}}
    )
    assert codes(old, wider) == {"/metadata/*": "nullability_added"}
    record = obj({"metadata": obj({"k1": {"type": "string"}})})
    assert codes(old, record) == {"/metadata": "map_to_record"}


def test_arrays_and_refs_use_event_paths() -> None:
    old = {
        "$defs": {"item": obj({"sku": {"type": "string"}})},
        **obj({"lines": {"type": "array", "items": {"$ref": "#/$defs/item"}}}),
    }
    new = obj({"lines": {"type": "array", "items": obj({"sku": {"type": "integer"}})}})
    report = diff(old, new)
    assert [(c.path, c.schema_path, str(c.code)) for c in report.changes] == [
        ("/lines/*/sku", "/properties/lines/items/properties/sku", "type_changed")
    ]


def test_anyof_union_is_read_as_types() -> None:
    """anyOf of differently typed branches is a type union (how inference writes it)."""
    old = obj({"request": {"type": "string"}})
    new = obj({"request": {"anyOf": [{"type": "string"}, obj({"id": {"type": "string"}})]}})
    assert codes(old, new) == {"/request": "type_widened"}


def test_recursive_schemas_terminate() -> None:
    node = {
        "$defs": {"n": obj({"next": {"$ref": "#/$defs/n"}, "v": {"type": "integer"}})},
        "$ref": "#/$defs/n",
    }
    assert diff(node, node).changes == ()


def test_rename_hints_from_profiles() -> None:
    """A removed and an added field with the same observed values is a probable rename."""
    old_profile, new_profile = Profile(), Profile()
    for i in range(20):
        old_profile.add({"id": i, "email": f"user{i}@example.com"})
        new_profile.add({"id": i, "mail": f"user{i}@example.com"})
    report = diff(
        old_profile.finish(), new_profile.finish(), old_profile=old_profile, new_profile=new_profile
    )
    assert [(h.old_name, h.new_name) for h in report.rename_hints] == [("email", "mail")]
    assert diff(old_profile.finish(), new_profile.finish()).rename_hints == ()


def test_rename_hints_from_one_merged_profile() -> None:
    """A running profile that saw data before and after the rename is enough on its own."""
    before, after, running = Profile(), Profile(), Profile()
    for i in range(20):
        before.add({"id": i, "email": f"user{i}@example.com"})
        after.add({"id": i, "mail": f"user{i}@example.com"})
        running.add({"id": i, "email": f"user{i}@example.com"})
        running.add({"id": i, "mail": f"user{i}@example.com"})
    report = diff(before.finish(), after.finish(), new_profile=running)
    assert [(h.parent, h.old_name, h.new_name) for h in report.rename_hints] == [
        ("", "email", "mail")
    ]


def test_no_rename_hint_for_unrelated_fields() -> None:
    old_profile, new_profile = Profile(), Profile()
    for i in range(20):
        old_profile.add({"email": f"user{i}@example.com"})
        new_profile.add({"count": i})
    report = diff(
        old_profile.finish(), new_profile.finish(), old_profile=old_profile, new_profile=new_profile
    )
    assert report.rename_hints == ()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rich_schemas, rich_schemas)
def test_any_schema_against_itself_has_no_change(first: Any, second: Any) -> None:
    """Over arbitrary schemas (the soundness grammar): a schema has no change against a copy
    of itself, and the score is 0 exactly when there is no change."""
    assert diff(first, copy.deepcopy(first)).changes == ()
    report = diff(first, second)
    assert 0.0 <= report.score <= 1.0
    assert (report.score == 0.0) == (not report.changes)
