"""Keywords that combine subschemas: ``allOf``, ``anyOf``, ``oneOf``, ``not``, ``if``.

Unions pick a branch in three passes, each in branch order: a branch the value is already
valid under, as it is; then a branch it conforms to without coercion (defaults filled, extras
dropped); then with the enabled coercions. ``oneOf`` also checks that the conformed value is
valid under no other branch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from schemashift.core.transform.context import FAIL, Ctx, Node, Pending
from schemashift.core.transform.result import ReasonCode

Step = Callable[[Any, Ctx], Any]


def validates(node: Node, value: Any) -> bool:
    """Whether ``value`` is already valid under ``node`` (nothing coerced, filled or dropped)."""
    return node(value, Ctx(validate=True)) is not FAIL


def keep_order(before: Any, after: Any) -> Any:
    """``after`` with the key order of ``before`` (new keys last).

    When a schema has both object keywords and a combinator (a tagged union beside the
    properties), the object rule puts keys in the schema's order and the branch would redo it
    in *its* order; the typed path keeps the first, so the Python path does too.
    """
    if type(after) is not dict or type(before) is not dict or list(after) == list(before):
        return after
    ordered = {k: after[k] for k in before if k in after}
    ordered.update((k, v) for k, v in after.items() if k not in ordered)
    return ordered


def _summary(ctx: Ctx, start: int) -> str:
    parts = [p.finish() for p in ctx.reasons[start : start + 3]]
    return "; ".join(f"{r.path or '/'}: {r.message}" for r in parts)


def _attempts(branches: Sequence[Node], value: Any, ctx: Ctx) -> list[tuple[int, Node, bool]]:
    # (index, node, coerce) in the order the passes try them
    valid_as_is = [(i, n, False) for i, n in enumerate(branches) if validates(n, value)]
    attempts = valid_as_is + [(i, n, False) for i, n in enumerate(branches)]
    if ctx.coerce:
        attempts += [(i, n, True) for i, n in enumerate(branches)]
    return attempts


def any_of_step(branches: Sequence[Node]) -> Step:
    def step(value: Any, ctx: Ctx) -> Any:
        start = len(ctx.reasons)
        saved = ctx.coerce
        last = ""
        for _, node, coerce in _attempts(branches, value, ctx):
            ctx.coerce = coerce
            result = node(value, ctx)
            if result is not FAIL:
                ctx.coerce = saved
                return result
            last = _summary(ctx, start)
            del ctx.reasons[start:]
        ctx.coerce = saved
        return ctx.fail(
            ReasonCode.NO_BRANCH_MATCHES,
            f"matches none of {len(branches)} alternatives (last: {last})",
        )

    return step


def one_of_step(branches: Sequence[Node]) -> Step:
    def step(value: Any, ctx: Ctx) -> Any:
        start = len(ctx.reasons)
        saved = ctx.coerce
        ambiguous = False
        for index, node, coerce in _attempts(branches, value, ctx):
            ctx.coerce = coerce
            result = node(value, ctx)
            if result is FAIL:
                del ctx.reasons[start:]
                continue
            others = (b for i, b in enumerate(branches) if i != index)
            if any(validates(other, result) for other in others):
                ambiguous = True
                continue
            ctx.coerce = saved
            return result
        ctx.coerce = saved
        if ambiguous:
            return ctx.fail(
                ReasonCode.AMBIGUOUS_BRANCHES, "valid under more than one oneOf alternative"
            )
        return ctx.fail(
            ReasonCode.NO_BRANCH_MATCHES, f"matches none of {len(branches)} oneOf alternatives"
        )

    return step


def all_of_step(branches: Sequence[Node]) -> Step:
    def step(value: Any, ctx: Ctx) -> Any:
        for node in branches:
            value = node(value, ctx)
            if value is FAIL:
                return FAIL
        if len(branches) > 1:
            # a later branch may have added what an earlier one forbids
            for node in branches:
                if not validates(node, value):
                    return ctx.fail(
                        ReasonCode.CONDITION_FAILED, "cannot satisfy every allOf schema at once"
                    )
        return value

    return step


def not_step(forbidden: Node) -> Step:
    def step(value: Any, ctx: Ctx) -> Any:
        if validates(forbidden, value):
            return ctx.fail(ReasonCode.MATCHES_FORBIDDEN_SCHEMA, "matches a schema under 'not'")
        return value

    return step


def if_step(condition: Node, then: Node, otherwise: Node) -> Step:
    """``if`` is decided on the *output*: a branch that fills a default, drops a field or
    coerces a value can change what ``if`` says (``"5"`` is a string, the ``then`` branch
    makes it ``5``, which is not). The branch the input selects is tried first, then the
    other; a result stands only if it is valid under the branch its own ``if`` answer
    selects."""

    def settled(result: Any, made_by: Node) -> bool:
        # ``made_by``'s output is valid under ``made_by``: only a flipped answer needs a check
        selected = then if validates(condition, result) else otherwise
        return selected is made_by or validates(selected, result)

    def step(value: Any, ctx: Ctx) -> Any:
        if ctx.validate:
            return (then if validates(condition, value) else otherwise)(value, ctx)
        first, second = (then, otherwise) if validates(condition, value) else (otherwise, then)
        start = len(ctx.reasons)
        result = first(value, ctx)
        if result is not FAIL and settled(result, first):
            return result
        if result is FAIL:
            kept = ctx.reasons[start:]
        else:
            kept = [Pending(ReasonCode.CONDITION_FAILED, "conforming changed the 'if' answer")]
        del ctx.reasons[start:]
        result = second(value, ctx)
        if result is not FAIL and settled(result, second):
            return result
        del ctx.reasons[start:]
        ctx.reasons.extend(kept)  # the reasons of the branch the input selected
        return FAIL

    return step
