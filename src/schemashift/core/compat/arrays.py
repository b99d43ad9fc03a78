"""Reader rules for arrays: items/prefixItems, item counts, uniqueItems, contains."""

from __future__ import annotations

from typing import TYPE_CHECKING

from schemashift.core.compat.model import Finding, FindingCode
from schemashift.core.compat.writer import Writer
from schemashift.core.schema import Schema, SchemaNode

if TYPE_CHECKING:
    from schemashift.core.compat.engine import Checker


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
    limit = w.least("max_items")
    if any(c.unique_items for c in w.cores) or (limit is not None and limit <= 1):
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
