"""The cheap shape fingerprint that keeps known payloads off the analysis path.

A *shape* is a payload's structure with the values replaced by their JSON types: object
keys (in the payload's own order — sorting would cost more than the rare extra analysis of
a reordered payload), the shapes of their values, and the set of element shapes of each
array (the first :data:`ARRAY_SAMPLE` elements: a new element shape further down is still
checked by the transformer, it just does not trigger a new analysis window).

Objects the subject's current version declares as **maps** (``additionalProperties`` with a
schema and no ``properties``: a ``metadata`` or ``properties`` bag, ids as keys) are
fingerprinted by the set of their values' shapes, without their keys: a map key never seen
before is not a new structure, so it must not send the event to analysis (in a stream with
a free-form map that would be nearly every event). The :class:`ShapeGuide` built from the
version's schema says where those maps are.

Shapes are hashable values compared by equality, so two different structures never share a
fingerprint (no hash collisions to worry about); they are only kept in memory, per process.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

ARRAY_SAMPLE = 32
# Guides follow the schema this deep at most (a recursive $ref is not followed at all).
MAX_GUIDE_DEPTH = 32

_SCALARS: dict[type, str] = {
    str: "s",
    int: "i",
    float: "f",
    bool: "b",
    type(None): "n",
}


class ShapeGuide:
    """Where a version's schema declares maps, as a tree over property names and items.

    ``values`` is set on a map (the guide for its values, possibly empty); ``fields`` guides
    the named properties of a record; ``items`` guides array elements.
    """

    __slots__ = ("fields", "items", "values")

    def __init__(self) -> None:
        self.values: ShapeGuide | None = None
        self.fields: dict[str, ShapeGuide] = {}
        self.items: ShapeGuide | None = None

    def __bool__(self) -> bool:
        return self.values is not None or bool(self.fields) or self.items is not None


_ANY = ShapeGuide()  # a map whose values need no guide of their own


def shape_guide(schema: Any, depth: int = 0) -> ShapeGuide | None:
    """The guide for ``schema``; None when it declares no map anywhere (the plain walk)."""
    if not isinstance(schema, dict) or depth > MAX_GUIDE_DEPTH:
        return None
    guide = ShapeGuide()
    branches = [schema]
    for keyword in ("anyOf", "oneOf", "allOf"):
        listed = schema.get(keyword)
        if isinstance(listed, list):
            branches += [b for b in listed if isinstance(b, dict)]
    for branch in branches:
        properties = branch.get("properties")
        extra = branch.get("additionalProperties")
        if isinstance(properties, dict) and properties:
            for name, sub in properties.items():
                child = shape_guide(sub, depth + 1)
                if child is not None and isinstance(name, str):
                    guide.fields.setdefault(name, child)
        elif isinstance(extra, dict) and not branch.get("patternProperties"):
            guide.values = shape_guide(extra, depth + 1) or _ANY
        items = branch.get("items")
        if isinstance(items, dict) and guide.items is None:
            guide.items = shape_guide(items, depth + 1)
    return guide if guide else None


def shape_of(value: Any, guide: ShapeGuide | None = None) -> Hashable:
    """The shape of a decoded JSON value (see the module docstring)."""
    kind = _SCALARS.get(type(value))
    if kind is not None:
        return kind
    if isinstance(value, dict):
        if guide is None:
            return tuple([(key, shape_of(item)) for key, item in value.items()])
        values = guide.values
        if values is not None:
            # a declared map: its keys are data, only its values' shapes are structure
            return ("{", frozenset([shape_of(item, values) for item in value.values()]))
        fields = guide.fields
        return tuple([(key, shape_of(item, fields.get(key))) for key, item in value.items()])
    if isinstance(value, list):
        items = guide.items if guide is not None else None
        return ("[", frozenset([shape_of(item, items) for item in value[:ARRAY_SAMPLE]]))
    return type(value).__name__
