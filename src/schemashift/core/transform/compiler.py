"""Compiles a JSON Schema (draft 2020-12) into a tree of closures, one node per subschema.

Each node first dispatches on the JSON type of the value (a dict lookup), runs that type's
rule (object, array, string, number), tries the enabled lossless coercions when the type is
not allowed, then the keywords that apply to any type (``enum``/``const``, ``$ref``,
``allOf``/``anyOf``/``oneOf``, ``not``, ``if``). Local ``$ref`` is compiled once per target
and bound through a cell, so recursive schemas work; a remote ``$ref`` is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from schemashift.core.transform.arrays import ArrayRules, array_handler
from schemashift.core.transform.coercions import float_to_integer, make_coercer
from schemashift.core.transform.combinators import (
    all_of_step,
    any_of_step,
    if_step,
    keep_order,
    not_step,
    one_of_step,
    validates,
)
from schemashift.core.transform.context import FAIL, Ctx, Node, copy_json, is_finite, json_type
from schemashift.core.transform.objects import (
    Absent,
    ObjectRules,
    Property,
    object_handler,
    required_names,
)
from schemashift.core.transform.options import Coercion, ExtrasPolicy, TransformOptions
from schemashift.core.transform.refs import RefResolver
from schemashift.core.transform.result import ReasonCode
from schemashift.core.transform.scalars import (
    compile_pattern,
    enum_check,
    number_check,
    string_check,
)
from schemashift.errors import InvalidSchemaError

JSON_TYPES: Final = frozenset({"object", "array", "string", "integer", "number", "boolean", "null"})
OBJECT_KEYWORDS: Final = frozenset(
    {
        "properties",
        "required",
        "additionalProperties",
        "patternProperties",
        "minProperties",
        "maxProperties",
        "dependentRequired",
        "dependentSchemas",
        "propertyNames",
        "unevaluatedProperties",
    }
)
ARRAY_KEYWORDS: Final = frozenset(
    {"items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains"}
)
# keywords with no effect on conforming: annotations and metadata
ANNOTATIONS: Final = frozenset(
    {
        "$schema",
        "$id",
        "$anchor",
        "$comment",
        "$defs",
        "definitions",
        "title",
        "description",
        "examples",
        "format",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
        "contentEncoding",
        "contentMediaType",
        "contentSchema",
        "$vocabulary",
        "$dynamicAnchor",
    }
)
_SIMPLE_PYTHON: Final = {
    "string": str,
    "integer": int,
    "boolean": bool,
    "null": type(None),
}
Handler = Callable[[Any, Ctx], Any]


class SchemaCompiler:
    """Compiles one root schema; holds the per-root state ($ref targets, pending settles)."""

    def __init__(self, root: Any, options: TransformOptions) -> None:
        self.options = options
        self.refs = RefResolver(root, self.compile)
        self.simple: dict[Node, frozenset[type]] = {}
        # conformed default of each property schema (by identity), for the typed path
        self.defaults: dict[int, Any] = {}
        self._objects: list[ObjectRules] = []

    def compile_root(self, ignored: frozenset[str] = frozenset()) -> Node:
        root = self.refs.root
        node = self.compile(root, "#", ignored=ignored)
        # absent-field actions need finished nodes: null-ability and defaults are checked by
        # running the compiled property nodes, which may go through $ref cells
        for rules in self._objects:
            rules.settle(self.options, validates)
            for prop in rules.properties:
                if prop.absent is Absent.DEFAULT:
                    self.defaults[id(prop.schema)] = prop.default
        return node

    def compile(
        self,
        schema: Any,
        where: str,
        ignored: frozenset[str] = frozenset(),
        keep_extras: bool = False,
    ) -> Node:
        """One node for ``schema``; ``keep_extras`` for a branch beside an object's own rule.

        Such a branch (``{"properties": {"action": {"const": "created"}}}`` in a tagged union
        beside the object's properties) only adds constraints: what it does not declare the
        outer object does, so it must keep undeclared fields rather than apply the policy.
        """
        if schema is True or (isinstance(schema, dict) and set(schema) <= ANNOTATIONS):
            return copy_json
        if schema is False:
            return _false
        if not isinstance(schema, dict):
            raise InvalidSchemaError(f"{where}: a schema must be an object or a boolean")
        if set(schema) == {"$ref"}:
            return self.refs.node(schema["$ref"], where)
        allowed = _types(schema, where)
        handlers = self._handlers(schema, allowed, where, ignored, keep_extras)
        coercer = (
            make_coercer(allowed, self.options.coercions, schema.get("format"))
            if allowed is not None
            else None
        )
        steps = self._steps(schema, where, ignored, keep_extras)
        integer_only = allowed is not None and "integer" in allowed and "number" not in allowed
        node = _make_node(handlers, coercer, steps, _describe(allowed), integer_only)
        simple = _simple_types(schema, allowed)
        if simple:
            self.simple[node] = simple
        return node

    def _handlers(
        self,
        schema: dict[str, Any],
        allowed: frozenset[str] | None,
        where: str,
        ignored: frozenset[str],
        keep_extras: bool,
    ) -> dict[str, Handler]:
        def wanted(kind: str) -> bool:
            return allowed is None or kind in allowed

        handlers: dict[str, Handler] = {}
        if wanted("object"):
            handlers["object"] = self._object(schema, where, ignored, keep_extras)
        if wanted("array"):
            handlers["array"] = self._array(schema, where)
        if wanted("string"):
            handlers["string"] = string_check(schema, where) or _same
        numbers = number_check(schema)
        if wanted("integer") or wanted("number"):
            handlers["integer"] = numbers or _same
        if wanted("number"):
            handlers["number"] = _finite_then(numbers)
        elif wanted("integer"):
            # JSON Schema counts 1.0 as an integer; FLOAT_TO_INTEGER normalises it to 1
            handlers["number"] = _integral_float(numbers, self.options)
        if wanted("boolean"):
            handlers["boolean"] = _same
        if wanted("null"):
            handlers["null"] = _same
        return handlers

    def _object(
        self, schema: dict[str, Any], where: str, ignored: frozenset[str], keep_extras: bool
    ) -> Handler:
        if not set(schema) & OBJECT_KEYWORDS and not ignored:
            return copy_json
        declared = schema.get("properties", {})
        if not isinstance(declared, dict):
            raise InvalidSchemaError(f"{where}: properties must be an object")
        # metadata fields (top level only) are written by the transformer, not conformed
        declared = {n: s for n, s in declared.items() if n not in ignored}
        required = set(required_names(schema, where)) - ignored
        additional: Node | bool = True
        if "additionalProperties" in schema:
            additional = self._sub_or_bool(
                schema["additionalProperties"], where + "/additionalProperties"
            )
        elif schema.get("unevaluatedProperties") is False:
            # without composition, unevaluatedProperties: false closes the object like
            # additionalProperties: false does (properties declared in allOf are not seen)
            additional = False
        patterns = [
            (compile_pattern(p, where), self.compile(s, f"{where}/patternProperties/{p}"))
            for p, s in schema.get("patternProperties", {}).items()
        ]
        properties: list[Property] = []
        for name, sub in declared.items():
            node = self.compile(sub, f"{where}/properties/{name}")
            properties.append(
                Property(name, node, self.simple.get(node, frozenset()), name in required, sub)
            )
        for name in sorted(required - set(declared)):
            # required but described only by additionalProperties (or not at all)
            if additional is False:
                node = _false  # required yet forbidden: no payload can satisfy this
            else:
                node = additional if not isinstance(additional, bool) else copy_json
            properties.append(Property(name, node, frozenset(), True, True))
        rules = ObjectRules(
            properties=properties,
            patterns=patterns,
            additional=additional,
            extras=ExtrasPolicy.KEEP if keep_extras else self.options.extras,
            closed_extras=self.options.closed_extras,
            min_properties=schema.get("minProperties"),
            max_properties=schema.get("maxProperties"),
            dependent_required={
                trigger: frozenset(needed)
                for trigger, needed in schema.get("dependentRequired", {}).items()
            },
            dependent_schemas={
                k: self.compile(s, f"{where}/dependentSchemas/{k}")
                for k, s in schema.get("dependentSchemas", {}).items()
            },
            property_names=(
                self.compile(schema["propertyNames"], where + "/propertyNames")
                if "propertyNames" in schema
                else None
            ),
            ignored=ignored,
            constraint_only=keep_extras,
        )
        self._objects.append(rules)
        return object_handler(rules)

    def _array(self, schema: dict[str, Any], where: str) -> Handler:
        if not set(schema) & ARRAY_KEYWORDS:
            return copy_json
        prefix = tuple(
            self.compile(s, f"{where}/prefixItems/{i}")
            for i, s in enumerate(schema.get("prefixItems", []))
        )
        items = self._sub_or_bool(schema.get("items", True), where + "/items")
        contains = schema.get("contains")
        return array_handler(
            ArrayRules(
                prefix=prefix,
                items=items,
                items_simple=self.simple.get(items, frozenset())
                if not isinstance(items, bool)
                else frozenset(),
                min_items=schema.get("minItems"),
                max_items=schema.get("maxItems"),
                unique=bool(schema.get("uniqueItems", False)),
                contains=self.compile(contains, where + "/contains")
                if contains is not None
                else None,
                min_contains=int(schema.get("minContains", 1)) if contains is not None else 0,
                max_contains=schema.get("maxContains"),
            )
        )

    def _sub_or_bool(self, schema: Any, where: str) -> Node | bool:
        if schema is True or schema is False:
            return bool(schema)
        node = self.compile(schema, where)
        return True if node is copy_json else node

    def _steps(
        self, schema: dict[str, Any], where: str, ignored: frozenset[str], keep_extras: bool
    ) -> list[Handler]:
        beside = keep_extras or bool(set(schema) & OBJECT_KEYWORDS)
        steps: list[Handler] = []
        check = enum_check(schema)
        if check is not None:
            steps.append(check)
        if "$ref" in schema:
            steps.append(self.refs.node(schema["$ref"], where))
        if "$dynamicRef" in schema:
            raise InvalidSchemaError(f"{where}: $dynamicRef is not supported")
        for keyword, make in (
            ("allOf", all_of_step),
            ("anyOf", any_of_step),
            ("oneOf", one_of_step),
        ):
            if keyword in schema:
                branches = schema[keyword]
                if not isinstance(branches, list) or not branches:
                    raise InvalidSchemaError(f"{where}: {keyword} must be a non-empty array")
                nodes = [
                    self.compile(b, f"{where}/{keyword}/{i}", ignored, beside)
                    for i, b in enumerate(branches)
                ]
                steps.append(make(nodes))
        if "not" in schema:
            steps.append(not_step(self.compile(schema["not"], where + "/not")))
        if "if" in schema:
            then = self.compile(schema.get("then", True), where + "/then")
            otherwise = self.compile(schema.get("else", True), where + "/else")
            steps.append(if_step(self.compile(schema["if"], where + "/if"), then, otherwise))
        return steps


def _types(schema: dict[str, Any], where: str) -> frozenset[str] | None:
    if "type" not in schema:
        return None
    declared = schema["type"]
    names = [declared] if isinstance(declared, str) else declared
    if not isinstance(names, list) or not names or not set(names) <= JSON_TYPES:
        raise InvalidSchemaError(f"{where}: type must be JSON type names, got {declared!r}")
    allowed = frozenset(names)
    return allowed | {"integer"} if "number" in allowed else allowed


def _describe(allowed: frozenset[str] | None) -> str:
    if allowed is None:
        return "any JSON value"
    shown = sorted(allowed - {"integer"} if "number" in allowed else allowed)
    return " or ".join(shown)


def _simple_types(schema: dict[str, Any], allowed: frozenset[str] | None) -> frozenset[type]:
    # a value of these Python types is valid as it is: no keyword but "type" constrains it
    if allowed is None or not set(schema) - {"type"} <= ANNOTATIONS:
        return frozenset()
    return frozenset(_SIMPLE_PYTHON[t] for t in allowed if t in _SIMPLE_PYTHON)


def _make_node(
    handlers: dict[str, Handler],
    coercer: Callable[[Any, str], tuple[Any, str] | None] | None,
    steps: list[Handler],
    expected: str,
    integer_only: bool,
) -> Node:
    lookup = _PY_TO_JSON.get

    def node(value: Any, ctx: Ctx) -> Any:
        kind = lookup(type(value)) or json_type(value)
        handler = handlers.get(kind) if kind is not None else None
        if integer_only and kind == "number" and is_finite(value) and not value.is_integer():
            handler = None  # 4.5 is no integer; a coercion (to a string) may still apply
        if handler is None:
            if kind is None:
                return ctx.fail(ReasonCode.NOT_JSON, f"{type(value).__name__} is not a JSON value")
            coerced = coercer(value, kind) if coercer is not None and ctx.coerce else None
            if coerced is None:
                return ctx.fail(ReasonCode.TYPE_MISMATCH, _mismatch(expected, kind, value, ctx))
            value, kind = coerced
            handler = handlers[kind]
        value = handler(value, ctx)
        if value is FAIL:
            return FAIL
        if not steps:
            return value
        shaped = value
        for step in steps:
            value = step(value, ctx)
            if value is FAIL:
                return FAIL
        if earlier and not ctx.validate:
            # a later keyword (an if/then default, a union branch) may have changed what an
            # earlier one (``not``, ``$ref``, ``enum``) accepted: the output must meet them all
            check = Ctx(validate=True)
            if any(step(value, check) is FAIL for step in earlier):
                return ctx.fail(
                    ReasonCode.CONDITION_FAILED, "the schema's keywords conflict for this value"
                )
        if kind != "object" or object_rule is None or object_rule is copy_json:
            return value
        # a branch may have changed what the object's own rule made valid: check it again
        if object_rule(value, Ctx(validate=True)) is FAIL:
            return ctx.fail(
                ReasonCode.CONDITION_FAILED, "the union branch and the object's own rules conflict"
            )
        return keep_order(shaped, value)

    object_rule = handlers.get("object")
    earlier = tuple(steps[:-1])
    return node


_PY_TO_JSON: Final[dict[type, str]] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    type(None): "null",
    dict: "object",
    list: "array",
}


def _mismatch(expected: str, kind: str, value: Any, ctx: Ctx) -> str:
    shown = "" if kind in ("object", "array") else " " + repr(value)[:40]
    lossless = " and no enabled lossless coercion applies" if ctx.coerce else ""
    return f"expected {expected}, got {kind}{shown}{lossless}"


def _same(value: Any, ctx: Ctx) -> Any:
    return value


def _false(value: Any, ctx: Ctx) -> Any:
    return ctx.fail(ReasonCode.FALSE_SCHEMA, "no value is allowed here")


def _finite_then(numbers: Handler | None) -> Handler:
    def handle(value: float, ctx: Ctx) -> Any:
        if not is_finite(value):
            return ctx.fail(ReasonCode.NOT_JSON, f"{value!r} is not a JSON number")
        return numbers(value, ctx) if numbers is not None else value

    return handle


def _integral_float(numbers: Handler | None, options: TransformOptions) -> Handler:
    normalise = Coercion.FLOAT_TO_INTEGER in options.coercions

    def handle(value: float, ctx: Ctx) -> Any:
        if not is_finite(value):
            return ctx.fail(ReasonCode.NOT_JSON, f"{value!r} is not a JSON number")
        if normalise and ctx.coerce:
            as_int = float_to_integer(value)
            if as_int is not None:
                value = as_int
        return numbers(value, ctx) if numbers is not None else value

    return handle
