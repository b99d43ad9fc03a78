"""``check_compatibility``: Confluent's modes over the sound subset checker."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from schemashift.core.canonical import canonical_text
from schemashift.core.compat.engine import Checker
from schemashift.core.compat.model import CompatibilityMode, CompatibilityResult, Finding, Policy
from schemashift.core.compat.observed import Observations
from schemashift.core.compat.writer import categories
from schemashift.core.schema import SchemaDocument, parse_schema


class HasPathStats(Protocol):
    """What the observed policy needs from a profile (``schemashift.Profile`` has it)."""

    def path_stats(self) -> Mapping[str, Any]: ...


def _inferred_from(profile: HasPathStats, reader: SchemaDocument) -> bool:
    """Whether ``reader`` is exactly the schema the profile infers (``finish()``). Every
    payload added to a profile validates against its finished schema (an invariant of the
    analyzer, docs/inference.md), so such a reader accepts everything the profile covers."""
    finish = getattr(profile, "finish", None)
    if finish is None:
        return False
    return bool(canonical_text(finish()) == canonical_text(reader.raw))


def observed_types(profile: HasPathStats) -> dict[str, frozenset[str]]:
    """Per event path, the type categories seen (JSON type names → checker categories)."""
    out: dict[str, frozenset[str]] = {}
    for path, stats in profile.path_stats().items():
        seen = stats.get("types") if isinstance(stats, Mapping) else getattr(stats, "types", None)
        nulls = stats.get("nulls") if isinstance(stats, Mapping) else getattr(stats, "nulls", 0)
        names = {name for name, count in (seen or {}).items() if count}
        if nulls:
            names.add("null")
        out[path] = categories(frozenset(names))
    return out


def _document(schema: Any) -> SchemaDocument:
    return schema if isinstance(schema, SchemaDocument) else parse_schema(schema)


def check_compatibility(
    old: Any,
    new: Any,
    mode: CompatibilityMode | str,
    *,
    policy: Policy | str = Policy.STRICT,
    profile: HasPathStats | None = None,
) -> CompatibilityResult:
    """Whether ``new`` may follow ``old`` under ``mode``.

    ``old`` is one schema or the list of all earlier schemas, oldest first; the non-transitive
    modes use its last element. BACKWARD: everything valid under old is valid under new;
    FORWARD: the reverse; FULL: both. The profile (``policy="observed"``) describes the data the
    *writer* side produced. Raises ``InvalidSchemaError`` for an unusable schema and
    ``ValueError`` for an unknown mode or policy, or ``observed`` without a profile.
    """
    mode = CompatibilityMode(mode.upper() if isinstance(mode, str) else mode)
    policy = Policy(policy.lower() if isinstance(policy, str) else policy)
    if policy is Policy.OBSERVED and profile is None:
        raise ValueError("policy 'observed' needs the profile of the observed data")
    olds = list(old) if isinstance(old, Sequence) and not isinstance(old, str) else [old]
    if not olds:
        raise ValueError("no earlier schema given")
    new_doc = _document(new)
    old_docs = [_document(s) for s in olds]
    if mode is CompatibilityMode.NONE:
        return CompatibilityResult(True)
    if not mode.transitive:
        old_docs = old_docs[-1:]
    observed = Observations(profile.path_stats()) if profile is not None else None
    inferred: dict[int, bool] = {}
    findings: list[Finding] = []
    for index, old_doc in enumerate(old_docs):
        suffix = f" (earlier schema {index + 1} of {len(old_docs)})" if len(old_docs) > 1 else ""
        pairs = []
        if mode.backward:
            pairs.append(("backward", old_doc, new_doc))
        if mode.forward:
            pairs.append(("forward", new_doc, old_doc))
        for direction, writer, reader in pairs:
            checker = Checker(writer, reader, policy=policy, observed=observed)
            found = checker.check()
            if found and policy is Policy.OBSERVED and profile is not None:
                # per-path statistics cannot prove everything (a tagged union's per-branch
                # requirements); a reader inferred from the very profile needs no proof
                if id(reader) not in inferred:
                    inferred[id(reader)] = _inferred_from(profile, reader)
                if inferred[id(reader)]:
                    found = []
            for finding in found:
                findings.append(
                    Finding(
                        finding.path,
                        finding.code,
                        finding.message + suffix,
                        direction if mode.backward and mode.forward else "",
                    )
                )
    return CompatibilityResult(not findings, tuple(findings))
