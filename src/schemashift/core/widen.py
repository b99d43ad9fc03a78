"""Widening a version by one payload: the smallest change that makes it accept the payload.

``widen(schema, payload)`` is how a live subject evolves after its first version: the next
version is the current one, changed just enough that ``payload`` is valid under it *as it is*
(no coercion, no filled field, every field declared — see
:func:`~schemashift.core.transform.strict_checker`). Each step only ever loosens, so the result
accepts everything the input schema accepted: versions registered this way are monotonic,
whatever share of the stream the registry has seen (a version inferred afresh from a sample
could add an enum or make a field required that unseen events contradict).

Every step is reported as a :class:`~schemashift.core.schema.delta.Delta` with its class, and
the evolution policy decides on those classes (docs/drift.md, docs/pipeline.md):

* **additive** — a new optional field (``property_added``), ``null`` allowed
  (``nullability_added``), integer → number or the first non-null type of a field that was
  only ever ``null`` (``type_widened``), a new value of an enum or a new tag value of a
  tagged union (``enum_changed``);
* **subtractive** — a required field (or a field a tag value or another field requires) absent
  (``became_optional``), a tagged union given up (``constraint_loosened``);
* **modification** — a field taking another kind of value, e.g. integer → string
  (``type_widened``: the old type stays allowed, but a reader of integers now meets strings),
  an array no longer a fixed tuple (``items_changed``), a declared constraint such as
  ``maxLength`` dropped (``constraint_loosened``), a ``const`` dropped (``const_changed``).

Keywords this module does not reason about (``$ref``, ``allOf``, ``not``, ``if``,
``patternProperties`` …) are never edited: a subschema holding one is kept as one branch of an
``anyOf`` whose other branch is inferred from the value (a ``type_widened`` modification), so the
result still accepts what the input accepted.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from schemashift.core.jsonparse import json_type_name
from schemashift.core.schema.codec import escape
from schemashift.core.schema.delta import Delta
from schemashift.core.transform.compiler import OBJECT_KEYWORDS

__all__ = ["Widening", "accepts", "widen"]

ADDITIVE, SUBTRACTIVE, MODIFICATION = "additive", "subtractive", "modification"

# keywords that only annotate: they never make a value invalid
_ANNOTATIONS = frozenset(
    {
        "$schema", "$id", "$comment", "$anchor", "$defs", "definitions", "title", "description",
        "default", "examples", "deprecated", "readOnly", "writeOnly", "format",
        "contentEncoding", "contentMediaType", "x-aliases",
    }
)  # fmt: skip
# keywords this module edits or checks itself
_HANDLED = frozenset(
    {
        "type", "enum", "const", "anyOf", "oneOf", "properties", "required",
        "additionalProperties", "propertyNames", "dependentRequired", "items", "prefixItems",
        "minLength", "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum",
        "exclusiveMaximum", "multipleOf", "minItems", "maxItems", "uniqueItems",
        "minProperties", "maxProperties",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Widening:
    """The widened schema and the steps that made it (empty when nothing was needed).

    ``opaque``: a subschema held keywords this module does not reason about, so it was
    judged by a compiled strict checker (or, when that could not compile, kept as one branch
    of an ``anyOf``): a caller may want to compile the result before trusting it.
    """

    schema: Any
    deltas: tuple[Delta, ...]
    opaque: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.deltas)


Infer = Callable[[str | None, Any], dict[str, Any]]
# (object path, the keys the value carries, the keys it would add) -> declare a map instead
FoldRule = Callable[[str, frozenset[str], list[str]], bool]


def widen(
    schema: Any, payload: Any, infer: Infer | None = None, fold: FoldRule | None = None
) -> Widening:
    """``schema`` changed just enough to accept ``payload`` (see the module docstring).

    ``infer(name, value)`` gives the schema of a value met where the version has nothing to
    say (a new field, a new kind); by default it is the Analyzer's inference of that one
    value, so new structure is written the way a first version would be.

    ``fold(path, keys, new_keys)``, when given and true, makes the undeclared members of the
    object at ``path`` values of a map (``additionalProperties``, a ``record_to_map`` step)
    instead of new properties: the caller's evidence that the object's keys are data (ids,
    names that never come back), so a stream of ever-new keys does not make a version each.
    """
    if accepts(schema, payload):
        return Widening(schema, ())  # the common case, decided without copying anything
    walker = _Widener(infer or _infer_value, fold)
    result = walker.value(schema, payload, "", "", None)
    return Widening(result, tuple(walker.deltas), walker.met_opaque)


def accepts(schema: Any, value: Any) -> bool | None:
    """Whether ``schema`` takes ``value`` as it is — what :func:`widen` would leave unchanged —
    walking both without building anything; None where a keyword this module does not reason
    about decides (then :func:`widen` asks a compiled strict checker)."""
    if schema is True:
        return True
    if schema is False or not isinstance(schema, dict):
        return False
    if _is_opaque(schema):
        return None
    kind = json_type_name(value)
    if "anyOf" in schema:
        for branch in schema["anyOf"]:
            types = _types(branch)
            if types is not None and _admits(types, kind):
                return accepts(branch, value)
        return False
    types = _types(schema)
    if types is not None and not _admits(types, kind):
        return False
    enum = schema.get("enum")
    if isinstance(enum, list) and not any(_same(value, v) for v in enum):
        return False
    if "const" in schema and not _same(schema["const"], value):
        return False
    if _violated(schema, value):
        return False
    if kind == "object":
        return _accepts_record(schema, value)
    if kind == "array":
        return _accepts_array(schema, value)
    return True


def _accepts_record(schema: dict[str, Any], value: dict[str, Any]) -> bool | None:
    if not set(schema) & OBJECT_KEYWORDS:
        return True  # free-form
    props = schema.get("properties")
    props = props if isinstance(props, dict) else {}
    extra = schema.get("additionalProperties")
    verdict: bool | None = True
    for key, item in value.items():
        sub = props.get(key, extra if isinstance(extra, dict) else None)
        if sub is None:
            return False  # a member the schema does not declare
        taken = accepts(sub, item)
        if taken is False:
            return False
        if taken is None:
            verdict = None
    required = schema.get("required")
    if isinstance(required, list) and any(k not in value for k in required):
        return False
    names = schema.get("propertyNames")
    if names is not None and not _names_ok(names, value):
        return False
    if not _dependencies_met(schema, value):
        return False
    branches = schema.get("oneOf")
    if branches is not None:
        tag = _tag_of(branches)
        tag_value = value.get(tag) if tag is not None else None
        if not isinstance(tag_value, str):
            return False
        chosen = [b for b in branches if b["properties"][tag]["const"] == tag_value]
        if not chosen:
            return False
        required = chosen[0].get("required")
        if isinstance(required, list) and any(k not in value for k in required):
            return False
        if not _dependencies_met(chosen[0], value):
            return False
    return verdict


def _dependencies_met(schema: dict[str, Any], value: dict[str, Any]) -> bool:
    rules = schema.get("dependentRequired")
    if not isinstance(rules, dict):
        return True
    return all(
        not isinstance(needed, list) or all(k in value for k in needed)
        for trigger, needed in rules.items()
        if trigger in value
    )


def _accepts_array(schema: dict[str, Any], value: list[Any]) -> bool | None:
    verdict: bool | None = True
    prefix = schema.get("prefixItems")
    if isinstance(prefix, list):
        if len(value) != len(prefix) or schema.get("items", True) is not False:
            return False
        pairs = list(zip(prefix, value, strict=True))
    else:
        items = schema.get("items")
        if items is False:
            return not value
        if not isinstance(items, dict):
            return True
        pairs = [(items, element) for element in value]
    for sub, element in pairs:
        taken = accepts(sub, element)
        if taken is False:
            return False
        if taken is None:
            verdict = None
    return verdict


def _infer_value(name: str | None, value: Any) -> dict[str, Any]:
    from schemashift.core.profile import Profile

    key = name if name is not None else "value"
    schema = Profile().update([{key: value}]).finish()
    inferred: dict[str, Any] = schema["properties"][key]
    return inferred


def _types(schema: Mapping[str, Any]) -> list[str] | None:
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list) and all(isinstance(t, str) for t in declared):
        return list(declared)
    return None


def _admits(types: list[str], kind: str) -> bool:
    return kind in types or (kind == "integer" and "number" in types)


def _same(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but True is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _is_opaque(schema: Mapping[str, Any]) -> bool:
    for key in schema:
        if key in _HANDLED or key in _ANNOTATIONS:
            continue
        return True
    one_of = schema.get("oneOf")
    if one_of is not None and _tag_of(one_of) is None:
        return True
    any_of = schema.get("anyOf")
    if any_of is not None:
        # branches this module picks by the value's kind: one per kind, each with a type
        if not isinstance(any_of, list):
            return True
        seen: set[str] = set()
        for branch in any_of:
            types = _types(branch) if isinstance(branch, dict) else None
            if types is None or seen.intersection(types):
                return True
            seen.update(types)
    return False


def _tag_of(branches: Any) -> str | None:
    """The discriminator of an inferred tagged union: one property every branch pins with a
    string ``const`` (``{"properties": {"action": {"const": "opened"}}, "required": […]}``)."""
    if not isinstance(branches, list) or not branches:
        return None
    tag: str | None = None
    for branch in branches:
        if not isinstance(branch, dict) or set(branch) - {
            "properties",
            "required",
            "dependentRequired",
        }:
            return None
        props = branch.get("properties")
        if not isinstance(props, dict) or len(props) != 1:
            return None
        ((name, pinned),) = props.items()
        if not isinstance(pinned, dict) or not isinstance(pinned.get("const"), str):
            return None
        if tag is None:
            tag = name
        elif tag != name:
            return None
    return tag


def _summary(schema: Any) -> dict[str, Any]:
    if isinstance(schema, dict):
        types = _types(schema)
        if types is not None:
            return {"type": sorted(types)}
        if "anyOf" in schema and isinstance(schema["anyOf"], list):
            found: set[str] = set()
            for branch in schema["anyOf"]:
                if isinstance(branch, dict):
                    found.update(_types(branch) or ["any"])
            return {"type": sorted(found)}
    return {"type": ["any"]}


class _Widener:
    def __init__(self, infer: Infer, fold: FoldRule | None) -> None:
        self.infer = infer
        self.fold = fold
        self.deltas: list[Delta] = []
        self.met_opaque = False

    def note(self, path: str, at: str, code: str, before: Any, after: Any, cls: str) -> None:
        self.deltas.append(Delta(path, at, code, before, after, direction=cls))

    # -- any value -------------------------------------------------------------------------

    def value(self, schema: Any, value: Any, path: str, at: str, name: str | None) -> Any:
        if schema is True:
            return schema
        if schema is False or not isinstance(schema, dict):
            new = self.infer(name, value)
            self.note(path, at, "type_widened", {"type": []}, _summary(new), MODIFICATION)
            return new
        if _is_opaque(schema):
            return self.opaque(schema, value, path, at, name)
        if "anyOf" in schema:
            return self.any_of(schema, value, path, at, name)
        kind = json_type_name(value)
        types = _types(schema)
        if types is not None and not _admits(types, kind):
            return self.new_kind(schema, types, kind, value, path, at, name)
        mark = len(self.deltas)
        out = dict(schema)
        self.scalars(out, value, path, at)
        if kind == "object" and isinstance(value, dict):
            self.record(out, value, path, at)
        elif kind == "array" and isinstance(value, list):
            self.array(out, value, path, at)
        return out if len(self.deltas) > mark else schema

    def opaque(
        self, schema: dict[str, Any], value: Any, path: str, at: str, name: str | None
    ) -> Any:
        from schemashift.core.transform import strict_checker
        from schemashift.core.transform.result import Rejected
        from schemashift.errors import InvalidSchemaError

        self.met_opaque = True
        try:
            if not isinstance(strict_checker(schema)(value), Rejected):
                return schema
        except (InvalidSchemaError, RecursionError):
            pass  # a $ref into the root document, say: widen without proof
        new = self.infer(name, value)
        self.note(path, at, "type_widened", _summary(schema), _summary(new), MODIFICATION)
        return {"anyOf": [schema, new]}

    def new_kind(
        self,
        schema: dict[str, Any],
        types: list[str],
        kind: str,
        value: Any,
        path: str,
        at: str,
        name: str | None,
    ) -> Any:
        before = {"type": sorted(types)}
        if kind == "null":
            out = dict(schema)
            out["type"] = [*types, "null"]
            if isinstance(out.get("enum"), list):
                out["enum"] = [*out["enum"], None]
            self.note(
                path, at, "nullability_added", before, {"type": sorted(out["type"])}, ADDITIVE
            )
            return out
        if kind == "number" and "integer" in types:
            out = dict(schema)
            out["type"] = (
                "number" if isinstance(schema["type"], str)
                else ["number" if t == "integer" else t for t in types]
            )  # fmt: skip
            self.note(path, at, "type_widened", before, _summary(out), ADDITIVE)
            return out
        # a new kind of value: additive when the field never held anything but null
        cls = ADDITIVE if set(types) <= {"null"} else MODIFICATION
        added = self.infer(name, value)
        if set(schema) - _ANNOTATIONS == {"type"} and set(added) == {"type"}:
            out = dict(schema)
            out["type"] = (
                [t for t in types if t != "null"]
                + [added["type"]]
                + (["null"] if "null" in types else [])
            )
            self.note(path, at, "type_widened", before, _summary(out), cls)
            return out
        core = dict(schema)
        nullable = "null" in types
        core["type"] = [t for t in types if t != "null"]
        if len(core["type"]) == 1:
            core["type"] = core["type"][0]
        elif not core["type"]:
            del core["type"]
        if "enum" in core and isinstance(core["enum"], list):
            core["enum"] = [v for v in core["enum"] if v is not None]
        branches = [core] if set(core) - _ANNOTATIONS else []
        branches.append(added)
        if nullable:
            branches.append({"type": "null"})
        out = {k: v for k, v in schema.items() if k in _ANNOTATIONS}
        out["anyOf"] = branches
        self.note(path, at, "type_widened", before, _summary(out), cls)
        return out

    def any_of(
        self, schema: dict[str, Any], value: Any, path: str, at: str, name: str | None
    ) -> Any:
        kind = json_type_name(value)
        branches = list(schema["anyOf"])
        for index, branch in enumerate(branches):
            types = _types(branch) if isinstance(branch, dict) else None
            if types is not None and _admits(types, kind):
                new = self.value(branch, value, path, f"{at}/anyOf/{index}", name)
                if new is branch:
                    return schema
                branches[index] = new
                return {**schema, "anyOf": branches}
        before = _summary(schema)
        if kind == "number":  # integer → number inside a union
            for index, branch in enumerate(branches):
                types = _types(branch) if isinstance(branch, dict) else None
                if types is not None and "integer" in types:
                    widened = ["number" if t == "integer" else t for t in types]
                    branches[index] = {
                        **branch,
                        "type": widened[0] if len(widened) == 1 else widened,
                    }
                    out = {**schema, "anyOf": branches}
                    self.note(path, at, "type_widened", before, _summary(out), ADDITIVE)
                    return out
        if kind == "null":
            out = {**schema, "anyOf": [*branches, {"type": "null"}]}
            self.note(path, at, "nullability_added", before, _summary(out), ADDITIVE)
            return out
        added = self.infer(name, value)
        nulls = [b for b in branches if isinstance(b, dict) and _types(b) == ["null"]]
        rest = [b for b in branches if not (isinstance(b, dict) and _types(b) == ["null"])]
        out = {**schema, "anyOf": [*rest, added, *nulls]}
        cls = ADDITIVE if not rest else MODIFICATION
        self.note(path, at, "type_widened", before, _summary(out), cls)
        return out

    # -- keywords on any kind --------------------------------------------------------------

    def scalars(self, out: dict[str, Any], value: Any, path: str, at: str) -> None:
        enum = out.get("enum")
        if isinstance(enum, list) and not any(_same(value, v) for v in enum):
            values = [v for v in enum if v is not None]
            after = sorted([*values, value], key=repr) + ([None] if None in enum else [])
            out["enum"] = after
            self.note(path, at, "enum_changed", list(enum), list(after), ADDITIVE)
        if "const" in out and not _same(out["const"], value):
            before = out.pop("const")
            self.note(path, at, "const_changed", before, None, MODIFICATION)
        for keyword in _violated(out, value):
            before = out.pop(keyword)
            self.note(
                path, at, "constraint_loosened", {keyword: before}, {keyword: None}, MODIFICATION
            )

    # -- objects ---------------------------------------------------------------------------

    def record(self, out: dict[str, Any], value: dict[str, Any], path: str, at: str) -> None:
        if not set(out) & OBJECT_KEYWORDS:
            return  # a free-form object ({"type": "object"}): any member is valid already
        props = out.get("properties")
        props = dict(props) if isinstance(props, dict) else {}
        declared_any = "properties" in out
        extra = out.get("additionalProperties")
        new_keys = [k for k in value if k not in props]
        fold = self.fold
        if (
            new_keys
            and extra in (None, True, False)
            and fold is not None
            and fold(path, frozenset(value), new_keys)
        ):
            extra = self.infer(None, value[new_keys[0]])
            out["additionalProperties"] = extra
            self.note(path, f"{at}/additionalProperties", "record_to_map",
                      sorted(props), sorted(props), ADDITIVE)  # fmt: skip
        for key, item in value.items():
            child, child_at = f"{path}/{escape(key)}", f"{at}/properties/{escape(key)}"
            if key in props:
                props[key] = self.value(props[key], item, child, child_at, key)
            elif isinstance(extra, dict):
                extra = self.value(extra, item, f"{path}/*", f"{at}/additionalProperties", None)
                out["additionalProperties"] = extra
            elif extra is None or extra is True or extra is False:
                new = self.infer(key, item)
                props[key] = new
                declared_any = True
                self.note(child, child_at, "property_added", None, _summary(new), ADDITIVE)
        if declared_any:
            out["properties"] = props
        required = out.get("required")
        if isinstance(required, list):
            missing = [k for k in required if k not in value]
            for key in missing:
                self.note(
                    f"{path}/{escape(key)}", f"{at}/properties/{escape(key)}",
                    "became_optional", True, False, SUBTRACTIVE,
                )  # fmt: skip
            if missing:
                kept = [k for k in required if k in value]
                if kept:
                    out["required"] = kept
                else:
                    del out["required"]
        names = out.get("propertyNames")
        if names is not None and not _names_ok(names, value):
            self.note(path, at, "constraint_loosened", {"propertyNames": names}, None, MODIFICATION)
            del out["propertyNames"]
        self.dependent(out, value, path, at)
        if "oneOf" in out:
            self.tagged(out, value, path, at)

    def dependent(self, out: dict[str, Any], value: dict[str, Any], path: str, at: str) -> None:
        rules = out.get("dependentRequired")
        if not isinstance(rules, dict):
            return
        kept: dict[str, Any] = {}
        for trigger, needed in rules.items():
            if trigger in value and isinstance(needed, list):
                missing = [k for k in needed if k not in value]
                for key in missing:
                    self.note(
                        f"{path}/{escape(key)}", f"{at}/dependentRequired/{escape(trigger)}",
                        "became_optional", True, False, SUBTRACTIVE,
                    )  # fmt: skip
                needed = [k for k in needed if k in value]
            if needed:
                kept[trigger] = needed
        if kept:
            out["dependentRequired"] = kept
        else:
            out.pop("dependentRequired", None)

    def tagged(self, out: dict[str, Any], value: dict[str, Any], path: str, at: str) -> None:
        branches = list(out["oneOf"])
        tag = _tag_of(branches)
        assert tag is not None  # other oneOf forms are opaque
        tag_value = value.get(tag)
        tag_path = f"{path}/{escape(tag)}"
        if not isinstance(tag_value, str):
            del out["oneOf"]
            self.note(tag_path, f"{at}/oneOf", "constraint_loosened",
                      {"oneOf": len(branches)}, None, SUBTRACTIVE)  # fmt: skip
            return
        consts = [b["properties"][tag]["const"] for b in branches]
        if tag_value not in consts:
            branches.append({"properties": {tag: {"const": tag_value}}})
            out["oneOf"] = branches
            self.note(
                tag_path, f"{at}/oneOf", "enum_changed", consts, [*consts, tag_value], ADDITIVE
            )
            return
        index = consts.index(tag_value)
        branch = dict(branches[index])
        branch_at = f"{at}/oneOf/{index}"
        required = branch.get("required")
        if isinstance(required, list):
            missing = [k for k in required if k not in value]
            for key in missing:
                self.note(f"{path}/{escape(key)}", f"{branch_at}/required",
                          "became_optional", True, False, SUBTRACTIVE)  # fmt: skip
            kept = [k for k in required if k in value]
            if kept:
                branch["required"] = kept
            else:
                branch.pop("required", None)
        self.dependent(branch, value, path, branch_at)
        if branch != branches[index]:
            branches[index] = branch
            out["oneOf"] = branches

    # -- arrays ----------------------------------------------------------------------------

    def array(self, out: dict[str, Any], value: list[Any], path: str, at: str) -> None:
        prefix = out.get("prefixItems")
        if isinstance(prefix, list):
            if len(value) == len(prefix) and out.get("items", True) is False:
                out["prefixItems"] = [
                    self.value(s, v, f"{path}/{i}", f"{at}/prefixItems/{i}", None)
                    for i, (s, v) in enumerate(zip(prefix, value, strict=True))
                ]
                return
            for keyword in ("prefixItems", "items", "minItems", "maxItems"):
                out.pop(keyword, None)
            self.note(path, at, "items_changed", "tuple", "list", MODIFICATION)
            return
        items = out.get("items")
        if isinstance(items, dict):
            for element in value:
                items = self.value(items, element, f"{path}/*", f"{at}/items", None)
            out["items"] = items
        elif items is False and value:
            del out["items"]
            self.note(path, at, "items_changed", "empty", "list", MODIFICATION)


def _names_ok(names: Any, value: dict[str, Any]) -> bool:
    if not isinstance(names, dict):
        return True
    if set(names) - {"pattern"} - _ANNOTATIONS:
        return False  # not a form this module checks: give it up rather than guess
    pattern = names.get("pattern")
    if not isinstance(pattern, str):
        return True
    try:
        regex = re.compile(pattern)
    except re.error:
        return False
    return all(regex.search(key) is not None for key in value)


def _violated(schema: Mapping[str, Any], value: Any) -> list[str]:
    """The simple constraint keywords of ``schema`` that ``value`` breaks."""
    broken: list[str] = []
    if isinstance(value, str):
        length = len(value)
        if isinstance(schema.get("minLength"), int) and length < schema["minLength"]:
            broken.append("minLength")
        if isinstance(schema.get("maxLength"), int) and length > schema["maxLength"]:
            broken.append("maxLength")
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            try:
                if re.search(pattern, value) is None:
                    broken.append("pattern")
            except re.error:
                broken.append("pattern")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        bounds: tuple[tuple[str, Callable[[Any, Any], bool]], ...] = (
            ("minimum", operator.lt),
            ("maximum", operator.gt),
            ("exclusiveMinimum", operator.le),
            ("exclusiveMaximum", operator.ge),
        )
        for keyword, breaks in bounds:
            bound = schema.get(keyword)
            if (
                isinstance(bound, int | float)
                and not isinstance(bound, bool)
                and breaks(value, bound)
            ):
                broken.append(keyword)
        step = schema.get("multipleOf")
        if isinstance(step, int | float) and not isinstance(step, bool) and step > 0:
            quotient = value / step
            if not (math.isfinite(quotient) and quotient == int(quotient)):
                broken.append("multipleOf")
    elif isinstance(value, list):
        if isinstance(schema.get("minItems"), int) and len(value) < schema["minItems"]:
            broken.append("minItems")
        if isinstance(schema.get("maxItems"), int) and len(value) > schema["maxItems"]:
            broken.append("maxItems")
        if schema.get("uniqueItems") is True and not _unique(value):
            broken.append("uniqueItems")
    elif isinstance(value, dict):
        if isinstance(schema.get("minProperties"), int) and len(value) < schema["minProperties"]:
            broken.append("minProperties")
        if isinstance(schema.get("maxProperties"), int) and len(value) > schema["maxProperties"]:
            broken.append("maxProperties")
    return broken


def _unique(items: list[Any]) -> bool:
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            if _same(a, b):
                return False
    return True
