"""The structural delta between two parsed schemas, along the event path.

``Walker(old, new).walk()`` yields ``Delta`` values (code names shared with
``schemashift.core.diff.ChangeCode``); ``core.diff`` weighs them into a drift report. The walk
compares type facets at each event path and descends into properties, map values and array
items that both sides describe; a pair of subschemas met again (recursive ``$ref``) is not
walked twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from schemashift.core.schema.codec import escape
from schemashift.core.schema.facets import ANY, Facets, facets
from schemashift.core.schema.nodes import BoolSchema, Schema, SchemaDocument, SchemaNode

_SCALARS = ("string", "integer", "number", "boolean")


@dataclass(frozen=True, slots=True)
class Delta:
    path: str
    schema_path: str
    code: str
    before: Any
    after: Any
    required: bool = False
    direction: str = ""  # "additive" / "subtractive" when the code alone does not say


@dataclass(frozen=True, slots=True)
class _Object:
    properties: dict[str, Schema]
    required: frozenset[str]
    additional: Schema | None
    patterns: tuple[tuple[str, Schema], ...]
    pointer: str

    @property
    def is_map(self) -> bool:
        has_values = isinstance(self.additional, SchemaNode) or bool(self.patterns)
        return not self.properties and has_values


def _object(nodes: tuple[SchemaNode, ...]) -> _Object:
    properties: dict[str, Schema] = {}
    required: set[str] = set()
    additional: Schema | None = None
    patterns: list[tuple[str, Schema]] = []
    for node in nodes:
        for name, schema in node.properties:
            properties.setdefault(name, schema)
        required |= node.required
        if additional is None:
            additional = node.additional_properties
        patterns += node.pattern_properties
    pointer = next((n.pointer for n in nodes if n.properties), nodes[0].pointer if nodes else "")
    return _Object(properties, frozenset(required), additional, tuple(patterns), pointer)


def _first(nodes: tuple[SchemaNode, ...], attr: str) -> Any:
    for node in nodes:
        value = getattr(node, attr)
        if value is not None and value != () and value is not False:
            return value
    return None


def _type_list(f: Facets) -> list[str]:
    return sorted(f)


class Walker:
    def __init__(self, old: SchemaDocument, new: SchemaDocument) -> None:
        self.old = old
        self.new = new
        self._active: set[tuple[str, str]] = set()

    def walk(self) -> list[Delta]:
        return list(self._compare(self.old.root, self.new.root, ""))

    def _compare(self, old: Schema, new: Schema, path: str) -> Iterator[Delta]:
        key = (old.pointer, new.pointer)
        if key in self._active:
            return  # a recursive $ref met again below itself: already being compared
        self._active.add(key)
        try:
            yield from self._compare_pair(old, new, path)
        finally:
            self._active.discard(key)

    def _compare_pair(self, old: Schema, new: Schema, path: str) -> Iterator[Delta]:
        before, after = facets(self.old, old), facets(self.new, new)
        where = new.pointer
        old_types, new_types = set(before), set(after)
        if ("null" in old_types) != ("null" in new_types):
            code = "nullability_added" if "null" in new_types else "nullability_removed"
            yield Delta(path, where, code, _type_list(before), _type_list(after))
        old_core, new_core = old_types - {"null"}, new_types - {"null"}
        if old_core != new_core and old_core and new_core:
            yield from self._type_change(old_core, new_core, before, after, path, where)
            if not (old_core & new_core or _numeric_pair(old_core, new_core)):
                return  # a changed type is one change; its new children are part of it
        if "object" in before and "object" in after:
            yield from self._objects(_object(before["object"]), _object(after["object"]), path)
        if "array" in before and "array" in after:
            yield from self._arrays(before["array"], after["array"], path, where)
        old_scalars = tuple(n for t in (*_SCALARS, ANY) for n in before.get(t, ()))
        new_scalars = tuple(n for t in (*_SCALARS, ANY) for n in after.get(t, ()))
        if old_scalars and new_scalars:
            yield from self._scalars(old_scalars, new_scalars, path, where)

    def _type_change(
        self, old: set[str], new: set[str], before: Facets, after: Facets, path: str, where: str
    ) -> Iterator[Delta]:
        old_all, new_all = _with_integers(old), _with_integers(new)
        direction = ""
        if ANY in new or new_all >= old_all:
            code = "type_widened"
            # integer → number keeps every reader of numbers working; another kind of value
            # (a string where integers were) is a modification for whoever reads the field
            gained = new_all - old_all - {"integer"}
            direction = "additive" if ANY in new or gained <= {"number"} else "modification"
        elif ANY in old or new_all <= old_all:
            code = "type_narrowed"
        else:
            code = "type_changed"
        yield Delta(path, where, code, _type_list(before), _type_list(after), direction=direction)

    def _objects(self, old: _Object, new: _Object, path: str) -> Iterator[Delta]:
        if old.is_map != new.is_map and (old.properties or new.properties):
            code = "record_to_map" if new.is_map else "map_to_record"
            yield Delta(path, new.pointer, code, sorted(old.properties), sorted(new.properties))
            return
        if old.is_map and new.is_map:
            yield from self._compare(_values(old), _values(new), f"{path}/*")
            return
        for name in sorted(old.properties.keys() | new.properties.keys()):
            child = f"{path}/{escape(name)}"
            at = f"{new.pointer}/properties/{escape(name)}"
            if name not in new.properties:
                yield Delta(
                    child,
                    f"{old.pointer}/properties/{escape(name)}",
                    "property_removed",
                    _summary(self.old, old.properties[name]),
                    None,
                    required=name in old.required,
                )
            elif name not in old.properties:
                after = _summary(self.new, new.properties[name])
                yield Delta(child, at, "property_added", None, after, required=name in new.required)
            else:
                if (name in old.required) != (name in new.required):
                    code = "became_required" if name in new.required else "became_optional"
                    yield Delta(child, at, code, name in old.required, name in new.required)
                yield from self._compare(old.properties[name], new.properties[name], child)
        closed_before = _closed(old.additional)
        closed_after = _closed(new.additional)
        if closed_before != closed_after:
            code = (
                "additional_properties_closed" if closed_after else "additional_properties_opened"
            )
            yield Delta(path, new.pointer, code, not closed_before, not closed_after)

    def _arrays(
        self, old: tuple[SchemaNode, ...], new: tuple[SchemaNode, ...], path: str, where: str
    ) -> Iterator[Delta]:
        old_prefix, new_prefix = _first(old, "prefix_items"), _first(new, "prefix_items")
        if bool(old_prefix) != bool(new_prefix):
            yield Delta(path, where, "items_changed", "tuple" if old_prefix else "list",
                        "tuple" if new_prefix else "list")  # fmt: skip
            return
        for index, (a, b) in enumerate(zip(old_prefix or (), new_prefix or (), strict=False)):
            yield from self._compare(a, b, f"{path}/{index}")
        old_items, new_items = _first(old, "items"), _first(new, "items")
        if old_items is not None or new_items is not None:
            yield from self._compare(
                old_items or BoolSchema(True), new_items or BoolSchema(True), f"{path}/*"
            )
        yield from _bounds(old, new, path, where, ("min_items", "max_items"))
        if bool(_first(old, "unique_items")) != bool(_first(new, "unique_items")):
            tightened = bool(_first(new, "unique_items"))
            code = "constraint_tightened" if tightened else "constraint_loosened"
            yield Delta(
                path, where, code, {"uniqueItems": not tightened}, {"uniqueItems": tightened}
            )

    def _scalars(
        self, old: tuple[SchemaNode, ...], new: tuple[SchemaNode, ...], path: str, where: str
    ) -> Iterator[Delta]:
        old_const, new_const = _first(old, "const"), _first(new, "const")
        if old_const != new_const:
            yield Delta(path, where, "const_changed", _value(old_const), _value(new_const))
        old_enum, new_enum = _first(old, "enum"), _first(new, "enum")
        if old_enum != new_enum and (old_enum is None or new_enum is None or
                                     set(map(repr, old_enum)) != set(map(repr, new_enum))):  # fmt: skip
            direction = ""
            if old_enum is not None and (
                new_enum is None or set(map(repr, new_enum)) >= set(map(repr, old_enum))
            ):
                direction = "additive"
            elif new_enum is not None and (
                old_enum is None or set(map(repr, new_enum)) <= set(map(repr, old_enum))
            ):
                direction = "subtractive"
            before = list(old_enum) if old_enum is not None else None
            after = list(new_enum) if new_enum is not None else None
            yield Delta(path, where, "enum_changed", before, after, direction=direction)
        for attr in ("format", "content_encoding", "content_media_type"):
            if _first(old, attr) != _first(new, attr):
                yield Delta(path, where, "format_changed", _first(old, attr), _first(new, attr))
        if _first(old, "pattern") != _first(new, "pattern"):
            before, after = _first(old, "pattern"), _first(new, "pattern")
            code = "constraint_loosened" if after is None else "constraint_tightened"
            yield Delta(path, where, code, {"pattern": before}, {"pattern": after})
        yield from _bounds(old, new, path, where, _NUMERIC_AND_LENGTH)


_NUMERIC_AND_LENGTH = (
    "minimum", "exclusive_minimum", "maximum", "exclusive_maximum", "min_length", "max_length",
    "multiple_of",
)  # fmt: skip
_LOWER = {"minimum", "exclusive_minimum", "min_length", "min_items", "multiple_of"}


def _bounds(
    old: tuple[SchemaNode, ...], new: tuple[SchemaNode, ...], path: str, where: str,
    attrs: tuple[str, ...],
) -> Iterator[Delta]:  # fmt: skip
    for attr in attrs:
        before, after = _first(old, attr), _first(new, attr)
        if before == after:
            continue
        if before is None or after is None:
            tightened = after is not None
        elif attr == "multiple_of":
            tightened = (
                after % before != 0 if isinstance(after, int) and isinstance(before, int) else True
            )
            tightened = tightened or after > before
        else:
            tightened = after > before if attr in _LOWER else after < before
        code = "constraint_tightened" if tightened else "constraint_loosened"
        name = "".join(p if i == 0 else p.title() for i, p in enumerate(attr.split("_")))
        yield Delta(path, where, code, {name: before}, {name: after})


def _with_integers(types: set[str]) -> set[str]:
    """``number`` includes the integers."""
    return types | {"integer"} if "number" in types else types


def _numeric_pair(old: set[str], new: set[str]) -> bool:
    return bool(old & {"integer", "number"}) and bool(new & {"integer", "number"})


def _values(obj: _Object) -> Schema:
    if isinstance(obj.additional, SchemaNode):
        return obj.additional
    return obj.patterns[0][1] if obj.patterns else BoolSchema(True)


def _closed(additional: Schema | None) -> bool:
    return isinstance(additional, BoolSchema) and not additional.value


def _value(const: Any) -> Any:
    return None if const is None else const.value


def _summary(document: SchemaDocument, schema: Schema) -> dict[str, Any]:
    """A short description of a subschema for before/after (its types)."""
    return {"type": _type_list(facets(document, schema))}
