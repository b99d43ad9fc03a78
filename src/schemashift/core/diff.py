"""What changed between two schemas, and how much: ``diff(old, new) -> DriftReport``.

The walk compares the two schemas type by type (``schema.facets``) along the *event* path
(JSON Pointer, ``*`` for any array element or map value), so a change is reported where the
data changes, whatever ``$ref``/``allOf``/``anyOf`` layout each schema uses. A type change at a
path is one change: the children of a field that became an object are part of it, not extra
drift. Maps (objects described by ``additionalProperties``/``patternProperties`` only) are
compared by their value schema, so map keys never count as properties.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from schemashift.core.drift import DriftWeights, combine
from schemashift.core.schema import SchemaDocument, parse_schema
from schemashift.core.schema.delta import Delta, Walker


class ChangeCode(StrEnum):
    PROPERTY_ADDED = "property_added"
    PROPERTY_REMOVED = "property_removed"
    TYPE_WIDENED = "type_widened"
    TYPE_NARROWED = "type_narrowed"
    TYPE_CHANGED = "type_changed"
    BECAME_REQUIRED = "became_required"
    BECAME_OPTIONAL = "became_optional"
    NULLABILITY_ADDED = "nullability_added"
    NULLABILITY_REMOVED = "nullability_removed"
    FORMAT_CHANGED = "format_changed"
    ENUM_CHANGED = "enum_changed"
    CONST_CHANGED = "const_changed"
    CONSTRAINT_TIGHTENED = "constraint_tightened"
    CONSTRAINT_LOOSENED = "constraint_loosened"
    MAP_TO_RECORD = "map_to_record"
    RECORD_TO_MAP = "record_to_map"
    ITEMS_CHANGED = "items_changed"
    ADDITIONAL_PROPERTIES_CLOSED = "additional_properties_closed"
    ADDITIONAL_PROPERTIES_OPENED = "additional_properties_opened"


class ChangeClass(StrEnum):
    ADDITIVE = "additive"
    SUBTRACTIVE = "subtractive"
    MODIFICATION = "modification"


class Severity(StrEnum):
    """From the change's weight: high ≥ 0.3, medium ≥ 0.15, low below (docs/drift.md)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class Change:
    path: str
    schema_path: str
    code: ChangeCode
    before: Any
    after: Any
    change_class: ChangeClass
    severity: Severity = Severity.LOW
    contribution: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "schema_path": self.schema_path,
            "code": str(self.code),
            "before": self.before,
            "after": self.after,
            "class": str(self.change_class),
            "severity": str(self.severity),
            "contribution": self.contribution,
        }


@dataclass(frozen=True, slots=True)
class RenameHint:
    """A removed and an added field of one parent that look like the same data renamed."""

    parent: str
    old_name: str
    new_name: str
    similarity: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "parent": self.parent,
            "old_name": self.old_name,
            "new_name": self.new_name,
            "similarity": self.similarity,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class DriftReport:
    score: float
    changes: tuple[Change, ...] = ()
    rename_hints: tuple[RenameHint, ...] = ()
    subject: str | None = None
    base_version: int | None = None
    inferred_schema: dict[str, Any] | None = None
    sample_count: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "base_version": self.base_version,
            "score": self.score,
            "changes": [c.to_dict() for c in self.changes],
            "rename_hints": [h.to_dict() for h in self.rename_hints],
            "inferred_schema": self.inferred_schema,
            "sample_count": self.sample_count,
        }


def _class(code: str) -> ChangeClass:
    return _CLASS.get(ChangeCode(code), ChangeClass.MODIFICATION)


_CLASS = {
    ChangeCode.PROPERTY_ADDED: ChangeClass.ADDITIVE,
    ChangeCode.TYPE_WIDENED: ChangeClass.ADDITIVE,
    ChangeCode.NULLABILITY_ADDED: ChangeClass.ADDITIVE,
    ChangeCode.CONSTRAINT_LOOSENED: ChangeClass.ADDITIVE,
    ChangeCode.ADDITIONAL_PROPERTIES_OPENED: ChangeClass.ADDITIVE,
    # a consumer could rely on a required field; it can no longer
    ChangeCode.BECAME_OPTIONAL: ChangeClass.SUBTRACTIVE,
    ChangeCode.PROPERTY_REMOVED: ChangeClass.SUBTRACTIVE,
    ChangeCode.TYPE_NARROWED: ChangeClass.SUBTRACTIVE,
    ChangeCode.NULLABILITY_REMOVED: ChangeClass.SUBTRACTIVE,
    ChangeCode.CONSTRAINT_TIGHTENED: ChangeClass.SUBTRACTIVE,
    ChangeCode.ADDITIONAL_PROPERTIES_CLOSED: ChangeClass.SUBTRACTIVE,
}


def _document(schema: Any) -> SchemaDocument:
    return schema if isinstance(schema, SchemaDocument) else parse_schema(schema)


def diff(
    old: Any,
    new: Any,
    *,
    old_profile: Any = None,
    new_profile: Any = None,
    weights: DriftWeights | None = None,
) -> DriftReport:
    """The changes from ``old`` to ``new`` with their drift score (see ``docs/drift.md``)."""
    old_doc, new_doc = _document(old), _document(new)
    report = report_of(Walker(old_doc, new_doc).walk(), weights)
    hints = rename_hints(report.changes, old_profile, new_profile)
    return DriftReport(score=report.score, changes=report.changes, rename_hints=hints)


def report_of(deltas: Iterable[Delta], weights: DriftWeights | None = None) -> DriftReport:
    """The drift report of structural steps (``Delta`` values: a diff's, or a widening's),
    each weighed and classed as docs/drift.md says; the order of ``deltas`` does not matter."""
    weights = weights or DriftWeights()
    raw = sorted(
        deltas, key=lambda c: (c.path, c.code, c.schema_path, repr(c.before), repr(c.after))
    )
    ws = [weights.weight(c.code, c.path, required=c.required) for c in raw]
    score, contributions = combine(ws)
    changes = tuple(
        Change(
            path=c.path,
            schema_path=c.schema_path,
            code=ChangeCode(c.code),
            before=c.before,
            after=c.after,
            change_class=ChangeClass(c.direction) if c.direction else _class(c.code),
            severity=Severity.HIGH if w >= 0.3 else Severity.MEDIUM if w >= 0.15 else Severity.LOW,
            contribution=share,
        )
        for c, w, share in zip(raw, ws, contributions, strict=True)
    )
    return DriftReport(score=score, changes=changes)


def _stats(profile: Any) -> Mapping[str, Any]:
    return profile.path_stats() if profile is not None else {}


def _get(stats: Any, name: str) -> Any:
    return stats.get(name) if isinstance(stats, Mapping) else getattr(stats, name, None)


def _similarity(old: Any, new: Any) -> tuple[float, str]:
    """How alike two fields' observed values are, in [0, 1], and why."""
    old_types = {k for k, v in (_get(old, "types") or {}).items() if v}
    new_types = {k for k, v in (_get(new, "types") or {}).items() if v}
    if not old_types or old_types != new_types or old_types == {"null"}:
        return 0.0, "different types"
    points, reasons = 0.5, [f"same types {sorted(old_types)}"]
    for attr in ("str_len", "array_len"):
        a, b = _get(old, attr), _get(new, attr)
        if a and b and max(a[0], b[0]) <= min(a[1], b[1]):
            points += 0.15
            reasons.append(f"overlapping {attr}")
    a_min, a_max, b_min, b_max = (
        _get(old, "min"),
        _get(old, "max"),
        _get(new, "min"),
        _get(new, "max"),
    )
    if None not in (a_min, a_max, b_min, b_max) and max(a_min, b_min) <= min(a_max, b_max):
        points += 0.15
        reasons.append("overlapping value range")
    old_formats, new_formats = set(_get(old, "formats") or {}), set(_get(new, "formats") or {})
    if old_formats == new_formats:
        points += 0.1
        if old_formats:
            reasons.append(f"same formats {sorted(old_formats)}")
    a_distinct, b_distinct = _get(old, "distinct"), _get(new, "distinct")
    if a_distinct and b_distinct and set(map(repr, a_distinct)) & set(map(repr, b_distinct)):
        points += 0.2
        reasons.append("shared values")
    return min(1.0, points), ", ".join(reasons)


#: similarity from which a removed + added pair is reported as a probable rename
RENAME_THRESHOLD = 0.7


def rename_hints(
    changes: tuple[Change, ...], old_profile: Any, new_profile: Any
) -> tuple[RenameHint, ...]:
    """Probable renames: a removed and an added field in the same parent whose observed values
    (profiles) have the same types and similar statistics.

    With one profile only, it serves both sides: a running profile that merged data from
    before and after the change has statistics for the old name and the new one.
    """
    if old_profile is None and new_profile is None:
        return ()
    old_stats = _stats(old_profile if old_profile is not None else new_profile)
    new_stats = _stats(new_profile if new_profile is not None else old_profile)
    removed = [c.path for c in changes if c.code is ChangeCode.PROPERTY_REMOVED]
    added = [c.path for c in changes if c.code is ChangeCode.PROPERTY_ADDED]
    hints: list[RenameHint] = []
    taken: set[str] = set()
    for gone in removed:
        parent = gone.rsplit("/", 1)[0]
        best: tuple[float, str, str] | None = None
        for new in added:
            if new in taken or new.rsplit("/", 1)[0] != parent:
                continue
            if gone not in old_stats or new not in new_stats:
                continue
            score, reason = _similarity(old_stats[gone], new_stats[new])
            if score >= RENAME_THRESHOLD and (best is None or score > best[0]):
                best = (score, new, reason)
        if best is not None:
            taken.add(best[1])
            hints.append(
                RenameHint(parent, _name(gone), _name(best[1]), round(best[0], 3), best[2])
            )
    return tuple(hints)


def _name(path: str) -> str:
    return path.rsplit("/", 1)[1].replace("~1", "/").replace("~0", "~")


__all__ = [
    "Change",
    "ChangeClass",
    "ChangeCode",
    "DriftReport",
    "RenameHint",
    "Severity",
    "diff",
    "rename_hints",
    "report_of",
]
