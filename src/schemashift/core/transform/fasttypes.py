"""Builds msgspec types from a schema, so conforming payloads decode and type-check in C.

Only what msgspec checks exactly as JSON Schema does is translated; anything else raises
:class:`Unsupported` and the transformer keeps to its Python path for that schema:

* objects with ``properties`` become ``Struct`` types that forbid unknown fields, so a
  payload with extras (to keep, drop or reject) leaves the fast path; optional fields are
  ``UNSET`` when absent and keep being absent on output;
* maps (``additionalProperties`` schema, no ``properties``) become ``dict[str, V]``;
* ``integer`` is ``int`` (true, false and 1.0 are refused, exact at any size), ``number``
  is ``int | float`` (so 5 stays 5 and 5.0 stays 5.0), with bounds as ``msgspec.Meta``;
* ``enum``/``const`` of strings, integers and null become ``Literal``;
* ``type`` lists and ``anyOf`` whose branches differ in JSON type become unions.

Defaults (and ``null`` fills that the missing-field policy asks for) are written by a small
walker after decoding, which also counts the colons they add for the duplicate-key check.

The *lenient* variant widens each scalar whose schema has an enabled coercion with the JSON
types the coercion starts from (an ``integer`` field also accepts strings and floats); the
walker then passes every value that is not of the exact type through the compiled Python
node of that schema, which coerces and checks it exactly as the Python path would.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union

import msgspec

from schemashift.core.jsonparse import measure
from schemashift.core.transform.coercions import (
    epoch_to_datetime,
    number_to_string,
    string_to_boolean,
    string_to_integer,
    string_to_number,
)
from schemashift.core.transform.compiler import ANNOTATIONS, SchemaCompiler
from schemashift.core.transform.context import FAIL, Ctx, Node
from schemashift.core.transform.options import Coercion, MissingPolicy, TransformOptions
from schemashift.core.transform.refs import RefResolver
from schemashift.core.transform.scalars import number_check, string_check


class Unsupported(Exception):
    """The schema uses something the typed decoder would not check exactly."""


class Refused(Exception):
    """A walker met a value the Python path must handle (a coercion that does not apply)."""


# Returns the colons it added to the output (filled fields, coerced values); may raise Refused.
Walker = Callable[[Any], int]
Fix = Callable[[Any], tuple[Any, int]]


@dataclass(frozen=True)
class Repair:
    """How a walker mends a widened scalar: values of ``exact`` types msgspec checked already;
    a ``source``-typed value goes through ``direct`` (then ``check``) adding ``delta`` colons;
    anything else through ``fix``, which is the compiled Python node."""

    exact: frozenset[Any]
    fix: Fix
    direct: Callable[[Any], Any] | None
    source: type
    check: Callable[[Any, Ctx], Any] | None
    delta: int
    schema: dict[str, Any]


_OBJECT_KEYS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "dependentRequired",
        "oneOf",
        "anyOf",
    }
)
# what a tagged-union branch beside an object's properties may say (checked on the struct)
_BRANCH_KEYS = frozenset({"properties", "required", "dependentRequired"})
_BRANCH_PROPERTY_KEYS = frozenset({"const", "enum", "type"})
_ARRAY_KEYS = frozenset({"type", "items", "minItems", "maxItems"})
_STRING_KEYS = frozenset({"type", "minLength", "maxLength", "pattern"})
_NUMBER_KEYS = frozenset({"type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
_SCALAR_JSON_TYPES = {"string": 1, "integer": 2, "number": 2, "boolean": 3, "null": 4}


@dataclass
class FastType:
    """A msgspec annotation, the JSON types it accepts, its walker and nesting depth."""

    annotation: Any
    kinds: frozenset[str]
    walker: Walker | None = None
    depth: int = 0
    structs: list[type] = field(default_factory=list)
    repair: Repair | None = None
    open_ended: bool = False  # holds ``Any``: its depth is not bounded by the types


class FastTypeBuilder:
    def __init__(
        self,
        root: Any,
        options: TransformOptions,
        ignored: frozenset[str],
        lenient: bool = False,
    ) -> None:
        self.options = options
        self.ignored = ignored
        self.lenient = lenient
        # how deep an ``Any`` value may nest: the depth limit minus the deepest typed level,
        # set once the root is built (walkers read it then)
        self.budget: list[int] = [0]
        self.widened = 0  # scalars widened for a coercion; 0 makes the lenient decoder moot
        self.compiler = SchemaCompiler(root, options)
        self.refs = RefResolver(root, lambda schema, where: _never)
        self._active: set[int] = set()
        self._count = 0

    def build_root(self) -> FastType:
        built = self.build(self.refs.root, top=True)
        max_depth = self.options.limits.max_depth
        self.budget[0] = 2**31 if max_depth is None else max_depth - built.depth
        if self.budget[0] < 0:
            raise Unsupported("types nested deeper than the depth limit")
        return built

    def build(self, schema: Any, top: bool = False) -> FastType:
        if schema is True or (isinstance(schema, dict) and set(schema) <= ANNOTATIONS):
            return FastType(Any, _ALL_KINDS, _depth_walker(self.budget), open_ended=True)
        if not isinstance(schema, dict):
            raise Unsupported("the false schema")
        if "$ref" in schema:
            if set(schema) - ANNOTATIONS != {"$ref"}:
                raise Unsupported("$ref beside other keywords")
            return self._ref(schema["$ref"])
        keys = set(schema) - ANNOTATIONS
        if "enum" in schema or "const" in schema:
            return _literal(schema, keys)
        if ("anyOf" in schema or "oneOf" in schema) and "properties" not in schema:
            return self._union_of(schema, keys)
        types = schema.get("type")
        if types is None:
            raise Unsupported("no type")
        names = [types] if isinstance(types, str) else list(types)
        if top and names != ["object"]:
            raise Unsupported("the root must be an object type")
        parts = [self._typed(schema, name, keys, top) for name in names]
        built = _union(parts)
        return self._widen(schema, built) if self.lenient else built

    def _widen(self, schema: dict[str, Any], built: FastType) -> FastType:
        if built.kinds & {"object", "array"}:
            return built
        sources = _coercion_sources(built.kinds, self.options.coercions, schema.get("format"))
        sources -= built.kinds
        if not sources:
            return built
        extra = tuple(_PYTHON[kind] for kind in sorted(sources))
        exact = frozenset(t for kind in built.kinds for t in _EXACT[kind])
        self.widened += 1
        return FastType(
            Union[(built.annotation, *extra)],
            built.kinds | sources,
            built.walker,
            built.depth,
            built.structs,
            _repair(exact, schema, built.kinds, self.options, self.compiler.compile(schema, "#")),
        )

    def _ref(self, ref: Any) -> FastType:
        target = self.refs._target(self.refs._local(ref, "$ref"), "$ref")
        if id(target) in self._active:
            raise Unsupported("a recursive schema")
        self._active.add(id(target))
        try:
            return self.build(target)
        finally:
            self._active.discard(id(target))

    def _union_of(self, schema: dict[str, Any], keys: set[str]) -> FastType:
        keyword = "anyOf" if "anyOf" in schema else "oneOf"
        if keys != {keyword}:
            raise Unsupported(f"{keyword} beside other keywords")
        parts = [self.build(branch) for branch in schema[keyword]]
        union = _union(parts)
        if keyword == "oneOf" and {"integer", "number"} & union.kinds == {"integer", "number"}:
            raise Unsupported("oneOf mixing integer and number")
        return union

    def _typed(self, schema: dict[str, Any], name: str, keys: set[str], top: bool) -> FastType:
        if name == "object":
            return self._object(schema, keys, top)
        if name == "array":
            return self._array(schema, keys)
        if name == "string":
            _only(keys, _STRING_KEYS | {"format"})
            meta = _meta(
                min_length=schema.get("minLength"),
                max_length=schema.get("maxLength"),
                pattern=_pattern(schema.get("pattern")),
            )
            return FastType(_annotate(str, meta), frozenset({"string"}))
        if name in ("integer", "number"):
            _only(keys, _NUMBER_KEYS)
            meta = _meta(
                ge=schema.get("minimum"),
                le=schema.get("maximum"),
                gt=schema.get("exclusiveMinimum"),
                lt=schema.get("exclusiveMaximum"),
            )
            if name == "integer":
                return FastType(_annotate(int, meta), frozenset({"integer"}))
            return FastType(
                Union[_annotate(int, meta), _annotate(float, meta)],  # noqa: UP007 - built at runtime
                frozenset({"integer", "number"}),
            )
        if name == "boolean":
            return FastType(bool, frozenset({"boolean"}))
        return FastType(None, frozenset({"null"}))

    def _object(self, schema: dict[str, Any], keys: set[str], top: bool) -> FastType:
        _only(keys, _OBJECT_KEYS)
        declared = schema.get("properties")
        additional = schema.get("additionalProperties", True)
        if declared is None:
            if additional is False:
                raise Unsupported("an object that allows nothing")
            values = self.build(additional)
            return FastType(
                dict[str, values.annotation],  # type: ignore[name-defined]
                frozenset({"object"}),
                _map_walker(values.walker, values.repair),
                values.depth + 1,
                values.structs,
                open_ended=values.open_ended,
            )
        if additional not in (True, False):
            raise Unsupported("properties beside an additionalProperties schema")
        if "anyOf" in schema and "oneOf" in schema:
            raise Unsupported("anyOf and oneOf together")
        required = set(schema.get("required", ()))
        if not required <= set(declared):
            raise Unsupported("required names without a property")
        fields: list[tuple[str, Any, Any]] = []
        rename: dict[str, str] = {}
        fills: list[tuple[str, Any]] = []
        subs: list[tuple[str, Walker]] = []
        repairs: list[tuple[str, Repair]] = []
        open_ended = False
        depth = 0
        structs: list[type] = []
        for index, (name, sub) in enumerate(declared.items()):
            if top and name in self.ignored:
                raise Unsupported("the schema declares a metadata field")
            built = self.build(sub)
            attr = f"f{index}"
            rename[attr] = name
            depth = max(depth, built.depth)
            structs.extend(built.structs)
            open_ended = open_ended or built.open_ended
            if built.walker is not None:
                subs.append((attr, built.walker))
            if built.repair is not None:
                repairs.append((attr, built.repair))
            fill = self._fill(sub, built, name in required)
            if fill is _REQUIRED:
                fields.append((attr, built.annotation, msgspec.NODEFAULT))
                continue
            if fill is not _NO_FILL:
                fills.append((attr, fill))
            fields.append((attr, Union[built.annotation, msgspec.UnsetType], msgspec.UNSET))  # noqa: UP007
        self._count += 1
        # kw_only lets required and optional fields keep the schema's order, which is the
        # order msgspec encodes them in
        struct = msgspec.defstruct(
            f"Fast{self._count}",
            [(a, t) if d is msgspec.NODEFAULT else (a, t, d) for a, t, d in fields],
            rename=rename,
            forbid_unknown_fields=True,
            kw_only=True,
        )
        attrs = {name: attr for attr, name in rename.items()}
        checks = _presence_checks(schema, attrs)
        walker = (
            _struct_walker(struct, fills, subs, repairs, checks)
            if fills or subs or repairs or checks
            else None
        )
        return FastType(
            struct,
            frozenset({"object"}),
            walker,
            depth + 1,
            [*structs, struct],
            open_ended=open_ended,
        )

    def _fill(self, sub: Any, built: FastType, required: bool) -> Any:
        options = self.options
        if options.use_defaults and isinstance(sub, dict) and "default" in sub:
            return ("value", sub["default"])
        nullable = "null" in built.kinds
        if nullable and (required or options.missing is not MissingPolicy.OMIT):
            return ("value", None)
        if required or options.missing is MissingPolicy.REJECT:
            return _REQUIRED
        return _NO_FILL

    def _array(self, schema: dict[str, Any], keys: set[str]) -> FastType:
        _only(keys, _ARRAY_KEYS)
        built = self.build(schema.get("items", True))
        meta = _meta(min_length=schema.get("minItems"), max_length=schema.get("maxItems"))
        return FastType(
            _annotate(list[built.annotation], meta),  # type: ignore[name-defined]
            frozenset({"array"}),
            _list_walker(built.walker, built.repair),
            built.depth + 1,
            built.structs,
            open_ended=built.open_ended,
        )


_REQUIRED: Any = object()
_NO_FILL: Any = object()


def _never(value: Any, ctx: Any) -> Any:  # pragma: no cover - the resolver's nodes are unused
    raise AssertionError


def _only(keys: set[str], allowed: frozenset[str]) -> None:
    extra = keys - allowed
    if extra:
        raise Unsupported(f"keywords {sorted(extra)}")


def _pattern(pattern: Any) -> str | None:
    if pattern is None:
        return None
    re.compile(pattern)  # the compiler already refused a bad one; keep the same dialect
    return str(pattern)


def _meta(**constraints: Any) -> msgspec.Meta | None:
    given = {k: v for k, v in constraints.items() if v is not None}
    for value in given.values():
        if isinstance(value, bool):
            raise Unsupported("a boolean bound")
    return msgspec.Meta(**given) if given else None


def _annotate(annotation: Any, meta: msgspec.Meta | None) -> Any:
    return annotation if meta is None else Annotated[annotation, meta]


def _literal(schema: dict[str, Any], keys: set[str]) -> FastType:
    if not keys <= {"enum", "const", "type"}:
        raise Unsupported("enum beside other keywords")
    choices = schema["enum"] if "enum" in schema else [schema["const"]]
    if "enum" in schema and "const" in schema:
        raise Unsupported("enum and const together")
    kinds: set[str] = set()
    for choice in choices:
        if isinstance(choice, bool) or not isinstance(choice, str | int | None):
            raise Unsupported("enum values other than strings, integers and null")
        kinds.add("null" if choice is None else "string" if isinstance(choice, str) else "integer")
    types = schema.get("type")
    if types is not None:
        allowed = {types} if isinstance(types, str) else set(types)
        if "number" in allowed:
            allowed.add("integer")
        choices = [c for c, k in zip(choices, _kinds(choices), strict=True) if k in allowed]
        kinds &= allowed
    if not choices:
        raise Unsupported("an enum nothing can match")
    return FastType(Literal[tuple(choices)], frozenset(kinds))


def _kinds(choices: list[Any]) -> list[str]:
    return ["null" if c is None else "string" if isinstance(c, str) else "integer" for c in choices]


def _union(parts: list[FastType]) -> FastType:
    if len(parts) == 1:
        return parts[0]
    kinds: set[str] = set()
    for part in parts:
        if part.kinds & kinds:
            raise Unsupported("union branches that overlap in JSON type")
        if part.repair is not None:
            raise Unsupported("a coercible branch inside a union")
        kinds |= part.kinds
    walkers = [p.walker for p in parts if p.walker is not None]
    return FastType(
        Union[tuple(p.annotation for p in parts)],  # noqa: UP007
        frozenset(kinds),
        walkers[0] if len(walkers) == 1 else _any_walker(walkers) if walkers else None,
        max(p.depth for p in parts),
        [s for p in parts for s in p.structs],
        open_ended=any(p.open_ended for p in parts),
    )


_ALL_KINDS = frozenset({"object", "array", "string", "integer", "number", "boolean", "null"})
_PYTHON: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool}
_EXACT: dict[str, tuple[Any, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def _coercion_sources(
    kinds: frozenset[str], enabled: frozenset[Coercion], string_format: Any
) -> set[str]:
    """The JSON types a value may arrive as and still be coerced into ``kinds``."""
    sources: set[str] = set()
    if "integer" in kinds and "number" not in kinds:
        sources.add("number")  # 1.0 is an integer to JSON Schema; the node normalises it
    if "integer" in kinds and Coercion.STRING_TO_INTEGER in enabled:
        sources.add("string")
    if "number" in kinds and Coercion.STRING_TO_NUMBER in enabled:
        sources.add("string")
    if "boolean" in kinds and Coercion.STRING_TO_BOOLEAN in enabled:
        sources.add("string")
    if "string" in kinds:
        if string_format == "date-time":
            if Coercion.EPOCH_TO_DATETIME in enabled:
                sources.add("integer")
        elif Coercion.NUMBER_TO_STRING in enabled:
            sources |= {"integer", "number"}
    return sources


def _repair(
    exact: frozenset[Any],
    schema: dict[str, Any],
    kinds: frozenset[str],
    options: TransformOptions,
    node: Node,
) -> Repair:
    """``value -> (conformed, colons added)`` or Refused; a direct call for the common cases.

    Any case it does not specialise goes through the compiled node, which is the definition;
    the direct converters are the very functions that node's coercer calls, in its order.
    """
    enabled = options.coercions
    base = kinds - {"null"}
    direct: Callable[[Any], Any] | None = None
    check: Callable[[Any, Ctx], Any] | None = None
    source: type = str
    # colons a direct conversion adds: none of the accepted number/boolean texts holds one,
    # and an RFC 3339 time always holds two ("HH:MM:SS")
    delta = 0
    if base == {"integer"} and Coercion.STRING_TO_INTEGER in enabled:
        direct, check = string_to_integer, number_check(schema)
    elif base == {"integer", "number"} and Coercion.STRING_TO_NUMBER in enabled:
        direct, check = string_to_number, number_check(schema)
    elif base == {"boolean"} and Coercion.STRING_TO_BOOLEAN in enabled:
        direct = string_to_boolean
    elif base == {"string"} and schema.get("format") == "date-time":
        if Coercion.EPOCH_TO_DATETIME in enabled:
            direct, check, source, delta = epoch_to_datetime, string_check(schema, "#"), int, 2
    elif base == {"string"} and Coercion.NUMBER_TO_STRING in enabled:
        direct, check, source = number_to_string, string_check(schema, "#"), int

    # the check only appends reasons when it fails, and then the fix gives up (and clears
    # them), so one scratch context serves every call
    scratch = Ctx()

    def fix(value: Any) -> tuple[Any, int]:
        if type(value) is source and direct is not None:
            result = direct(value)
            if result is None or (check is not None and check(result, scratch) is FAIL):
                scratch.reasons.clear()
                raise Refused
            return result, delta
        result = node(value, Ctx())
        if result is FAIL:
            raise Refused
        before = value.count(":") if type(value) is str else 0
        after = result.count(":") if type(result) is str else 0
        return result, after - before

    return Repair(exact, fix, direct, source, check, delta, schema)


_BOUND_OPERATORS = {
    "minimum": ">=",
    "maximum": "<=",
    "exclusiveMinimum": ">",
    "exclusiveMaximum": "<",
}


def _inline_bounds(schema: dict[str, Any]) -> list[tuple[str, Any]] | None:
    """Numeric bounds as ``(operator, bound)`` for generated code; None if more is checked."""
    if set(schema) & {"multipleOf", "minLength", "maxLength", "pattern"}:
        return None
    bounds = []
    for keyword, operator_text in _BOUND_OPERATORS.items():
        bound = schema.get(keyword)
        if bound is not None:
            if isinstance(bound, bool) or not isinstance(bound, int | float):
                return None
            bounds.append((operator_text, bound))
    return bounds


def _colons(value: Any) -> int:
    return msgspec.json.encode(value).count(b":")


Check = Callable[[Any], bool]


def _presence_checks(schema: dict[str, Any], attrs: dict[str, str]) -> list[Check]:
    """``dependentRequired`` and tagged-union branches as predicates over a decoded struct."""
    checks: list[Check] = []
    dependent = schema.get("dependentRequired")
    if dependent:
        checks.append(_dependent_check(dependent, attrs))
    for keyword in ("oneOf", "anyOf"):
        if keyword in schema:
            branches = [_branch_check(b, attrs) for b in schema[keyword]]
            checks.append(_choice_check(branches, exactly_one=keyword == "oneOf"))
    return checks


def _dependent_check(dependent: dict[str, list[str]], attrs: dict[str, str]) -> Check:
    unset = msgspec.UNSET
    rules: list[tuple[str, list[str | None]]] = [
        (attrs[trigger], [attrs.get(n) for n in needed])
        for trigger, needed in dependent.items()
        if trigger in attrs  # an undeclared trigger can never be present in the struct
    ]

    def check(obj: Any) -> bool:
        for trigger, needed in rules:
            if getattr(obj, trigger) is not unset:
                for attr in needed:
                    if attr is None or getattr(obj, attr) is unset:
                        return False
        return True

    return check


def _branch_check(branch: Any, attrs: dict[str, str]) -> Check:
    if not isinstance(branch, dict) or not set(branch) - ANNOTATIONS <= _BRANCH_KEYS:
        raise Unsupported("a union branch beside properties that is more than a tag")
    unset = msgspec.UNSET
    values: list[tuple[str, frozenset[Any]]] = []
    for name, sub in branch.get("properties", {}).items():
        if not isinstance(sub, dict) or not set(sub) - ANNOTATIONS <= _BRANCH_PROPERTY_KEYS:
            raise Unsupported("a tag property that is more than const or enum")
        if "type" in sub or name not in attrs:
            raise Unsupported("a tag property with a type, or undeclared")
        allowed = [sub["const"]] if "const" in sub else list(sub.get("enum", []))
        if "const" in sub and "enum" in sub:
            raise Unsupported("const and enum together")
        if any(isinstance(v, bool | float | dict | list) for v in allowed):
            raise Unsupported("a tag that is not a string, integer or null")
        values.append((attrs[name], frozenset(allowed)))
    required = [attrs.get(n) for n in branch.get("required", [])]
    dependent = _dependent_check(branch.get("dependentRequired", {}), attrs)

    def check(obj: Any) -> bool:
        for attr, allowed in values:
            value = getattr(obj, attr)
            # True == 1 in Python: a boolean is never an allowed string/integer/null tag
            if value is not unset and (type(value) is bool or value not in allowed):
                return False
        for name in required:
            if name is None or getattr(obj, name) is unset:
                return False
        return dependent(obj)

    return check


def _choice_check(branches: list[Check], *, exactly_one: bool) -> Check:
    def check(obj: Any) -> bool:
        matched = sum(1 for branch in branches if branch(obj))
        return matched == 1 if exactly_one else matched >= 1

    return check


def _struct_walker(
    struct: type,
    fills: list[tuple[str, Any]],
    subs: list[tuple[str, Walker]],
    repairs: list[tuple[str, Repair]],
    checks: list[Check],
) -> Walker:
    """One generated function per struct type: every field access is a plain attribute.

    Measured against a loop over ``(attr, …)`` tuples with ``getattr``/``setattr``, the
    generated body is about twice as fast, and the walker is most of the coercion path's
    Python time. The source only names attributes (``f0``, ``f1``, … chosen here) and
    values bound in its namespace, never text taken from the schema.
    """
    namespace: dict[str, Any] = {
        "struct": struct,
        "unset": msgspec.UNSET,
        "Refused": Refused,
        "fresh": _fresh,
        "FAIL": FAIL,
        # checks append reasons only when they fail, and then the walker gives up (and
        # clears them), so one scratch context serves every call
        "scratch": Ctx(),
    }
    body = [
        "def walk(obj):",
        "    if type(obj) is not struct:",
        "        return 0",
        "    added = 0",
    ]
    for index, (attr, (_, value)) in enumerate(fills):
        namespace[f"fill_{index}"] = value
        # each filled field adds its key's colon and those inside its value
        colons = 1 + _colons(value)
        # container defaults get a fresh copy each time so no two events share one
        fill = f"fresh(fill_{index})" if isinstance(value, dict | list) else f"fill_{index}"
        body += [
            f"    if obj.{attr} is unset:",
            f"        obj.{attr} = {fill}",
            f"        added += {colons}",
        ]
    for index, (attr, repair) in enumerate(repairs):
        namespace[f"exact_{index}"], namespace[f"fix_{index}"] = repair.exact, repair.fix
        body += [
            f"    value = obj.{attr}",
            f"    if type(value) not in exact_{index} and value is not unset:",
        ]
        if repair.direct is not None:
            # the common coercion inline: one call, no tuple, no generic node
            namespace[f"source_{index}"] = repair.source
            namespace[f"direct_{index}"] = repair.direct
            namespace[f"check_{index}_value"] = repair.check
            body.append(f"        if type(value) is source_{index}:")
            if repair.direct is string_to_integer:
                # plain non-negative digits inline (the common "42"); the rest by the function
                body += [
                    "            if value.isascii() and value.isdigit() and "
                    "len(value) <= 4300 and (value[0] != '0' or len(value) == 1):",
                    "                result = int(value)",
                    "            else:",
                    f"                result = direct_{index}(value)",
                ]
            else:
                body.append(f"            result = direct_{index}(value)")
            body += ["            if result is None:", "                raise Refused"]
            bounds = _inline_bounds(repair.schema) if repair.check is not None else None
            if bounds is not None:
                for bound_index, (operator_text, bound) in enumerate(bounds):
                    name = f"bound_{index}_{bound_index}"
                    namespace[name] = bound
                    body += [
                        f"            if not (result {operator_text} {name}):",
                        "                raise Refused",
                    ]
            elif repair.check is not None:
                body += [
                    f"            if check_{index}_value(result, scratch) is FAIL:",
                    "                scratch.reasons.clear()",
                    "                raise Refused",
                ]
            body += [
                f"            obj.{attr} = result",
                f"            added += {repair.delta}",
                "        else:",
                f"            obj.{attr}, colons = fix_{index}(value)",
                "            added += colons",
            ]
        else:
            body += [f"        obj.{attr}, colons = fix_{index}(value)", "        added += colons"]
    for index, (attr, sub) in enumerate(subs):
        namespace[f"sub_{index}"] = sub
        body.append(f"    added += sub_{index}(obj.{attr})")
    for index, check in enumerate(checks):
        namespace[f"check_{index}"] = check
        body += [f"    if not check_{index}(obj):", "        raise Refused"]
    body.append("    return added")
    exec("\n".join(body), namespace)  # generated from attribute names only (see above)
    walker: Walker = namespace["walk"]
    return walker


def _fresh(value: Any) -> Any:
    return msgspec.json.decode(msgspec.json.encode(value))


def _depth_walker(budget: list[int]) -> Walker:
    def walk(value: Any) -> int:
        if type(value) is dict or type(value) is list:
            depth, _ = measure(value, budget[0])
            if depth > budget[0]:
                raise Refused  # perhaps too deep: the Python path measures exactly
        return 0

    return walk


def _list_walker(items: Walker | None, repair: Repair | None) -> Walker | None:
    if items is None and repair is None:
        return None

    def walk(value: Any) -> int:
        if type(value) is not list:
            return 0
        added = 0
        if repair is not None:
            exact, fix = repair.exact, repair.fix
            for index, item in enumerate(value):
                if type(item) not in exact:
                    value[index], colons = fix(item)
                    added += colons
        if items is not None:
            for item in value:  # a plain loop: a generator per list costs more than the walk
                added += items(item)
        return added

    return walk


def _map_walker(values: Walker | None, repair: Repair | None) -> Walker | None:
    if values is None and repair is None:
        return None

    def walk(value: Any) -> int:
        if type(value) is not dict:
            return 0
        added = 0
        if repair is not None:
            exact, fix = repair.exact, repair.fix
            for key, item in value.items():
                if type(item) not in exact:
                    value[key], colons = fix(item)
                    added += colons
        if values is not None:
            for item in value.values():
                added += values(item)
        return added

    return walk


def _any_walker(walkers: list[Walker]) -> Walker:
    def walk(value: Any) -> int:
        return sum(w(value) for w in walkers)

    return walk
