"""Refuse regular expressions that can backtrack catastrophically.

JSON Schema ``pattern`` and ``patternProperties`` are run against untrusted payloads by
backtracking engines (Python's ``re``). A quantified group that itself contains an unbounded
quantifier — ``(a+)+``, ``(\\w*)*``, ``(a|b+){2,}`` — or a quantified alternation whose
branches can start with the same character (``(a|a)*``, ``(a|aa)+``) can take exponential time
on a short hostile input: the engine tries every way of splitting the input among the
branches. Branches are accepted only when their first characters are provably different.
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
                branches = [_branch_body(b) for b in group.branches]
                if unbounded and len(branches) != len(set(branches)):
                    return "a repeated alternation with identical branches"
                if unbounded and len(branches) > 1 and not _distinct_starts(branches):
                    return "a repeated alternation whose branches can match the same text"
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


#: the first-character set "anything" (unknown, or a branch that may match the empty string)
_ANY: frozenset[str] | None = None
_CLASS_ESCAPES = {
    "d": frozenset("0123456789"),
    "w": frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"),
    "s": frozenset(" \t\n\r\f\v"),
}
_MAX_RANGE = 512  # wider character ranges count as "anything"


def _branch_body(branch: str) -> str:
    """A branch without the group's extension prefix (``?:``, ``?P<name>``)."""
    match = re.match(r"\?(?::|P<\w+>|<\w+>)", branch)
    return branch[match.end() :] if match else branch


def _class_chars(body: str) -> frozenset[str] | None:
    """The characters a ``[...]`` body (without brackets) matches; ``None`` = too wide/unknown."""
    if body.startswith("^"):
        return _ANY
    chars: set[str] = set()
    i = 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            escaped = body[i + 1]
            if escaped in _CLASS_ESCAPES:
                chars |= _CLASS_ESCAPES[escaped]
            elif escaped.isalnum():
                return _ANY  # \S, \W, \D, \x.., \u....: not enumerated here
            else:
                chars.add(escaped)
            i += 2
        elif i + 2 < len(body) and body[i + 1] == "-" and body[i + 2] != "\\":
            low, high = ord(body[i]), ord(body[i + 2])
            if high - low > _MAX_RANGE:
                return _ANY
            chars |= {chr(c) for c in range(low, high + 1)}
            i += 3
        else:
            chars.add(body[i])
            i += 1
    return frozenset(chars)


def _first_chars(branch: str) -> frozenset[str] | None:
    """The characters a non-empty match of ``branch`` can start with; ``None`` when unknown
    or when the first atom is optional (the branch may start with whatever follows)."""
    if not branch:
        return _ANY
    char = branch[0]
    if char == "\\":
        if len(branch) < 2:
            return _ANY
        escaped = branch[1]
        if escaped in _CLASS_ESCAPES:
            first, end = _CLASS_ESCAPES[escaped], 2
        elif escaped.isalnum():
            return _ANY
        else:
            first, end = frozenset(escaped), 2
    elif char == "[":
        close = branch.find("]", 2 if branch[1:2] in ("]", "^") else 1)
        while close > 0 and branch[close - 1] == "\\":
            close = branch.find("]", close + 1)
        if close < 0:
            return _ANY
        chars = _class_chars(branch[1:close])
        if chars is None:
            return _ANY
        first, end = chars, close + 1
    elif char in "()|.^$*+?{":
        return _ANY
    else:
        first, end = frozenset(char), 1
    follow = branch[end : end + 2]
    if follow[:1] in ("*", "?") or follow.startswith("{0"):
        return _ANY  # the first atom may be skipped
    return first


def _distinct_starts(branches: list[str]) -> bool:
    """Whether no two branches can start with the same character (so at most one branch can
    match at any position and the repetition cannot split the input in several ways)."""
    seen: set[str] = set()
    for branch in branches:
        first = _first_chars(branch)
        if first is None or seen & first:
            return False
        seen |= first
    return True
