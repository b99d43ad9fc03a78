"""One small rule per reader keyword, dispatched from a table (as jsonschema's _keywords.py).

Each rule gets the checker, the (expanded) writer, the reader node and the event path, and
returns the findings for its keyword: the reasons some writer instance may fail it. A rule
applies only to the instance types it constrains, so ``minLength`` never fires for a writer
that emits no strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from schemashift.core.compat.model import Finding, FindingCode, Policy
from schemashift.core.compat.writer import NUMERIC, Bound, Writer, categories, is_false
from schemashift.core.schema import TRUE, Schema, SchemaNode
from schemashift.core.schema.codec import escape

if TYPE_CHECKING:
    from schemashift.core.compat.engine import Checker

Rule = Callable[["Checker", Writer, SchemaNode, str], list[Finding]]

# patterns that match every string (re.search semantics)
_TRIVIAL_PATTERNS = frozenset({"", ".*", "^.*", ".*$", "^.*$", "[\\s\\S]*", "^[\\s\\S]*$"})


def _type_names(cats: frozenset[str]) -> str:
    names = {"number" if c == "fraction" else c for c in cats}
    return ", ".join(sorted(names))


def types(ch: Checker, w: Writer, r: SchemaNode, path: str) -> list[Finding]:
    if r.types is None:
        return []
    missing = w.types - categories(r.types)
    if not missing:
        return []
    detail = "non-integer numbers" if missing == {"fraction"} else _type_names(missing)
    return [Finding(path, FindingCode.TYPE_NARROWED, f"the reader does not accept {detail}")]


def enum_const(ch: Checker, w: Writer, r: SchemaNode, path: str) -> list[Finding]:
    # reached only for a writer that is not evidently finite (finite ones are checked exactly)
    if r.const is not None:
        return [
            Finding(path, FindingCode.CONST_RESTRICTED, "the reader requires one value (const)")
        ]
    if r.enum is not None:
        return [
            Finding(
                path,
                FindingCode.ENUM_RESTRICTED,
                f"the reader allows only {len(r.enum)} value(s); the writer is not limited to them",
            )
        ]
    return []


def _at_least(mine: Bound | None, theirs: Bound) -> bool:
    if mine is None:
        return False
    if mine.value != theirs.value:
        return bool(mine.value > theirs.value)
    return mine.exclusive or not theirs.exclusive


def _at_most(mine: Bound | None, theirs: Bound) -> bool:
    if mine is None:
        return False
    if mine.value != theirs.value:
        return bool(mine.value < theirs.value)
    return mine.exclusive or not theirs.exclusive


def bounds(ch: Checker, w: Writer, r: SchemaNode, path: str) -> list[Finding]:
    if not w.types & NUMERIC:
        return []
    findings = []
    reader = Writer((r,), w.types & NUMERIC)
    low, high = reader.lower(), reader.upper()
    if low is not None and not _at_least(w.lower(), low):
        findings.append(
            Finding(
                path,
                FindingCode.MINIMUM_RAISED,
                f"the reader's lower bound {low.value} excludes writer values",
            )
        )
    if high is not None and not _at_most(w.upper(), high):
        findings.append(
            Finding(
                path,
                FindingCode.MAXIMUM_LOWERED,
                f"the reader's upper bound {high.value} excludes writer values",
            )
        )
    return findings


def _divides(theirs: int | float, mine: int | float) -> bool:
    if mine == theirs:
        return True
    if float(mine).is_integer() and float(theirs).is_integer():
        return int(mine) % int(theirs) == 0
    return False  # float division is inexact: refuse to guess (0.3 / 0.1 != 3 in floats)


def multiple_of(ch: Checker, w: Writer, r: SchemaNode, path: str) -> list[Finding]:
    if r.multiple_of is None or not w.types & NUMERIC:
        return []
    if any(_divides(r.multiple_of, mine) for mine in w.first("multiple_of")):
        return []
    if r.multiple_of == 1 and w.types & NUMERIC == {"integer"}:
        return []
    return [
        Finding(
            path,
            FindingCode.MULTIPLE_OF_CHANGED,
            f"writer values need not be multiples of {r.multiple_of}",
        )
    ]


def lengths(ch: Checker, w: Writer, r: SchemaNode, path: str) -> list[Finding]:
    if "string" not in w.types:
        return []
    findings = []
    if r.min_length is not None and r.min_length > (w.most("min_length") or 0):
        findings.append(
            Finding(
                path,
                FindingCode.MIN_LENGTH_RAISED,
                f"the reader needs at least {r.min_length} characters",
            )
        )
    mine = w.least("max_length")
    if r.max_length is not None and (mine is None or mine > r.max_length):
        findings.append(
            Finding(
                path,
                FindingCode.MAX_LENGTH_LOWERED,
                f"the reader allows at most {r.max_length} characters",
            )
        )
    return findings


def matches_everything(pattern: str) -> bool:
    """Whether ``pattern`` matches every string under search semantics: it matches the empty
    string and has no assertion (anchor, word boundary, lookaround) whose outcome depends on
    the position — so it matches the empty prefix of any string."""
    if pattern in _TRIVIAL_PATTERNS:
        return True
    if re.search(r"[\^$]|\\[bBAZz]|\(\?[=!<]", pattern):
        return False
    try:
        return re.fullmatch(pattern, "") is not None
    except re.error:
        return False


def _literal_prefix(pattern: str) -> str | None:
    """The literal text an anchored pattern (``^abc…``) requires at the start, if any."""
    if not pattern.startswith("^"):
        return None
    match = re.match(r"[A-Za-z0-9_\-]*", pattern[1:])
    prefix = match.group(0) if match else ""
    rest = pattern[1 + len(prefix) :]
    if rest[:1] in ("*", "+", "?", "{") and prefix:
        prefix = prefix[:-1]  # the last literal is quantified: not required
    return prefix


def patterns_disjoint(first: str, second: str) -> bool:
    """Proven: no string matches both patterns (two anchored, conflicting literal prefixes)."""
    a, b = _literal_prefix(first), _literal_prefix(second)
    if not a or not b:
        return False
    return not (a.startswith(b) or b.startswith(a))


def pattern(ch: Checker, w: Writer, r: SchemaNode, path: str) -> list[Finding]:
    if r.pattern is None or "string" not in w.types or matches_everything(r.pattern):
        return []
    if r.pattern in set(w.first("pattern")):
        return []
    return [
        Finding(
            path,
            FindingCode.PATTERN_CHANGED,
            f"the reader's pattern {r.pattern!r} is not implied by the writer "
            "(regular-expression inclusion is not decided, so a different pattern counts)",
        )
    ]


def format_(ch: Checker, w: Writer, r: SchemaNode, path: str) -> list[Finding]:
    """``format``, ``contentEncoding``, ``contentMediaType``: annotations by default in 2020-12,
    but a consumer that asserts them would reject other values, so *strict* and *observed*
    treat a new or different one as a finding; *lenient* treats them as annotations."""
    if "string" not in w.types or ch.policy is Policy.LENIENT:
        return []
    findings = []
    for attr, keyword in _STRING_ASSERTIONS:
        theirs = getattr(r, attr)
        if theirs is not None and theirs not in set(w.first(attr)):
            findings.append(
                Finding(
                    path, FindingCode.FORMAT_CHANGED, f"the reader expects {keyword} {theirs!r}"
                )
            )
    return findings


_STRING_ASSERTIONS = (
    ("format", "format"),
    ("content_encoding", "contentEncoding"),
    ("content_media_type", "contentMediaType"),
)


def required(ch: Checker, w: Writer, r: SchemaNode, path: str) -> list[Finding]:
    if "object" not in w.types:
        return []
    return [
        Finding(
            f"{path}/{escape(name)}",
            FindingCode.REQUIRED_ADDED,
            f"the reader requires {name!r}, which the writer may omit",
        )
        for name in sorted(r.required - w.required)
    ]


def _reader_schemas(r: SchemaNode, name: str) -> tuple[Schema, ...]:
    schemas: list[Schema] = []
    declared = r.declared(name)
    if declared is not None:
        schemas.append(declared)
    schemas += [s for p, s in r.pattern_properties if re.search(p, name)]
    if not schemas and r.additional_properties is not None:
        schemas.append(r.additional_properties)
    return tuple(schemas)


def _undeclared(
    ch: Checker, targets: tuple[Schema, ...], path: str, observed_path: str
) -> list[Finding]:
    """Findings for a value the writer never declared (its implicit open content model)."""
    if ch.policy is Policy.LENIENT:
        return []
    if ch.policy is Policy.OBSERVED:
        seen = ch.observed.get(observed_path)
        if seen is None:
            return []  # never emitted under this name
        writer = Writer((), seen)
        return [f for t in targets for f in ch.against(writer, t, path)]
    if all(not ch.subset((TRUE,), t, path) for t in targets):
        return []
    return [
        Finding(
            path,
            FindingCode.PROPERTY_REJECTED,
            "the writer's open content model allows any value here (undeclared property), "
            "which the reader constrains",
        )
    ]


def properties(ch: Checker, w: Writer, r: SchemaNode, path: str) -> list[Finding]:
    if "object" not in w.types:
        return []
    if not r.properties and not r.pattern_properties and r.additional_properties is None:
        return []
    findings: list[Finding] = []
    names = {n for n, _ in r.properties} | {n for c in w.cores for n, _ in c.properties}
    for name in sorted(names):
        child = f"{path}/{escape(name)}"
        targets = _reader_schemas(r, name)
        if not targets:
            continue
        mine, implicit = w.property_schemas(name)
        if implicit:
            findings += _undeclared(ch, targets, child, child)
        elif not any(is_false(s) for s in mine):
            findings += [f for t in targets for f in ch.subset(mine, t, child)]
    return findings + _other_names(ch, w, r, path, names)


def _other_names(
    ch: Checker, w: Writer, r: SchemaNode, path: str, names: set[str]
) -> list[Finding]:
    """Properties neither side declares by name: pattern regions and additionalProperties."""
    reader_patterns = dict(r.pattern_properties)
    reader_rest = r.additional_properties or TRUE
    if not reader_patterns and r.additional_properties is None:
        return []
    child = f"{path}/*"
    attempts: list[list[Finding]] = []
    for core in w.cores or (SchemaNode(pointer="#synthetic"),):
        findings: list[Finding] = []
        for p, schema in core.pattern_properties:
            targets = [s for q, s in reader_patterns.items() if not patterns_disjoint(p, q)]
            if p not in reader_patterns:
                targets.append(reader_rest)
            findings += [f for t in targets for f in ch.subset((schema,), t, child)]
        targets = [s for q, s in reader_patterns.items() if q not in dict(core.pattern_properties)]
        targets.append(reader_rest)
        rest = core.additional_properties if w.cores else None
        if rest is None:
            findings += _undeclared_others(ch, r, tuple(targets), path, names)
        elif not is_false(rest):
            findings += [f for t in targets for f in ch.subset((rest,), t, child)]
        if not findings:
            return []
        attempts.append(findings)
    return attempts[0]


def _undeclared_others(
    ch: Checker, r: SchemaNode, targets: tuple[Schema, ...], path: str, names: set[str]
) -> list[Finding]:
    if ch.policy is not Policy.OBSERVED:
        return _undeclared(ch, targets, f"{path}/*", f"{path}/*")
    findings: list[Finding] = []
    for name in sorted(ch.observed_children(path) - names):
        child = f"{path}/{escape(name)}" if name != "*" else f"{path}/*"
        mine = targets if name == "*" else (_reader_schemas(r, name) or (TRUE,))
        findings += _undeclared(ch, mine, child, child)
    return findings


def property_counts(ch: Checker, w: Writer, r: SchemaNode, path: str) -> list[Finding]:
    if "object" not in w.types:
        return []
    findings = []
    if r.min_properties is not None and r.min_properties > max(
        w.most("min_properties") or 0, len(w.required)
    ):
        findings.append(
            Finding(
                path,
                FindingCode.MIN_PROPERTIES_RAISED,
                f"the reader needs at least {r.min_properties} properties",
            )
        )
    if r.max_properties is not None:
        mine = w.least("max_properties")
        closed = [
            len(c.properties)
            for c in w.cores
            if is_false(c.additional_properties or TRUE) and not c.pattern_properties
        ]
        limit = min([m for m in (mine, *closed) if m is not None], default=None)
        if limit is None or limit > r.max_properties:
            findings.append(
                Finding(
                    path,
                    FindingCode.MAX_PROPERTIES_LOWERED,
                    f"the reader allows at most {r.max_properties} properties",
                )
            )
    return findings


def property_names(ch: Checker, w: Writer, r: SchemaNode, path: str) -> list[Finding]:
    if r.property_names is None or "object" not in w.types:
        return []
    if not ch.against(Writer((), frozenset({"string"})), r.property_names, path):
        return []  # the reader accepts every name
    for core in w.cores:
        if core.property_names is not None and not ch.subset(
            (core.property_names,), r.property_names, path
        ):
            return []
        if is_false(core.additional_properties or TRUE) and not core.pattern_properties:
            names = [n for n, s in core.properties if not is_false(s)]
            if all(ch.valid(ch.reader_doc, r.property_names.pointer, n) for n in names):
                return []
    return [
        Finding(path, FindingCode.PROPERTY_NAMES_NARROWED, "the reader restricts property names")
    ]


def dependent_required(ch: Checker, w: Writer, r: SchemaNode, path: str) -> list[Finding]:
    if not r.dependent_required or "object" not in w.types:
        return []
    findings = []
    for name, needed in r.dependent_required:
        if not ch.can_have(w, name):
            continue
        have = set(w.required)
        for core in w.cores:
            have |= dict(core.dependent_required).get(name, frozenset())
        missing = needed - have
        if missing:
            findings.append(
                Finding(
                    f"{path}/{escape(name)}",
                    FindingCode.DEPENDENT_REQUIRED_ADDED,
                    f"with {name!r} present the reader requires {sorted(missing)}",
                )
            )
    return findings


def _item(core: SchemaNode, index: int) -> Schema | None:
    return core.prefix_items[index] if index < len(core.prefix_items) else core.items


def items(ch: Checker, w: Writer, r: SchemaNode, path: str) -> list[Finding]:
    if "array" not in w.types or (not r.prefix_items and r.items is None):
        return []
    limit = w.least("max_items")
    width = max([len(c.prefix_items) for c in w.cores] + [len(r.prefix_items)])
    findings: list[Finding] = []
    for index in range(width if limit is None else min(width, limit)):
        target = r.prefix_items[index] if index < len(r.prefix_items) else r.items
        if target is not None:
            mine = tuple(s for c in w.cores if (s := _item(c, index)) is not None)
            findings += ch.subset(mine, target, f"{path}/{index}")
    if r.items is not None and (limit is None or limit > width):
        mine = tuple(c.items for c in w.cores if c.items is not None)
        findings += ch.subset(mine, r.items, f"{path}/*")
    return findings


def item_counts(ch: Checker, w: Writer, r: SchemaNode, path: str) -> list[Finding]:
    if "array" not in w.types:
        return []
    findings = []
    if r.min_items is not None and r.min_items > (w.most("min_items") or 0):
        findings.append(
            Finding(
                path, FindingCode.MIN_ITEMS_RAISED, f"the reader needs at least {r.min_items} items"
            )
        )
    mine = w.least("max_items")
    if r.max_items is not None and (mine is None or mine > r.max_items):
        findings.append(
            Finding(
                path,
                FindingCode.MAX_ITEMS_LOWERED,
                f"the reader allows at most {r.max_items} items",
            )
        )
    return findings


def unique_items(ch: Checker, w: Writer, r: SchemaNode, path: str) -> list[Finding]:
    if not r.unique_items or "array" not in w.types:
        return []
    if any(c.unique_items for c in w.cores) or (w.least("max_items") or 2) <= 1:
        return []
    return [
        Finding(
            path,
            FindingCode.UNIQUE_ITEMS_ADDED,
            "the reader requires unique items; the writer allows duplicates",
        )
    ]


def contains(ch: Checker, w: Writer, r: SchemaNode, path: str) -> list[Finding]:
    if r.contains is None or "array" not in w.types:
        return []
    need = 1 if r.min_contains is None else r.min_contains
    if need == 0 and r.max_contains is None:
        return []
    if r.max_contains is None:
        for core in w.cores:
            have = 1 if core.min_contains is None else core.min_contains
            if (
                core.contains is not None
                and have >= need
                and not ch.subset((core.contains,), r.contains, f"{path}/*")
            ):
                return []
    return [
        Finding(
            path,
            FindingCode.CONTAINS_ADDED,
            "the reader's `contains` is not guaranteed by the writer",
        )
    ]


#: reader keyword(s) → rule; a rule returns [] when its keyword is absent from the reader
KEYWORD_RULES: tuple[Rule, ...] = (
    types,
    enum_const,
    bounds,
    multiple_of,
    lengths,
    pattern,
    format_,
    required,
    properties,
    property_counts,
    property_names,
    dependent_required,
    items,
    item_counts,
    unique_items,
    contains,
)

__all__ = ["KEYWORD_RULES", "Rule"]
