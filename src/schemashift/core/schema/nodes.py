"""The schema IR: a tree of frozen, typed nodes.

Raw JSON Schema dicts exist only in the codec (``codec.py``); everything that reasons about
schemas (diff, compatibility) reads these nodes. Draft differences are normalised away by the
codec: array-form ``items`` becomes ``prefix_items`` (+ ``additionalItems`` as ``items``),
draft-04 boolean ``exclusiveMinimum`` becomes a numeric exclusive bound, ``dependencies`` is
split into ``dependent_required`` and ``dependent_schemas``, ``definitions`` is read like
``$defs``.

Every node carries ``pointer``: the JSON Pointer of its raw subschema inside its document, so
findings and changes can name where in the schema they come from, and exact instance checks
can validate against the raw subschema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

#: The JSON types as JSON Schema names them ("integer" is a subset of "number").
JSON_TYPES = frozenset({"null", "boolean", "object", "array", "number", "integer", "string"})


@dataclass(frozen=True, slots=True)
class Constant:
    """The value of ``const`` (a wrapper so that ``const: null`` differs from no ``const``)."""

    value: Any


@dataclass(frozen=True, slots=True)
class BoolSchema:
    """``true`` (accepts everything) or ``false`` (accepts nothing)."""

    value: bool
    pointer: str = ""


@dataclass(frozen=True, slots=True)
class SchemaNode:
    """One schema object. ``None`` on a keyword field means the keyword is absent."""

    pointer: str = ""
    types: frozenset[str] | None = None
    enum: tuple[Any, ...] | None = None
    const: Constant | None = None
    # numbers: exclusive bounds are kept apart (2020-12 form) whatever the input draft
    minimum: int | float | None = None
    maximum: int | float | None = None
    exclusive_minimum: int | float | None = None
    exclusive_maximum: int | float | None = None
    multiple_of: int | float | None = None
    # strings
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    format: str | None = None
    # annotations in 2020-12 that a strict checker treats as assertions (as it does format)
    content_encoding: str | None = None
    content_media_type: str | None = None
    # objects
    properties: tuple[tuple[str, Schema], ...] = ()
    pattern_properties: tuple[tuple[str, Schema], ...] = ()
    additional_properties: Schema | None = None
    required: frozenset[str] = frozenset()
    min_properties: int | None = None
    max_properties: int | None = None
    property_names: Schema | None = None
    dependent_required: tuple[tuple[str, frozenset[str]], ...] = ()
    dependent_schemas: tuple[tuple[str, Schema], ...] = ()
    # arrays
    prefix_items: tuple[Schema, ...] = ()
    items: Schema | None = None
    min_items: int | None = None
    max_items: int | None = None
    unique_items: bool = False
    contains: Schema | None = None
    min_contains: int | None = None
    max_contains: int | None = None
    # applicators
    ref: str | None = None  # resolved target pointer inside the same document
    all_of: tuple[Schema, ...] | None = None
    any_of: tuple[Schema, ...] | None = None
    one_of: tuple[Schema, ...] | None = None
    not_: Schema | None = None
    if_: Schema | None = None
    then: Schema | None = None
    else_: Schema | None = None
    # assertion keywords the IR does not model (unevaluated*, $dynamicRef, …): kept so that
    # reasoning code can refuse to guess about them
    opaque: tuple[tuple[str, Any], ...] = ()

    @property
    def is_empty(self) -> bool:
        """Whether the node has no constraint at all (``{}`` accepts everything)."""
        return self == SchemaNode(pointer=self.pointer)

    def declared(self, name: str) -> Schema | None:
        """The schema declared under ``properties[name]``, if any."""
        for key, schema in self.properties:
            if key == name:
                return schema
        return None

    @property
    def has_applicators(self) -> bool:
        return (
            self.ref is not None
            or self.all_of is not None
            or self.any_of is not None
            or self.one_of is not None
            or self.not_ is not None
            or self.if_ is not None
            or bool(self.dependent_schemas)
        )


Schema: TypeAlias = SchemaNode | BoolSchema

TRUE = BoolSchema(True)
FALSE = BoolSchema(False)


@dataclass(frozen=True, slots=True)
class SchemaDocument:
    """A parsed schema: its root node, every parsed subschema by pointer, and the raw dict.

    ``resolve`` follows a ``$ref`` target pointer; the codec has already checked that every
    reference is local, resolvable and that no reference cycle avoids descending into the
    instance, so following references while walking the instance always terminates.
    """

    root: Schema
    nodes: Mapping[str, Schema]
    raw: Any
    dialect: str
    anchors: Mapping[str, str] = field(default_factory=dict)

    def resolve(self, pointer: str) -> Schema:
        return self.nodes[pointer]

    def raw_at(self, pointer: str) -> Any:
        """The raw subschema at ``pointer`` (for exact instance checks)."""
        value = self.raw
        if pointer == "":
            return value
        for token in pointer.split("/")[1:]:
            token = token.replace("~1", "/").replace("~0", "~")
            value = value[int(token)] if isinstance(value, list) else value[token]
        return value
