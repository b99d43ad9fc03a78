"""Type facets: what a schema says about each JSON type, with applicators flattened.

The diff compares schemas type by type: ``facets(doc, schema)`` maps each JSON type name the
schema admits (``"any"`` when it does not restrict types) to the nodes that describe values of
that type — ``$ref`` and ``allOf`` intersect, ``anyOf``/``oneOf`` unite. A union such as
``anyOf: [{"type": "string"}, {"type": "object", …}]`` (how inference writes a field whose
type changed) thus becomes ``{"string": […], "object": […]}``.
"""

from __future__ import annotations

from schemashift.core.jsonparse import json_type_name
from schemashift.core.schema.nodes import BoolSchema, Schema, SchemaDocument, SchemaNode

ANY = "any"
Facets = dict[str, tuple[SchemaNode, ...]]


def implied_types(node: SchemaNode) -> frozenset[str]:
    if node.types is not None:
        return node.types
    if node.properties or node.pattern_properties or node.additional_properties is not None:
        return frozenset({"object"})
    if node.required or node.property_names is not None:
        return frozenset({"object"})
    if node.prefix_items or node.items is not None or node.contains is not None:
        return frozenset({"array"})
    if node.const is not None or node.enum is not None:
        values = [node.const.value] if node.const is not None else list(node.enum or ())
        return frozenset(json_type_name(v) for v in values)
    return frozenset({ANY})


def _meet(first: str, second: str) -> str | None:
    if first == second or second == ANY:
        return first
    if first == ANY:
        return second
    if {first, second} == {"integer", "number"}:
        return "integer"
    return None


def intersect(first: Facets, second: Facets) -> Facets:
    out: dict[str, tuple[SchemaNode, ...]] = {}
    for a, a_nodes in first.items():
        for b, b_nodes in second.items():
            met = _meet(a, b)
            if met is not None:
                out[met] = out.get(met, ()) + a_nodes + b_nodes
    return out


def unite(first: Facets, second: Facets) -> Facets:
    out = dict(first)
    for name, nodes in second.items():
        out[name] = out.get(name, ()) + nodes
    return out


def facets(document: SchemaDocument, schema: Schema) -> Facets:
    """The type facets of ``schema`` (terminates: same-instance reference cycles are refused
    by the codec)."""
    if isinstance(schema, BoolSchema):
        return {ANY: ()} if schema.value else {}
    result: Facets = {name: (schema,) for name in implied_types(schema)}
    conjuncts = list(schema.all_of or ())
    if schema.ref is not None:
        conjuncts.append(document.resolve(schema.ref))
    for member in conjuncts:
        result = intersect(result, facets(document, member))
    for group in (schema.any_of, schema.one_of):
        if group is not None:
            union: Facets = {}
            for branch in group:
                union = unite(union, facets(document, branch))
            result = intersect(result, union)
    return result
