"""The cheap shape fingerprint that keeps known payloads off the analysis path.

A *shape* is a payload's structure with the values replaced by their JSON types: object
keys (in the payload's own order — sorting would cost more than the rare extra analysis of
a reordered payload), the shapes of their values, and the set of element shapes of each
array (the first :data:`ARRAY_SAMPLE` elements: a new element shape further down is still
checked by the transformer, it just does not trigger a new analysis window).

Shapes are hashable values compared by equality, so two different structures never share a
fingerprint (no hash collisions to worry about); they are only kept in memory, per process.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

ARRAY_SAMPLE = 32

_SCALARS: dict[type, str] = {
    str: "s",
    int: "i",
    float: "f",
    bool: "b",
    type(None): "n",
}


def shape_of(value: Any) -> Hashable:
    """The shape of a decoded JSON value (see the module docstring)."""
    kind = _SCALARS.get(type(value))
    if kind is not None:
        return kind
    if isinstance(value, dict):
        return tuple([(key, shape_of(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("[", frozenset([shape_of(item) for item in value[:ARRAY_SAMPLE]]))
    return type(value).__name__
