"""Walkers: the Python that runs on a decoded struct tree after msgspec has typed it.

A walker fills defaults, mends values the lenient decoder let through for a coercion,
checks what msgspec cannot express (``dependentRequired``, tagged-union branches, the depth
of ``Any`` values) and returns the colons it added, for the duplicate-key check of
:mod:`schemashift.core.transform.fastpath`. It raises :class:`Refused` when the payload
needs the Python path instead. Struct walkers are generated code (see ``struct_walker``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from itertools import compress
from operator import is_not
from typing import Any

import msgspec

from schemashift.core.jsonparse import measure
from schemashift.core.transform.coercions import (
    epoch_to_datetime,
    number_to_string,
    string_to_boolean,
    string_to_integer,
    string_to_number,
)
from schemashift.core.transform.compiler import ANNOTATIONS
from schemashift.core.transform.context import FAIL, Ctx, Node
from schemashift.core.transform.options import Coercion, TransformOptions
from schemashift.core.transform.scalars import number_check, string_check

# what a tagged-union branch beside an object's properties may say (checked on the struct)
_BRANCH_KEYS = frozenset({"properties", "required", "dependentRequired"})
_BRANCH_PROPERTY_KEYS = frozenset({"const", "enum", "type"})


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


def make_repair(
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


def presence_checks(schema: dict[str, Any], attrs: dict[str, str]) -> list[Check]:
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
    """``dependentRequired`` on a struct with set operations in C.

    Inferred schemas carry one rule per co-occurring field, each listing dozens of others, so
    a field-by-field loop would cost fields x rules per object; the present fields are
    collected once (``astuple`` + ``compress``) and each rule is one subset test.
    """
    unset = msgspec.UNSET
    order = list(attrs.values())  # struct field order: attrs maps name -> f0, f1, ...
    names_by_attr = {attr: name for name, attr in attrs.items()}
    names = [names_by_attr[a] for a in sorted(order, key=lambda a: int(a[1:]))]
    # "t present => N present" is "t present => N + {t} present"; inferred schemas list every
    # member of a co-occurring group with the others, so N + {t} is the same set for the whole
    # group: one (triggers, needed) pair per group, and a check is a few set tests
    groups: dict[frozenset[str], set[str]] = {}
    for trigger, needed in dependent.items():
        if trigger in attrs:  # an undeclared trigger can never be present in the struct
            groups.setdefault(frozenset(needed) | {trigger}, set()).add(trigger)
    pairs = [(frozenset(triggers), needed) for needed, triggers in groups.items()]
    is_set = partial(is_not, unset)
    astuple = msgspec.structs.astuple

    def check(obj: Any) -> bool:
        present = set(compress(names, map(is_set, astuple(obj))))
        # a needed name the struct does not declare is never present: the rule then fails
        for triggers, needed in pairs:
            if not triggers.isdisjoint(present) and not needed <= present:
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


def struct_walker(
    struct: type,
    fills: list[tuple[str, Any]],
    subs: list[tuple[str, Walker]],
    repairs: list[tuple[str, Repair]],
    checks: list[Check],
    strips: list[str],
) -> Walker:
    """One generated function per struct type: every field access is a plain attribute.

    Measured against a loop over ``(attr, …)`` tuples with ``getattr``/``setattr``, the
    generated body is several times faster (about 9x on an 8-field struct with 4 fills and
    4 repairs), and the walker is most of the coercion path's Python time. The source only names attributes (``f0``, ``f1``, … chosen here) and
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
    namespace["colons_of"] = _colons
    for attr in strips:
        # the input's own metadata value leaves the output, with its key's colon and its own
        # (a container there is not metadata, and its depth is unchecked: Python path)
        body += [
            f"    if obj.{attr} is not unset:",
            f"        if type(obj.{attr}) is dict or type(obj.{attr}) is list:",
            "            raise Refused",
            f"        added -= 1 + colons_of(obj.{attr})",
            f"        obj.{attr} = unset",
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
        # one exact type is the common case, and `is not` beats a set lookup
        (only,) = repair.exact if len(repair.exact) == 1 else (None,)
        namespace[f"only_{index}"] = only
        test = f"type(value) is not only_{index}" if only else f"type(value) not in exact_{index}"
        body += [f"    value = obj.{attr}", f"    if {test} and value is not unset:"]
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
            elif repair.direct is string_to_number:
                # "123.45" inline: the text is the double's shortest form (finite, so not
                # "inf"); integer texts and exact-decimal checks go to the function
                body += [
                    "            try:",
                    "                result = float(value)",
                    "            except ValueError:",
                    "                result = None",
                    "            if result is None or repr(result) != value or result - result:",
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


def depth_walker(budget: list[int]) -> Walker:
    def walk(value: Any) -> int:
        if type(value) is dict or type(value) is list:
            depth, _ = measure(value, budget[0])
            if depth > budget[0]:
                raise Refused  # perhaps too deep: the Python path measures exactly
        return 0

    return walk


def list_walker(items: Walker | None, repair: Repair | None) -> Walker | None:
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


def map_walker(values: Walker | None, repair: Repair | None) -> Walker | None:
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


def any_walker(walkers: list[Walker]) -> Walker:
    def walk(value: Any) -> int:
        return sum(w(value) for w in walkers)

    return walk
