"""The subset checker: is every instance valid under the writer also valid under the reader?

``Checker.subset`` answers with a list of findings; an empty list is a *proof* of inclusion.
The method is the classic one for schema containment: expand the writer's applicators
(``$ref``, ``allOf`` into a conjunction; ``anyOf``/``oneOf``/``if`` into a case split — every
branch must fit), then check the reader's applicators (``allOf``: all; ``anyOf``: some branch,
per writer type; ``oneOf``: some branch *and* provably disjoint from the others; ``not``:
provably disjoint), then the reader's keywords one rule at a time (``rules.py``). When the
writer is evidently finite (``enum``, ``const``, booleans, a small integer range) its values are
validated against the reader exactly instead.

Recursion through ``$ref`` is co-inductive: a (writer, reader) pair met again on the same walk
is assumed to hold. That is sound because the codec refuses reference cycles that do not
descend into the instance, and instances are finite. A work budget bounds the case splits; an
exhausted budget is a finding (``too_complex``), never a guess.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from schemashift.core.canonical import canonical_text
from schemashift.core.compat.disjoint import disjoint
from schemashift.core.compat.model import Finding, FindingCode, Policy
from schemashift.core.compat.observed import Observations, Seen, formats_within
from schemashift.core.compat.writer import Writer, category_of, is_false
from schemashift.core.schema import (
    BoolSchema,
    Schema,
    SchemaDocument,
    SchemaNode,
    validator_for,
)

DEFAULT_BUDGET = 20_000
_NOTHING_SEEN = Observations({})


@dataclass(slots=True)
class _Expanded:
    cores: tuple[SchemaNode, ...]
    choices: tuple[tuple[Schema, ...], ...]
    empty: bool = False


class Checker:
    """One subset check between two documents (mutable only for its own memo and budget)."""

    def __init__(
        self,
        writer: SchemaDocument,
        reader: SchemaDocument,
        *,
        policy: Policy = Policy.STRICT,
        observed: Observations | Mapping[str, frozenset[str]] | None = None,
        budget: int = DEFAULT_BUDGET,
    ) -> None:
        self.writer_doc = writer
        self.reader_doc = reader
        self.policy = policy
        if not isinstance(observed, Observations):
            observed = Observations.from_types(observed or {})
        self.observations = observed
        self.budget = budget
        self._assumed: set[tuple[tuple[str, ...], frozenset[str] | None, str, str]] = set()
        self._texts: dict[tuple[int, str], str] = {}
        self._same_documents = writer.dialect == reader.dialect and canonical_text(
            writer.raw
        ) == canonical_text(reader.raw)
        self._validators: dict[tuple[int, str], Any] = {}

    # -- entry point
    def check(self) -> list[Finding]:
        return self.subset((self.writer_doc.root,), self.reader_doc.root, "")

    def subset(self, writer: Iterable[Schema], reader: Schema, path: str) -> list[Finding]:
        return self._subset_expanded(self._expand(tuple(writer), (), ()), reader, path, None)

    # -- writer expansion
    def _expand(
        self,
        todo: tuple[Schema, ...],
        cores: tuple[SchemaNode, ...],
        choices: tuple[tuple[Schema, ...], ...],
    ) -> _Expanded:
        out_cores = list(cores)
        out_choices = list(choices)
        stack = list(todo)
        seen = {c.pointer for c in cores}
        while stack:
            schema = stack.pop()
            if isinstance(schema, BoolSchema):
                if not schema.value:
                    return _Expanded((), (), empty=True)
                continue
            if schema.pointer in seen:
                continue
            seen.add(schema.pointer)
            out_cores.append(schema)
            if schema.ref is not None:
                stack.append(self.writer_doc.resolve(schema.ref))
            stack.extend(schema.all_of or ())
            for group in (schema.any_of, schema.one_of):
                if group is not None:  # oneOf ⊆ anyOf: over-approximating is sound
                    out_choices.append(group)
            if schema.if_ is not None and (schema.then is not None or schema.else_ is not None):
                out_choices.append(
                    (schema.then or BoolSchema(True), schema.else_ or BoolSchema(True))
                )
            if schema.not_ is not None and _accepts_all(schema.not_):
                return _Expanded((), (), empty=True)  # {"not": {}} admits nothing
            # other not / dependentSchemas on the writer only narrow it: dropping them is sound
        return _Expanded(tuple(out_cores), tuple(out_choices))

    def _subset_expanded(
        self, expanded: _Expanded, reader: Schema, path: str, only: frozenset[str] | None
    ) -> list[Finding]:
        if expanded.empty:
            return []
        if expanded.choices:
            first, rest = expanded.choices[0], expanded.choices[1:]
            findings: list[Finding] = []
            for branch in first:
                if self.budget <= 0:
                    return [_too_complex(path)]
                sub = self._expand((branch,), expanded.cores, rest)
                findings += self._subset_expanded(sub, reader, path, only)
            return _dedupe(findings)
        return self.against(Writer(expanded.cores, only), reader, path)

    # -- exact checks on finite writers
    def valid(self, document: SchemaDocument, pointer: str, value: Any) -> bool:
        key = (id(document), pointer)
        validator = self._validators.get(key)
        if validator is None:
            validator = validator_for(document, pointer)
            self._validators[key] = validator
        return bool(validator.is_valid(value))

    def writer_values(self, writer: Writer) -> list[Any] | None:
        values = writer.candidate_values()
        if values is None:
            return None
        types = writer.types
        return [
            v
            for v in values
            if category_of(v) in types
            and all(self.valid(self.writer_doc, core.pointer, v) for core in writer.cores)
        ]

    # -- the reader side
    def against(self, writer: Writer, reader: Schema, path: str) -> list[Finding]:
        self.budget -= 1
        if self.budget <= 0:
            return [_too_complex(path)]
        if not writer.types:
            return []  # the writer admits no instance
        values = self.writer_values(writer)
        if values is not None:
            return [
                Finding(
                    path,
                    FindingCode.VALUE_REJECTED,
                    f"the writer allows {_show(v)}, which the reader rejects",
                )
                for v in values
                if not self.valid(self.reader_doc, reader.pointer, v)
            ]
        if isinstance(reader, BoolSchema):
            if reader.value:
                return []
            return [Finding(path, FindingCode.READER_REJECTS_ALL, "the reader accepts nothing")]
        if any(self._identical(core, reader) for core in writer.cores):
            return []  # the writer is a conjunction that includes the reader itself
        if self._all_seen_valid(reader, path):
            return []  # observed: every value emitted here is accepted (checked one by one)
        # under `observed` the answer depends on the data at the path: the path is part of the
        # pair's identity while observed data lies at or below it (below, it is constant, so
        # recursion through $ref still meets the same pair again and stops)
        where = path if self._observed_below(path) else ""
        key = (tuple(c.pointer for c in writer.cores), writer.only, reader.pointer, where)
        if key in self._assumed:
            return []  # co-inductive hypothesis (see the module docstring)
        self._assumed.add(key)
        try:
            return _dedupe(self._against_node(writer, reader, path))
        finally:
            self._assumed.discard(key)

    def _against_node(self, writer: Writer, reader: SchemaNode, path: str) -> list[Finding]:
        from schemashift.core.compat.rules import KEYWORD_RULES

        findings: list[Finding] = []
        if reader.ref is not None:
            findings += self.against(writer, self.reader_doc.resolve(reader.ref), path)
        for member in reader.all_of or ():
            findings += self.against(writer, member, path)
        if reader.any_of is not None and not self._same(writer, reader, _any_of):
            findings += self._any_of(writer, reader.any_of, path, one=False)
        if reader.one_of is not None and not self._same(writer, reader, _one_of):
            findings += self._any_of(writer, reader.one_of, path, one=True)
        if reader.not_ is not None and not self._excludes(writer, reader.not_):
            findings.append(
                Finding(path, FindingCode.NOT_OVERLAPS, "the writer may produce what `not` forbids")
            )
        if reader.if_ is not None and not self._same(writer, reader, _conditional):
            findings += self._conditional(writer, reader, path)
        for name, schema in reader.dependent_schemas:
            if not self.can_have(writer, name) or not self.against(writer, schema, path):
                continue
            mine = [dict(core.dependent_schemas).get(name) for core in writer.cores]
            if any(m is not None and not self.subset((m,), schema, path) for m in mine):
                continue  # the writer guarantees (at least) the same dependency
            findings.append(
                Finding(
                    path,
                    FindingCode.CONDITIONAL_UNPROVEN,
                    f"dependentSchemas[{name!r}] is not guaranteed by the writer",
                )
            )
        for keyword, _value in reader.opaque:
            findings.append(
                Finding(
                    path,
                    FindingCode.UNSUPPORTED_KEYWORD,
                    f"`{keyword}` in the reader cannot be proven to accept the writer's data",
                )
            )
        for rule in KEYWORD_RULES:
            findings += rule(self, writer, reader, path)
        return findings

    def _any_of(
        self, writer: Writer, branches: tuple[Schema, ...], path: str, *, one: bool
    ) -> list[Finding]:
        if self._some_branch(writer, branches, path, one=one):
            return []
        types = writer.types
        if len(types) > 1 and all(
            self._some_branch(writer.restrict(frozenset({t})), branches, path, one=one)
            for t in types
        ):
            return []  # each writer type fits a (possibly different) branch
        if one:
            return [
                Finding(
                    path,
                    FindingCode.ONE_OF_AMBIGUOUS,
                    "no oneOf branch provably takes every writer instance exactly once "
                    "(a branch may not fit, or branches may overlap)",
                )
            ]
        return [
            Finding(
                path, FindingCode.ANY_OF_NO_BRANCH, "no anyOf branch accepts every writer value"
            )
        ]

    def _some_branch(
        self, writer: Writer, branches: tuple[Schema, ...], path: str, *, one: bool
    ) -> bool:
        if not writer.types:
            return True
        for index, branch in enumerate(branches):
            if self.against(writer, branch, path):
                continue
            if not one or all(
                self.disjoint(writer, other) for j, other in enumerate(branches) if j != index
            ):
                return True
        return False

    def _conditional(self, writer: Writer, reader: SchemaNode, path: str) -> list[Finding]:
        assert reader.if_ is not None
        then = reader.then or BoolSchema(True)
        other = reader.else_ or BoolSchema(True)
        if not self.against(writer, then, path) and not self.against(writer, other, path):
            return []
        if not self.against(writer, reader.if_, path):
            return self.against(writer, then, path)
        if self.disjoint(writer, reader.if_):
            return self.against(writer, other, path)
        return [
            Finding(
                path,
                FindingCode.CONDITIONAL_UNPROVEN,
                "the reader's if/then/else is not guaranteed for every writer value",
            )
        ]

    def _text(self, document: SchemaDocument, pointer: str) -> str:
        key = (id(document), pointer)
        text = self._texts.get(key)
        if text is None:
            text = self._texts[key] = canonical_text(document.raw_at(pointer))
        return text

    def _identical(self, core: SchemaNode, reader: SchemaNode) -> bool:
        """Whether a writer conjunct is literally the reader subschema: same text, same
        dialect, and no reference whose target could differ between the two documents."""
        if self._same_documents:
            return core.pointer == reader.pointer
        if self.writer_doc.dialect != self.reader_doc.dialect:
            return False
        text = self._text(self.writer_doc, core.pointer)
        return (
            "$ref" not in text
            and "Ref" not in text
            and text == self._text(self.reader_doc, reader.pointer)
        )

    def _same(self, writer: Writer, reader: SchemaNode, part: Any) -> bool:
        """Whether some writer core states the reader's ``part`` identically (canonical text,
        branch order ignored, no ``$ref`` whose meaning could differ between documents)."""
        theirs = part(self.reader_doc, reader)
        if theirs is None or "$ref" in theirs:
            return False
        return any(part(self.writer_doc, core) == theirs for core in writer.cores)

    def _excludes(self, writer: Writer, forbidden: Schema) -> bool:
        """Whether no writer value matches ``forbidden`` (the reader's ``not``)."""
        if self.disjoint(writer, forbidden):
            return True
        # contravariance: writer ⊆ not M and forbidden ⊆ M  ⇒  writer ∩ forbidden = ∅
        swapped = Checker(self.reader_doc, self.writer_doc, budget=max(self.budget // 4, 1))
        for core in writer.cores:
            if core.not_ is not None and not swapped.subset((forbidden,), core.not_, ""):
                return True
        return False

    def disjoint(self, writer: Writer, other: Schema) -> bool:
        """Proven: no writer value is valid under ``other`` (see ``disjoint.py``). Proven for
        every value the writer's schema allows: the proofs do not follow instance paths, so
        no observed data is used."""
        with self.blind():
            return disjoint(self, writer, other)

    @contextlib.contextmanager
    def blind(self) -> Iterator[None]:
        """Checks whose paths are not instance locations (property names, disjointness) run
        without the profile's evidence, as under ``strict`` apart from undeclared names."""
        saved = self.observations
        self.observations = _NOTHING_SEEN
        try:
            yield
        finally:
            self.observations = saved

    def expand_writer(self, schemas: tuple[Schema, ...]) -> Writer:
        """A writer conjunction without case splits (choices are dropped: over-approximation)."""
        expanded = self._expand(schemas, (), ())
        if expanded.empty:
            return Writer((), frozenset())
        return Writer(expanded.cores)

    def observed_at(self, path: str) -> frozenset[str] | None:
        """The type categories observed at event ``path``, or ``None`` if nothing was.

        A profile writes ``*`` for array elements and for the values of objects it read as
        maps, while the checker walks literal names and tuple indexes; so every observed path
        whose segments equal ``path``'s or are ``*`` (either side) counts (a union:
        conservative).
        """
        return self.observations.types_at(path)

    def seen(self, path: str) -> Seen | None:
        """Under ``observed``: what the profile saw at ``path`` (else ``None``: no evidence)."""
        if self.policy is not Policy.OBSERVED:
            return None
        return self.observations.at(path)

    def always_present(self, path: str, name: str) -> bool:
        """Under ``observed``: whether every object seen at ``path`` had ``name``."""
        return self.policy is Policy.OBSERVED and self.observations.always_has(path, name)

    def _all_seen_valid(self, reader: Schema, path: str) -> bool:
        """Under ``observed``: the values seen at ``path`` are all known scalars and the reader
        accepts each of them (``format`` is not asserted by the validator, so a reader format
        must also have matched every string seen)."""
        seen = self.seen(path)
        if seen is None or seen.values is None or isinstance(reader, BoolSchema):
            return False
        if not all(self.valid(self.reader_doc, reader.pointer, v) for v in seen.values):
            return False
        return all(seen.has_format(name) for name in formats_within(self.reader_doc, reader))

    def _observed_below(self, path: str) -> bool:
        """Whether some observed path lies at or below ``path`` (wildcards matching)."""
        return self.policy is Policy.OBSERVED and self.observations.below(path)

    def observed_children(self, path: str) -> set[str]:
        """Names (and ``*`` for map values) observed directly under ``path``."""
        return self.observations.children(path)

    def can_have(self, writer: Writer, name: str) -> bool:
        """Whether a writer object may contain property ``name``."""
        schemas, implicit = writer.property_schemas(name)
        if implicit and self.policy is Policy.LENIENT:
            return False
        return not any(is_false(s) for s in schemas)


def _accepts_all(schema: Schema) -> bool:
    if isinstance(schema, BoolSchema):
        return schema.value
    return schema.is_empty


def _branches(document: SchemaDocument, node: SchemaNode, key: str) -> str | None:
    raw = document.raw_at(node.pointer)
    if not isinstance(raw, dict) or key not in raw:
        return None
    return json.dumps(sorted(canonical_text(b) for b in raw[key]))


def _any_of(document: SchemaDocument, node: SchemaNode) -> str | None:
    return _branches(document, node, "anyOf")


def _one_of(document: SchemaDocument, node: SchemaNode) -> str | None:
    return _branches(document, node, "oneOf")


def _conditional(document: SchemaDocument, node: SchemaNode) -> str | None:
    raw = document.raw_at(node.pointer)
    if not isinstance(raw, dict) or "if" not in raw:
        return None
    return canonical_text([raw.get("if"), raw.get("then"), raw.get("else")])


def _too_complex(path: str) -> Finding:
    return Finding(
        path, FindingCode.TOO_COMPLEX, "the schemas are too complex to prove compatible in budget"
    )


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, str]] = set()
    out: list[Finding] = []
    for finding in findings:
        key = (finding.path, finding.code, finding.message)
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out
