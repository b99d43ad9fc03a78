"""The schema codec: a raw JSON Schema (2020-12, 2019-09, draft-07/06/04) → ``SchemaDocument``.

Only this module reads raw schema dicts. It normalises draft differences into the IR
(``nodes.py``) and resolves ``$ref`` **locally only**: a reference that does not start with
``#`` (``http:``, ``https:``, ``file:``, a relative file name, …) raises
``InvalidSchemaError`` before anything could fetch it. Reference targets are parsed once each
from a work list (long chains need no recursion) and reference cycles that never descend into
the instance (``{"$ref": "#"}``, ``allOf: [{"$ref": "#"}]``) are refused, so walking a parsed
schema always terminates.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from schemashift.core.schema.nodes import (
    JSON_TYPES,
    BoolSchema,
    Constant,
    Schema,
    SchemaDocument,
    SchemaNode,
)
from schemashift.errors import InvalidSchemaError

DIALECTS: dict[str, str] = {
    "json-schema.org/draft/2020-12/schema": "2020-12",
    "json-schema.org/draft/2019-09/schema": "2019-09",
    "json-schema.org/draft-07/schema": "draft-07",
    "json-schema.org/draft-06/schema": "draft-06",
    "json-schema.org/draft-04/schema": "draft-04",
}
LEGACY_DIALECTS = frozenset({"draft-07", "draft-06", "draft-04"})

#: Deepest schema nesting the codec accepts (keeps recursion bounded).
MAX_DEPTH = 200

# keywords that never constrain an instance
ANNOTATIONS = frozenset(
    {
        "$schema", "$id", "id", "$anchor", "$dynamicAnchor", "$recursiveAnchor", "$vocabulary",
        "$comment", "$defs", "definitions", "title", "description", "default", "examples",
        "readOnly", "writeOnly", "deprecated", "contentSchema",
    }
)  # fmt: skip
# assertion keywords the IR does not model; reasoning code treats them as unknown territory
OPAQUE = frozenset({"unevaluatedProperties", "unevaluatedItems", "$dynamicRef", "$recursiveRef"})
_NUMBER = (int, float)


def dialect_of(raw: Any) -> str:
    """The dialect a schema declares; without ``$schema``, draft-07 if it uses a draft-07-only
    form (array ``items``, ``additionalItems``, ``dependencies``, ``definitions``), else 2020-12."""
    if isinstance(raw, dict) and isinstance(raw.get("$schema"), str):
        uri = raw["$schema"].split("://", 1)[-1].rstrip("#")
        dialect = DIALECTS.get(uri)
        if dialect is None:
            raise InvalidSchemaError(f"unknown $schema dialect {raw['$schema']!r}")
        return dialect
    if isinstance(raw, dict) and (
        isinstance(raw.get("items"), list)
        or any(k in raw for k in ("additionalItems", "dependencies", "definitions"))
    ):
        return "draft-07"
    return "2020-12"


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def parse_schema(raw: Any) -> SchemaDocument:
    """Parse a raw JSON Schema into a ``SchemaDocument``; ``InvalidSchemaError`` if unusable."""
    return _Codec(raw).run()


class _Codec:
    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.dialect = dialect_of(raw)
        self.legacy = self.dialect in LEGACY_DIALECTS
        self.nodes: dict[str, Schema] = {}
        self.pending: list[str] = []
        self.anchors: dict[str, str] = {}
        self.resources: dict[str, str] = {}  # pointer of a subschema → its resource root

    def run(self) -> SchemaDocument:
        if not isinstance(self.raw, dict | bool):
            raise InvalidSchemaError("a schema must be a JSON object or a boolean")
        self._index(self.raw, "", "", 0)
        root = self._parse(self.raw, "", "", 0)
        while self.pending:
            pointer = self.pending.pop()
            if pointer not in self.nodes:
                self._parse(_at(self.raw, pointer), pointer, self.resources.get(pointer, ""), 0)
        _refuse_unguarded_cycles(self.nodes)
        return SchemaDocument(
            root=root, nodes=dict(self.nodes), raw=self.raw, dialect=self.dialect,
            anchors=dict(self.anchors),
        )  # fmt: skip

    # -- first pass: anchors and embedded resources, so references can point anywhere
    def _index(self, raw: Any, pointer: str, resource: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise InvalidSchemaError(f"schema nested deeper than {MAX_DEPTH} levels")
        if isinstance(raw, dict):
            ident = raw.get("$id", raw.get("id") if self.dialect == "draft-04" else None)
            if isinstance(ident, str) and pointer:
                if ident.startswith("#"):
                    self.anchors[ident[1:]] = pointer
                else:
                    resource = pointer  # an embedded resource: "#/…" is relative to it
            for key in ("$anchor", "$dynamicAnchor"):
                if isinstance(raw.get(key), str):
                    self.anchors[raw[key]] = pointer
            self.resources[pointer] = resource
            for key, value in raw.items():
                if key in ("enum", "const", "default", "examples", "required"):
                    continue
                self._index(value, f"{pointer}/{escape(key)}", resource, depth + 1)
        elif isinstance(raw, list):
            for i, value in enumerate(raw):
                self._index(value, f"{pointer}/{i}", resource, depth + 1)

    def _ref_target(self, ref: str, pointer: str, resource: str) -> str:
        if not ref.startswith("#"):
            raise InvalidSchemaError(
                f"remote $ref {ref!r} at {pointer or '/'} refused: only local references "
                "('#…') are resolved, nothing is ever fetched"
            )
        fragment = unquote(ref[1:])
        if fragment == "" or fragment.startswith("/"):
            target = resource + fragment
        elif fragment in self.anchors:
            target = self.anchors[fragment]
        else:
            raise InvalidSchemaError(f"$ref {ref!r} at {pointer or '/'}: no such anchor")
        try:
            value = _at(self.raw, target)
        except (KeyError, IndexError, ValueError, TypeError):
            raise InvalidSchemaError(f"$ref {ref!r} at {pointer or '/'} does not resolve") from None
        if not isinstance(value, dict | bool):
            raise InvalidSchemaError(f"$ref {ref!r} at {pointer or '/'} is not a schema")
        if target not in self.nodes:
            self.pending.append(target)
        return target

    # -- second pass: build nodes
    def _parse(self, raw: Any, pointer: str, resource: str, depth: int) -> Schema:
        if depth > MAX_DEPTH:
            raise InvalidSchemaError(f"schema nested deeper than {MAX_DEPTH} levels")
        if isinstance(raw, bool):
            node: Schema = BoolSchema(raw, pointer)
            self.nodes[pointer] = node
            return node
        if not isinstance(raw, dict):
            raise InvalidSchemaError(f"{pointer or '/'}: a schema must be an object or boolean")
        resource = self.resources.get(pointer, resource)
        if self.legacy and "$ref" in raw:
            # before 2019-09 a $ref replaces its siblings; definitions stay reachable
            raw = {"$ref": raw["$ref"]}
        node = SchemaNode(pointer=pointer, **dict(self._fields(raw, pointer, resource, depth)))
        self.nodes[pointer] = node
        return node

    def _sub(self, raw: Any, pointer: str, resource: str, depth: int) -> Schema:
        return self._parse(raw, pointer, resource, depth + 1)

    def _fields(
        self, raw: dict[str, Any], at: str, res: str, depth: int
    ) -> Iterator[tuple[str, Any]]:
        def sub(value: Any, *keys: str | int) -> Schema:
            return self._sub(value, at + "".join(f"/{escape(str(k))}" for k in keys), res, depth)

        def schema_map(key: str) -> tuple[tuple[str, Schema], ...]:
            value = raw[key]
            if not isinstance(value, dict):
                raise InvalidSchemaError(f"{at}/{key} must be an object")
            return tuple((name, sub(s, key, name)) for name, s in sorted(value.items()))

        def schema_list(key: str) -> tuple[Schema, ...]:
            value = raw[key]
            if not isinstance(value, list) or not value:
                raise InvalidSchemaError(f"{at}/{key} must be a non-empty array")
            return tuple(sub(s, key, i) for i, s in enumerate(value))

        opaque: list[tuple[str, Any]] = []
        for key, value in raw.items():
            if key in ANNOTATIONS:
                continue
            if key == "type":
                names = [value] if isinstance(value, str) else value
                if not isinstance(names, list) or not all(n in JSON_TYPES for n in names):
                    raise InvalidSchemaError(f"{at}/type must name JSON types, got {value!r}")
                yield "types", frozenset(names)
            elif key == "enum":
                if not isinstance(value, list):
                    raise InvalidSchemaError(f"{at}/enum must be an array")
                yield "enum", tuple(value)
            elif key == "const":
                yield "const", Constant(value)
            elif key in ("minimum", "maximum", "multipleOf"):
                flag = {"minimum": "exclusiveMinimum", "maximum": "exclusiveMaximum"}.get(key)
                if flag is None or raw.get(flag) is not True:  # else: draft-04 exclusive bound
                    yield _snake(key), _number(value, at, key)
            elif key in ("exclusiveMinimum", "exclusiveMaximum"):
                if isinstance(value, bool):  # draft-04: a flag on minimum/maximum
                    bound = "minimum" if key == "exclusiveMinimum" else "maximum"
                    if value and bound in raw:
                        yield _snake(key), _number(raw[bound], at, bound)
                else:
                    yield _snake(key), _number(value, at, key)
            elif key in _COUNTS:
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise InvalidSchemaError(f"{at}/{key} must be a non-negative integer")
                yield _COUNTS[key], value
            elif key in ("pattern", "format", "contentEncoding", "contentMediaType"):
                if not isinstance(value, str):
                    raise InvalidSchemaError(f"{at}/{key} must be a string")
                yield _snake(key), value
            elif key == "uniqueItems":
                yield "unique_items", bool(value)
            elif key == "required":
                if not isinstance(value, list):
                    raise InvalidSchemaError(f"{at}/required must be an array")
                yield "required", frozenset(value)
            elif key in ("properties", "patternProperties", "dependentSchemas"):
                yield _snake(key), schema_map(key)
            elif key == "dependentRequired":
                yield "dependent_required", _dependent_required(value, at)
            elif key == "dependencies":
                if not isinstance(value, dict):
                    raise InvalidSchemaError(f"{at}/dependencies must be an object")
                names = {k: v for k, v in value.items() if isinstance(v, list)}
                yield "dependent_required", _dependent_required(names, at)
                schemas = {k: v for k, v in value.items() if not isinstance(v, list)}
                yield (
                    "dependent_schemas",
                    tuple((name, sub(s, key, name)) for name, s in sorted(schemas.items())),
                )
            elif key in ("additionalProperties", "propertyNames", "contains", "not", "if"):
                yield _snake(key), sub(value, key)
            elif key in ("then", "else"):
                yield key if key == "then" else "else_", sub(value, key)
            elif key in ("allOf", "anyOf", "oneOf"):
                yield _snake(key), schema_list(key)
            elif key == "prefixItems":
                yield "prefix_items", schema_list(key)
            elif key == "items":
                if isinstance(value, list):  # draft-07 tuple form
                    yield "prefix_items", tuple(sub(s, key, i) for i, s in enumerate(value))
                    if "additionalItems" in raw:
                        yield "items", sub(raw["additionalItems"], "additionalItems")
                else:
                    yield "items", sub(value, key)
            elif key == "additionalItems":
                continue  # only meaningful beside array-form items (handled there)
            elif key == "$ref":
                if not isinstance(value, str):
                    raise InvalidSchemaError(f"{at}/$ref must be a string")
                yield "ref", self._ref_target(value, at, res)
            elif key in OPAQUE:
                if key in ("$dynamicRef", "$recursiveRef") and not str(value).startswith("#"):
                    raise InvalidSchemaError(f"remote {key} {value!r} at {at or '/'} refused")
                opaque.append((key, value))
            # any other key is an unknown keyword: an annotation with no effect on validity
        if opaque:
            yield "opaque", tuple(opaque)


_COUNTS = {
    "minLength": "min_length",
    "maxLength": "max_length",
    "minItems": "min_items",
    "maxItems": "max_items",
    "minProperties": "min_properties",
    "maxProperties": "max_properties",
    "minContains": "min_contains",
    "maxContains": "max_contains",
}


def _snake(key: str) -> str:
    special = {"not": "not_", "if": "if_"}
    if key in special:
        return special[key]
    return "".join("_" + c.lower() if c.isupper() else c for c in key)


def _number(value: Any, at: str, key: str) -> int | float:
    if not isinstance(value, _NUMBER) or isinstance(value, bool):
        raise InvalidSchemaError(f"{at}/{key} must be a number")
    if key == "multipleOf" and value <= 0:
        raise InvalidSchemaError(f"{at}/multipleOf must be greater than 0")
    return value


def _dependent_required(value: Any, at: str) -> tuple[tuple[str, frozenset[str]], ...]:
    if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
        raise InvalidSchemaError(f"{at}: dependentRequired must map names to arrays")
    return tuple((name, frozenset(deps)) for name, deps in sorted(value.items()))


def _at(raw: Any, pointer: str) -> Any:
    value = raw
    for token in pointer.split("/")[1:] if pointer else ():
        token = token.replace("~1", "/").replace("~0", "~")
        value = value[int(token)] if isinstance(value, list) else value[token]
    return value


def same_instance_children(node: Schema) -> Iterator[Schema]:
    """Subschemas that apply to the *same* instance (no descent into a child value)."""
    if isinstance(node, BoolSchema):
        return
    for group in (node.all_of, node.any_of, node.one_of):
        yield from group or ()
    for single in (node.not_, node.if_, node.then, node.else_):
        if single is not None:
            yield single
    for _, schema in node.dependent_schemas:
        yield schema


def _refuse_unguarded_cycles(nodes: dict[str, Schema]) -> None:
    """Refuse a reference cycle that never descends into the instance (it cannot terminate)."""
    # edges: node pointer → pointers reachable on the same instance via one $ref
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    for start in nodes:
        if state.get(start):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(start, _same_instance_refs(nodes[start]))]
        state[start] = 1
        while stack:
            pointer, successors = stack[-1]
            nxt = next(successors, None)
            if nxt is None:
                state[pointer] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                raise InvalidSchemaError(
                    f"$ref cycle through {nxt or '/'} never descends into the instance"
                )
            elif not state.get(nxt) and nxt in nodes:
                state[nxt] = 1
                stack.append((nxt, _same_instance_refs(nodes[nxt])))


def _same_instance_refs(node: Schema) -> Iterator[str]:
    todo = [node]
    while todo:
        current = todo.pop()
        if isinstance(current, SchemaNode) and current.ref is not None:
            yield current.ref
        todo.extend(same_instance_children(current))
