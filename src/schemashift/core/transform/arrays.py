"""The array rule: ``items``, tuples (``prefixItems``), lengths, ``uniqueItems``, ``contains``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from schemashift.core.transform.context import FAIL, Ctx, Node, copy_json, freeze
from schemashift.core.transform.result import ReasonCode


@dataclass(frozen=True, slots=True)
class ArrayRules:
    prefix: tuple[Node, ...]
    items: Node | bool  # True: anything, False: nothing after the prefix
    items_simple: frozenset[type]
    min_items: int | None
    max_items: int | None
    unique: bool
    contains: Node | None
    min_contains: int
    max_contains: int | None


def array_handler(rules: ArrayRules) -> Callable[[list[Any], Ctx], Any]:
    prefix = rules.prefix
    items = rules.items
    simple = rules.items_simple
    keywords = (
        rules.min_items is not None
        or rules.max_items is not None
        or rules.unique
        or rules.contains is not None
    )

    def handle(value: list[Any], ctx: Ctx) -> Any:
        out: list[Any] = []
        failed = False
        mark = len(ctx.reasons)
        for index, item in enumerate(value):
            if index < len(prefix):
                node: Node | bool = prefix[index]
            else:
                node = items
                if type(item) in simple:
                    out.append(item)
                    continue
            if node is False:
                ctx.fail(ReasonCode.TOO_MANY_ITEMS, f"at most {len(prefix)} items are allowed here")
                ctx.prefix(mark, str(index))
                return FAIL
            result = copy_json(item, ctx) if node is True else node(item, ctx)
            if result is FAIL:
                failed = True
                mark = ctx.prefix(mark, str(index))
            else:
                out.append(result)
        if failed:
            return FAIL
        return _array_keywords(rules, out, ctx) if keywords else out

    return handle


def _array_keywords(rules: ArrayRules, out: list[Any], ctx: Ctx) -> Any:
    if rules.min_items is not None and len(out) < rules.min_items:
        return ctx.fail(ReasonCode.TOO_FEW_ITEMS, f"fewer than {rules.min_items} items")
    if rules.max_items is not None and len(out) > rules.max_items:
        return ctx.fail(ReasonCode.TOO_MANY_ITEMS, f"more than {rules.max_items} items")
    if rules.unique:
        seen: set[Any] = set()
        for index, item in enumerate(out):
            key = freeze(item)
            if key in seen:
                ctx.fail(ReasonCode.ITEMS_NOT_UNIQUE, "repeats an earlier item")
                ctx.prefix(len(ctx.reasons) - 1, str(index))
                return FAIL
            seen.add(key)
    if rules.contains is not None:
        contains = rules.contains
        hits = sum(1 for item in out if contains(item, Ctx(validate=True)) is not FAIL)
        if hits < rules.min_contains:
            return ctx.fail(
                ReasonCode.CONTAINS_MISMATCH,
                f"{hits} items match 'contains', at least {rules.min_contains} needed",
            )
        if rules.max_contains is not None and hits > rules.max_contains:
            return ctx.fail(
                ReasonCode.CONTAINS_MISMATCH,
                f"{hits} items match 'contains', at most {rules.max_contains} allowed",
            )
    return out
