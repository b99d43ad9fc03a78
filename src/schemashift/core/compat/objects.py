"""Reader rules for objects: required, properties under open and closed content models,
patternProperties, property counts and names, dependentRequired."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from schemashift.core.compat.model import Finding, FindingCode, Policy
from schemashift.core.compat.writer import Writer, is_false
from schemashift.core.schema import TRUE, Schema, SchemaNode
from schemashift.core.schema.codec import escape

if TYPE_CHECKING:
    from schemashift.core.compat.engine import Checker

from schemashift.core.compat.scalars import patterns_disjoint


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
        if not ch.always_present(path, name)  # observed: every object seen had it
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
        seen = ch.observed_at(observed_path)
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
    declared = {escape(name) for name in names}
    for token in sorted(ch.observed_children(path) - declared):  # tokens are escaped
        name = token.replace("~1", "/").replace("~0", "~")
        mine = targets if token == "*" else (_reader_schemas(r, name) or (TRUE,))
        findings += _undeclared(ch, mine, f"{path}/{token}", f"{path}/{token}")
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
    with ch.blind():  # names are not values at this path: the profile says nothing of them
        if not ch.against(Writer((), frozenset({"string"})), r.property_names, path):
            return []  # the reader accepts every name
        for core in w.cores:
            if core.property_names is not None and not ch.subset(
                (core.property_names,), r.property_names, path
            ):
                return []
            # a closed writer core can only produce its declared names
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
        missing = {n for n in needed - have if not ch.always_present(path, n)}
        if missing:
            findings.append(
                Finding(
                    f"{path}/{escape(name)}",
                    FindingCode.DEPENDENT_REQUIRED_ADDED,
                    f"with {name!r} present the reader requires {sorted(missing)}",
                )
            )
    return findings
