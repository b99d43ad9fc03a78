"""Finished node statistics → a JSON Schema 2020-12 document.

Shape of the output, so that diff and compatibility see stable structures:

* one kind → ``{"type": k, …}``; nullable → ``"type": [k, "null"]`` (an ``enum`` then
  also lists ``null``);
* several bare kinds → ``"type": [...]``; kinds carrying keywords (objects, arrays, strings
  with a format or enum) → ``anyOf`` with one branch per kind, ``{"type": "null"}`` last;
* integer and number seen together → ``number`` (a widening, not a union);
* properties, required and enum values are sorted, so the output never depends on order.
"""

from __future__ import annotations

from typing import Any

from schemashift.core.keypatterns import is_id_like, pattern_of
from schemashift.core.node import ArrayStats, Node, ObjectStats
from schemashift.core.profile_options import ProfileOptions
from schemashift.core.rules import (
    TaggedUnion,
    dependent_required,
    enum_of,
    format_of,
    map_view,
    names_an_identifier,
    required_keys,
    tagged_union,
)

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

Schema = dict[str, Any]


def document(root: Node, options: ProfileOptions) -> Schema:
    """The schema of the payloads profiled into ``root``, with the ``$schema`` dialect."""
    body = schema_of(root, options, None) if root.count else {"type": "object"}
    return {"$schema": SCHEMA_DIALECT, **body}


def schema_of(
    node: Node, options: ProfileOptions, name: str | None, *, enums: bool = True
) -> Schema:
    """The schema of every value seen at one node (``{}`` when none was seen).

    ``enums=False`` for the values of a map: they are free-form user data, so a vocabulary
    seen so far is no evidence of a closed set.
    """
    parts: list[Schema] = []
    if node.obj is not None and node.obj.count:
        parts.append(_object_schema(node.obj, options, name))
    if node.arr is not None and node.arr.count:
        parts.append(_array_schema(node.arr, options))
    if node.strings:
        parts.append(_string_schema(node, options, enums and not names_an_identifier(name)))
    if node.floats:
        parts.append({"type": "number"})
    elif node.integers:
        parts.append({"type": "integer"})
    if node.booleans:
        parts.append({"type": "boolean"})
    nullable = node.nulls > 0
    if not parts:
        return {"type": "null"} if nullable else {}
    if len(parts) == 1:
        return _nullable(parts[0]) if nullable else parts[0]
    if all(set(p) == {"type"} for p in parts):
        types = [p["type"] for p in parts]
        return {"type": [*types, "null"] if nullable else types}
    return {"anyOf": [*parts, {"type": "null"}] if nullable else parts}


def _nullable(schema: Schema) -> Schema:
    if "type" not in schema or "oneOf" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    out = dict(schema)
    out["type"] = [schema["type"], "null"]
    if "enum" in out:
        out["enum"] = [*out["enum"], None]
    return out


def _string_schema(node: Node, options: ProfileOptions, enums: bool) -> Schema:
    schema: Schema = {"type": "string"}
    fmt = format_of(node, options)
    if fmt is not None:
        schema["format"] = fmt
        return schema
    values = enum_of(node, options) if enums else None
    if values is not None:
        schema["enum"] = values
    return schema


def _array_schema(stats: ArrayStats, options: ProfileOptions) -> Schema:
    schema: Schema = {"type": "array"}
    positions = stats.positions
    if (
        positions
        and 2 <= len(positions) <= options.tuple_max_length
        and stats.count >= options.tuple_min_count
    ):
        items = [schema_of(p, options, None) for p in positions]
        if any(item != items[0] for item in items):
            schema["prefixItems"] = items
            schema["items"] = False
            schema["minItems"] = len(items)
            return schema
    if stats.items.count:
        schema["items"] = schema_of(stats.items, options, None)
    return schema


def _object_schema(stats: ObjectStats, options: ProfileOptions, name: str | None) -> Schema:
    as_map = map_view(stats, name, options)
    if as_map is not None:
        values, mask = as_map
        schema: Schema = {"type": "object"}
        if values.count:
            schema["additionalProperties"] = schema_of(values, options, None, enums=False)
        pattern = pattern_of(mask) if is_id_like(mask) else None
        if pattern is not None:
            schema["propertyNames"] = {"pattern": pattern}
        return schema
    properties = {
        key: schema_of(stats.children[key], options, key) for key in sorted(stats.children)
    }
    required = required_keys(stats, options)
    union = tagged_union(stats, required, options)
    if union is not None:
        return _tagged_schema(union, properties, required, options)
    schema = {"type": "object", "properties": properties} if properties else {"type": "object"}
    if required:
        schema["required"] = required
    if stats.keysets is not None:
        dependent = dependent_required(stats.keysets, set(required), options)
        if dependent:
            schema["dependentRequired"] = dependent
    return schema


def _tagged_schema(
    union: TaggedUnion,
    properties: dict[str, Schema],
    required: list[str],
    options: ProfileOptions,
) -> Schema:
    # Branches carry only what they add to the flat record: the discriminator's value and
    # the keys that value makes required; property schemas stay in one place.
    branches: list[Schema] = []
    for branch in union.branches:
        schema: Schema = {"properties": {union.tag: {"const": branch.value}}}
        extra = sorted(branch.required - set(required))
        if extra:
            schema["required"] = extra
        dependent = dependent_required(branch.keysets, set(branch.required), options)
        if dependent:
            schema["dependentRequired"] = dependent
        branches.append(schema)
    return {"type": "object", "properties": properties, "required": required, "oneOf": branches}
