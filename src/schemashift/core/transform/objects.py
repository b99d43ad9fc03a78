"""The object rule: declared properties, absent fields, extras, maps and object keywords.

Output keys come in the schema's ``properties`` order, then the other kept keys in input
order — the same order the typed fast path produces, so both paths emit identical bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import Enum
from typing import Any

from schemashift.core.transform.context import FAIL, Ctx, Node, copy_json
from schemashift.core.transform.options import ExtrasPolicy, MissingPolicy, TransformOptions
from schemashift.core.transform.result import ReasonCode
from schemashift.errors import InvalidSchemaError


class Absent(Enum):
    """What to do when a declared property is not in the payload."""

    OMIT = "omit"
    DEFAULT = "default"
    NULL = "null"
    REJECT = "reject"


@dataclass(slots=True)
class Property:
    name: str
    node: Node
    simple: frozenset[type]  # Python types that pass unchanged without calling ``node``
    required: bool
    schema: Any
    absent: Absent = Absent.OMIT  # settled by ``settle`` once every $ref is compiled
    default: Any = None


@dataclass(slots=True)
class ObjectRules:
    properties: list[Property]
    patterns: list[tuple[re.Pattern[str], Node]]
    additional: Node | bool  # True: open, False: closed, a node: a map's value schema
    extras: ExtrasPolicy  # for undeclared fields of an open schema
    closed_extras: ExtrasPolicy  # for undeclared fields of a closed one
    min_properties: int | None
    max_properties: int | None
    dependent_required: dict[str, frozenset[str]]
    dependent_schemas: dict[str, Node]
    property_names: Node | None
    ignored: frozenset[str]  # top-level metadata fields, rewritten by the transformer
    # a branch beside an object's own rule only checks: it fills nothing (the outer rule did)
    constraint_only: bool = False

    def settle(self, options: TransformOptions, validates: Callable[[Node, Any], bool]) -> None:
        """Decide each property's absent action; needs finished nodes (for null and defaults)."""
        for prop in self.properties:
            if self.constraint_only or options.missing is MissingPolicy.STRICT:
                prop.absent = Absent.REJECT if prop.required else Absent.OMIT
                continue
            has_default = (
                options.use_defaults and isinstance(prop.schema, dict) and "default" in prop.schema
            )
            if has_default:
                conformed = prop.node(prop.schema["default"], Ctx(coerce=False))
                if conformed is FAIL:
                    raise InvalidSchemaError(
                        f"the default of property {prop.name!r} is not valid under its schema"
                    )
                prop.absent, prop.default = Absent.DEFAULT, conformed
                continue
            fill_null = prop.required or options.missing is not MissingPolicy.OMIT
            if fill_null and validates(prop.node, None):
                prop.absent = Absent.NULL
            elif prop.required or options.missing is MissingPolicy.REJECT:
                prop.absent = Absent.REJECT
            else:
                prop.absent = Absent.OMIT


def object_handler(rules: ObjectRules) -> Callable[[dict[str, Any], Ctx], Any]:
    properties = rules.properties
    names = frozenset(p.name for p in properties) | rules.ignored
    table = [(p.name, p.node, p.simple, p.required, p) for p in properties]

    def handle(value: dict[str, Any], ctx: Ctx) -> Any:
        out: dict[str, Any] = {}
        failed = False
        mark = len(ctx.reasons)
        present = 0
        for name, node, simple, required, prop in table:
            if name in value:
                present += 1
                item = value[name]
                if type(item) in simple:
                    out[name] = item
                    continue
                result = node(item, ctx)
                if result is FAIL:
                    failed = True
                    mark = ctx.prefix(mark, name)
                else:
                    out[name] = result
                continue
            absent = prop.absent
            if absent is Absent.OMIT or (ctx.validate and not required):
                continue
            if absent is Absent.DEFAULT and not ctx.validate:
                out[name] = copy_json(prop.default, ctx)
            elif absent is Absent.NULL and not ctx.validate:
                out[name] = None
            else:
                ctx.fail(ReasonCode.REQUIRED_MISSING, "required field is missing")
                failed = True
                mark = ctx.prefix(mark, name)
        if present != len(value):
            for key, item in value.items():
                if key in names:  # declared (handled above) or metadata (rewritten later)
                    continue
                result = _extra(rules, key, item, ctx)
                if result is FAIL:
                    failed = True
                    mark = ctx.prefix(mark, str(key))
                elif result is not _DROPPED:
                    out[key] = result
        if failed:
            return FAIL
        return _object_keywords(rules, out, ctx) if keywords else out

    keywords = (
        rules.min_properties is not None
        or rules.max_properties is not None
        or bool(rules.dependent_required)
        or bool(rules.dependent_schemas)
        or rules.property_names is not None
    )
    return handle


class _Dropped:
    __slots__ = ()


_DROPPED: Any = _Dropped()


def _extra(rules: ObjectRules, key: Any, item: Any, ctx: Ctx) -> Any:
    if not isinstance(key, str):
        return ctx.fail(ReasonCode.NOT_JSON, f"object key {key!r} is not a string")
    matched = False
    for regex, node in rules.patterns:
        if regex.search(key) is not None:
            # every matching patternProperties schema applies, one after the other
            matched = True
            item = node(item, ctx)
            if item is FAIL:
                return FAIL
    if matched:
        return item
    additional = rules.additional
    if additional is True:
        policy = ExtrasPolicy.KEEP if ctx.validate else rules.extras
    elif additional is False:
        policy = ExtrasPolicy.REJECT if ctx.validate else rules.closed_extras
    else:
        return additional(item, ctx)
    if policy is ExtrasPolicy.KEEP:
        return copy_json(item, ctx)
    if policy is ExtrasPolicy.DROP:
        return _DROPPED
    return ctx.fail(ReasonCode.EXTRA_FIELD, "field is not declared by the schema")


def _object_keywords(rules: ObjectRules, out: dict[str, Any], ctx: Ctx) -> Any:
    count = len(out)
    if rules.min_properties is not None and count < rules.min_properties:
        return ctx.fail(
            ReasonCode.TOO_FEW_PROPERTIES, f"fewer than {rules.min_properties} properties"
        )
    if rules.max_properties is not None and count > rules.max_properties:
        return ctx.fail(
            ReasonCode.TOO_MANY_PROPERTIES, f"more than {rules.max_properties} properties"
        )
    for trigger, needed in rules.dependent_required.items():
        if trigger in out and not out.keys() >= needed:  # a set test, not a loop
            missing = sorted(needed - out.keys())
            if missing:
                return ctx.fail(
                    ReasonCode.DEPENDENCY_MISSING, f"{trigger!r} requires {', '.join(missing)}"
                )
    for trigger, node in rules.dependent_schemas.items():
        if trigger in out and node(out, Ctx(validate=True)) is FAIL:
            return ctx.fail(
                ReasonCode.CONDITION_FAILED,
                f"does not satisfy the schema that {trigger!r} requires",
            )
    if rules.property_names is not None:
        mark = len(ctx.reasons)
        for key in out:
            if rules.property_names(key, Ctx(validate=True)) is FAIL:
                ctx.fail(ReasonCode.PROPERTY_NAME_INVALID, f"property name {key!r} is not allowed")
                ctx.prefix(mark, key)
                return FAIL
    return out


def required_names(schema: dict[str, Any], where: str) -> Collection[str]:
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(n, str) for n in required):
        raise InvalidSchemaError(f"{where}: required must be an array of strings")
    return required
