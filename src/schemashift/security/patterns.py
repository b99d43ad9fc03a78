"""Subject patterns in grants: fully anchored, matched on the decoded subject name.

Three forms:

* ``orders`` — exactly the subject ``orders`` (not ``orders-secret``, not ``Orders``);
* a glob with ``*`` (any run of characters, ``.`` and ``/`` included) and ``?`` (exactly one
  character): ``orders.*`` reaches ``orders.created`` but not ``orders`` or ``orders-x``;
  ``*`` alone reaches every subject and is also what "global" operations require;
* ``re:<regex>`` — a Python regular expression that must match the *whole* name
  (``re.fullmatch``), for what globs cannot say.

Matching is on code points, with no case folding or Unicode normalisation: the registry
treats subject names as opaque strings, so ``ｏrders`` (full-width o) is a different subject
and a grant on ``orders`` does not reach it. ``..`` and ``/`` are ordinary characters for
the same reason. Names longer than :data:`MAX_SUBJECT_LENGTH` are matched only by ``*``,
so a long hostile name cannot make a regular expression backtrack for long.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from schemashift.errors import SchemaShiftError

MAX_SUBJECT_LENGTH = 1_000
REGEX_PREFIX = "re:"


class PatternError(SchemaShiftError):
    """A subject pattern in the auth config cannot be used."""


@dataclass(frozen=True, slots=True)
class SubjectPattern:
    """One compiled pattern; :meth:`matches` is the only question asked of it."""

    text: str
    _regex: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def parse(cls, text: str) -> SubjectPattern:
        if not text:
            raise PatternError("empty subject pattern")
        if text.startswith(REGEX_PREFIX):
            try:
                regex = re.compile(text[len(REGEX_PREFIX) :])
            except re.error as exc:
                raise PatternError(f"invalid regular expression in {text!r}: {exc}") from None
            return cls(text, regex)
        return cls(text)

    @property
    def is_global(self) -> bool:
        """``*`` alone: every subject, and the operations that name no subject."""
        return self.text == "*"

    def matches(self, subject: str) -> bool:
        if self.is_global:
            return True
        if len(subject) > MAX_SUBJECT_LENGTH:
            return False
        if self._regex is not None:
            return self._regex.fullmatch(subject) is not None
        return glob_match(self.text, subject)


def glob_match(pattern: str, name: str) -> bool:
    """Anchored glob match in O(len(pattern) * len(name)) worst case, no regex backtracking.

    The classic two-pointer algorithm: on a mismatch, retry from the last ``*`` one
    character further on. Only the last star needs remembering because a star can absorb
    whatever an earlier star would have.
    """
    p = n = 0
    star_p = -1
    star_n = 0
    while n < len(name):
        if p < len(pattern) and (pattern[p] == "?" or pattern[p] == name[n]):
            p += 1
            n += 1
        elif p < len(pattern) and pattern[p] == "*":
            star_p = p
            star_n = n
            p += 1
        elif star_p >= 0:
            p = star_p + 1
            star_n += 1
            n = star_n
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)
