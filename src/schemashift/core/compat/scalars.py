"""Reader rules for values: types, enum/const, numeric bounds, multipleOf, string
lengths, pattern and format (see ``rules.py`` for the table)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from schemashift.core.compat.model import Finding, FindingCode, Policy
from schemashift.core.compat.writer import NUMERIC, Bound, Writer, categories
from schemashift.core.schema import SchemaNode

if TYPE_CHECKING:
    from schemashift.core.compat.engine import Checker

# patterns that match every string (re.search semantics)
_TRIVIAL_PATTERNS = frozenset({"", ".*", "^.*", ".*$", "^.*$", "[\\s\\S]*", "^[\\s\\S]*$"})


def _type_names(cats: frozenset[str]) -> str:
    names = {"number" if c == "fraction" else c for c in cats}
    return ", ".join(sorted(names))


def types(ch: Checker, w: Writer, r: SchemaNode, path: str) -> list[Finding]:
    if r.types is None:
        return []
    missing = w.types - categories(r.types)
    seen = ch.seen(path)
    if seen is not None:
        missing &= seen.types  # observed: only the types actually emitted here matter
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
    # observed: the smallest and largest numbers seen bound what was emitted here
    seen = ch.seen(path)
    no_numbers = seen is not None and not seen.types & NUMERIC
    if seen is not None and seen.low is not None:
        low = None if low is not None and _at_least(Bound(seen.low, False), low) else low
    if seen is not None and seen.high is not None:
        high = None if high is not None and _at_most(Bound(seen.high, False), high) else high
    if no_numbers:
        low = high = None
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
    seen = ch.seen(path)
    if seen is not None and seen.strings and seen.str_len is not None:
        # observed: the shortest and longest strings seen bound what was emitted here
        shortest, longest = seen.str_len
        if r.min_length is not None and r.min_length <= shortest:
            return lengths_upper(w, r, path, longest)
        return lengths_upper(w, r, path, longest) + _min_length(w, r, path)
    if seen is not None and "string" not in seen.types:
        return []
    return _min_length(w, r, path) + lengths_upper(w, r, path, None)


def _min_length(w: Writer, r: SchemaNode, path: str) -> list[Finding]:
    findings = []
    if r.min_length is not None and r.min_length > (w.most("min_length") or 0):
        findings.append(
            Finding(
                path,
                FindingCode.MIN_LENGTH_RAISED,
                f"the reader needs at least {r.min_length} characters",
            )
        )
    return findings


def lengths_upper(w: Writer, r: SchemaNode, path: str, longest: int | None) -> list[Finding]:
    """The reader's maxLength against the writer's (or, observed, the longest string seen)."""
    findings = []
    mine = w.least("max_length")
    if longest is not None and (mine is None or longest < mine):
        mine = longest
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
    seen = ch.seen(path)
    for attr, keyword in _STRING_ASSERTIONS:
        theirs = getattr(r, attr)
        if attr == "format" and seen is not None and seen.has_format(theirs or ""):
            continue  # observed: every string emitted here matched the reader's format
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
