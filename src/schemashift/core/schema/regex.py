"""Refuse regular expressions that can backtrack catastrophically.

JSON Schema ``pattern`` and ``patternProperties`` are run against untrusted payloads by
backtracking engines (Python's ``re``). A quantified group that itself contains an unbounded
quantifier — ``(a+)+``, ``(\\w*)*``, ``(a|b+){2,}`` — or a quantified alternation whose
branches are identical (``(a|a)*``) can take exponential time on a short hostile input.
``unsafe_reason`` finds those shapes with a small scanner (no regex engine involved); it is a
conservative filter, not a full ambiguity analysis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_PATTERN_LENGTH = 1000


@dataclass
class _Group:
    unbounded_inside: bool = False
    branches: list[str] = field(default_factory=list)
    start: int = 0


def _quantifier_at(pattern: str, i: int) -> tuple[bool, int] | None:
    """If a quantifier starts at ``i``: (is it unbounded?, index after it)."""
    if i >= len(pattern):
        return None
    char = pattern[i]
    if char in "*+":
        end = i + 1
        unbounded = True
    elif char == "?":
        end, unbounded = i + 1, False
    elif char == "{":
        match = re.match(r"\{(\d*)(,?)(\d*)\}", pattern[i:])
        if match is None or (not match.group(1) and not match.group(3)):
            return None  # a literal brace
        end = i + match.end()
        unbounded = bool(match.group(2)) and not match.group(3)
        if not unbounded and match.group(3) and int(match.group(3)) > 1:
            unbounded = int(match.group(3)) > 16  # large bounded repeats blow up too
    else:
        return None
    if end < len(pattern) and pattern[end] in "?+":  # lazy / possessive marker
        end += 1
    return unbounded, end


def unsafe_reason(pattern: str) -> str | None:
    """Why ``pattern`` is refused, or ``None`` if it is acceptable."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"longer than {MAX_PATTERN_LENGTH} characters"
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"not a supported regular expression ({exc})"
    stack: list[_Group] = [_Group()]
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
        elif char == "[":  # skip a character class
            i += 1
            if i < len(pattern) and pattern[i] == "^":
                i += 1
            if i < len(pattern) and pattern[i] == "]":
                i += 1
            while i < len(pattern) and pattern[i] != "]":
                i += 2 if pattern[i] == "\\" else 1
            i += 1
        elif char == "(":
            stack.append(_Group(start=i + 1))
            i += 1
        elif char == "|":
            group = stack[-1]
            group.branches.append(pattern[group.start : i])
            group.start = i + 1
            i += 1
        elif char == ")" and len(stack) > 1:
            group = stack.pop()
            group.branches.append(pattern[group.start : i])
            quantifier = _quantifier_at(pattern, i + 1)
            i += 1
            if quantifier is not None:
                unbounded, i = quantifier
                if unbounded and group.unbounded_inside:
                    return "nested quantifiers (a repeated group that repeats inside)"
                branches = [b.lstrip("?:") for b in group.branches]
                if unbounded and len(branches) != len(set(branches)):
                    return "a repeated alternation with identical branches"
                if unbounded or group.unbounded_inside:
                    stack[-1].unbounded_inside = True
            elif group.unbounded_inside:
                stack[-1].unbounded_inside = True
        else:
            quantifier = _quantifier_at(pattern, i)
            if quantifier is not None:
                unbounded, i = quantifier
                if unbounded:
                    stack[-1].unbounded_inside = True
            else:
                i += 1
    return None
