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

The *lenient* variants (level 1: numbers, booleans and date-times; level 2: plain strings as
well) widen each scalar whose schema has an enabled coercion with the JSON types the coercion
starts from (an ``integer`` field also accepts strings and floats); the
walker then passes every value that is not of the exact type through the compiled Python
node of that schema, which coerces and checks it exactly as the Python path would.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union

import msgspec

from schemashift.core.transform.compiler import ANNOTATIONS, SchemaCompiler
from schemashift.core.transform.options import Coercion, MissingPolicy, TransformOptions
from schemashift.core.transform.refs import RefResolver
from schemashift.core.transform.walkers import (
    Repair,
    Unsupported,
    Walker,
    any_walker,
    depth_walker,
    list_walker,
    make_repair,
    map_walker,
    presence_checks,
    struct_walker,
)

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
_UNRENAMEABLE = re.compile(r'["\\\x00-\x1f]')
_ARRAY_KEYS = frozenset({"type", "items", "minItems", "maxItems"})
_STRING_KEYS = frozenset({"type", "minLength", "maxLength", "pattern"})
_NUMBER_KEYS = frozenset({"type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})


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
        lenient: int = 0,
        defaults: dict[int, Any] | None = None,
    ) -> None:
        self.options = options
        self.ignored = ignored
        self.defaults = defaults or {}
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
            return FastType(Any, _ALL_KINDS, depth_walker(self.budget), open_ended=True)
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
        return self._widen(schema, built) if self.lenient > 0 else built

    def _widen(self, schema: dict[str, Any], built: FastType) -> FastType:
        if built.kinds & {"object", "array"}:
            return built
        sources = _coercion_sources(
            built.kinds, self.options.coercions, schema.get("format"), self.lenient >= 2
        )
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
            make_repair(
                exact, schema, built.kinds, self.options, self.compiler.compile(schema, "#")
            ),
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
            integer = _annotate(int, _integer_meta(schema))
            if name == "integer":
                return FastType(integer, frozenset({"integer"}))
            return FastType(
                Union[integer, _annotate(float, _float_meta(schema))],  # noqa: UP007 - built at runtime
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
                map_walker(values.walker, values.repair),
                values.depth + 1,
                values.structs,
                open_ended=values.open_ended,
            )
        if additional not in (True, False):
            raise Unsupported("properties beside an additionalProperties schema")
        if "anyOf" in schema and "oneOf" in schema:
            raise Unsupported("anyOf and oneOf together")
        required = set(schema.get("required", ())) - (self.ignored if top else set())
        if not required <= set(declared):
            raise Unsupported("required names without a property")
        fields: list[tuple[str, Any, Any]] = []
        rename: dict[str, str] = {}
        fills: list[tuple[str, Any]] = []
        subs: list[tuple[str, Walker]] = []
        repairs: list[tuple[str, Repair]] = []
        strips: list[str] = []
        open_ended = False
        depth = 0
        structs: list[type] = []
        for index, (name, sub) in enumerate(declared.items()):
            attr = f"f{index}"
            if top and name in self.ignored:
                # a metadata field the schema declares (a schema learned from conformed
                # events): accepted as anything, removed by the walker, written afresh
                rename[attr] = name
                strips.append(attr)
                fields.append((attr, Union[Any, msgspec.UnsetType], msgspec.UNSET))  # noqa: UP007
                continue
            built = self.build(sub)
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
        if any(_UNRENAMEABLE.search(name) for name in rename.values()):
            # JSON allows any key, msgspec's rename does not: such objects take the Python path
            raise Unsupported("a property name with a quote, backslash or control character")
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
        checks = presence_checks(schema, attrs)
        walker = (
            struct_walker(struct, fills, subs, repairs, checks, strips)
            if fills or subs or repairs or checks or strips
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
            # the default as the Python path conformed it (nested defaults, dropped extras)
            if id(sub) not in self.defaults:
                raise Unsupported("a default the Python path did not settle")
            return ("value", self.defaults[id(sub)])
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
            list_walker(built.walker, built.repair),
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


def _integer_meta(schema: dict[str, Any]) -> msgspec.Meta | None:
    """Bounds for ``int`` values, as ``ge``/``le`` integers (what msgspec takes for ``int``).

    For an integer ``v``: ``v >= 2.5`` is ``v >= 3``, ``v > 2.5`` and ``v > 2`` are
    ``v >= 3``, ``v <= 2.5`` is ``v <= 2``, ``v < 2.5`` is ``v <= 2``; both lower bounds
    (or both upper ones) together keep the stricter.
    """
    lows, highs = [], []
    for keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = schema.get(keyword)
        if bound is None:
            continue
        if isinstance(bound, bool) or not isinstance(bound, int | float):
            raise Unsupported("a bound that is not a number")
        if keyword == "minimum":
            lows.append(math.ceil(bound))
        elif keyword == "maximum":
            highs.append(math.floor(bound))
        elif keyword == "exclusiveMinimum":
            lows.append(math.floor(bound) + 1)
        else:
            highs.append(math.ceil(bound) - 1)
    bounds = {"ge": max(lows)} if lows else {}
    if highs:
        bounds["le"] = min(highs)
    return _bounds_meta(bounds)


def _float_meta(schema: dict[str, Any]) -> msgspec.Meta | None:
    """Bounds for ``float`` values; an integer bound a double cannot hold exactly is refused."""
    bounds: dict[str, float] = {}
    for keyword, key in (
        ("minimum", "ge"),
        ("maximum", "le"),
        ("exclusiveMinimum", "gt"),
        ("exclusiveMaximum", "lt"),
    ):
        bound = schema.get(keyword)
        if bound is None:
            continue
        if isinstance(bound, bool) or not isinstance(bound, int | float):
            raise Unsupported("a bound that is not a number")
        if isinstance(bound, int) and float(bound) != bound:
            raise Unsupported("an integer bound beyond a double's precision")
        bounds[key] = float(bound)
    if ("ge" in bounds and "gt" in bounds) or ("le" in bounds and "lt" in bounds):
        raise Unsupported("an inclusive and an exclusive bound on one side")
    return _bounds_meta(bounds)


def _bounds_meta(bounds: dict[str, int] | dict[str, float]) -> msgspec.Meta | None:
    # msgspec's stubs spell out which bounds combine; the checks above keep to them
    meta: Any = msgspec.Meta
    return meta(**bounds) if bounds else None


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
        walkers[0] if len(walkers) == 1 else any_walker(walkers) if walkers else None,
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
    kinds: frozenset[str], enabled: frozenset[Coercion], string_format: Any, strings: bool
) -> set[str]:
    """The JSON types a value may arrive as and still be coerced into ``kinds``.

    ``strings=False`` leaves plain string fields alone (numbers sent for text are rarer than
    text sent for numbers, and widening every string field costs every payload a check).
    """
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
        elif Coercion.NUMBER_TO_STRING in enabled and strings:
            sources |= {"integer", "number"}
    return sources
