"""Subject patterns: fully anchored, code-point exact, linear-time on hostile names."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemashift.security.patterns import (
    MAX_SUBJECT_LENGTH,
    PatternError,
    SubjectPattern,
    glob_match,
)


def reference_glob(pattern: str, name: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, name, flags=re.DOTALL) is not None


@settings(max_examples=300)
@given(
    pattern=st.text(alphabet="ab*?./", max_size=8),
    name=st.text(alphabet="ab./", max_size=12),
)
def test_glob_agrees_with_an_anchored_regex(pattern: str, name: str) -> None:
    """The linear glob matcher decides exactly what an anchored regex translation decides."""
    assert glob_match(pattern, name) == reference_glob(pattern, name)


@settings(max_examples=200)
@given(
    subject=st.text(min_size=1, max_size=20).filter(lambda s: "*" not in s and "?" not in s),
    extra=st.text(min_size=1, max_size=10),
)
def test_a_plain_grant_reaches_only_its_own_name(subject: str, extra: str) -> None:
    """A grant on `orders` never reaches `orders<anything>` or `<anything>orders`."""
    pattern = SubjectPattern.parse(subject)
    assert pattern.matches(subject)
    assert not pattern.matches(subject + extra)
    assert not pattern.matches(extra + subject)


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("orders", "orders", True),
        ("orders", "orders-secret", False),
        ("orders", "Orders", False),
        ("orders", "ｏrders", False),  # full-width o: a different subject
        ("orders", "orders\u0000", False),
        ("orders", "orders/../secret", False),
        ("orders.*", "orders.created", True),
        ("orders.*", "orders", False),
        ("orders.*", "ordersXcreated", False),  # the dot is literal in a glob
        ("shop/*", "shop/order.created", True),
        ("shop/*", "shop", False),
        ("shop/*", "other/shop/x", False),
        ("re:orders\\.(created|paid)", "orders.created", True),
        ("re:orders\\.(created|paid)", "orders.created.secret", False),  # fullmatch
        ("re:orders", "xorders", False),
        ("*", "anything at all", True),
        ("*", "x" * (MAX_SUBJECT_LENGTH * 10), True),
        ("x*", "x" * (MAX_SUBJECT_LENGTH + 1), False),  # long names: only `*` reaches them
    ],
)
def test_pattern_examples(pattern: str, subject: str, expected: bool) -> None:
    """The documented examples of docs/security.md, including confusable and long names."""
    assert SubjectPattern.parse(pattern).matches(subject) is expected


def test_glob_on_a_hostile_name_does_not_backtrack_exponentially() -> None:
    """`*a*a*a*a*b` against 1,000 `a`s ends (the matcher is O(pattern × name))."""
    assert not glob_match("*a*a*a*a*a*a*b", "a" * MAX_SUBJECT_LENGTH)


def test_a_regex_grant_never_sees_an_overlong_name() -> None:
    """A backtracking-prone regex is not run on names over the length bound."""
    pattern = SubjectPattern.parse("re:(a+)+$")
    assert not pattern.matches("a" * (MAX_SUBJECT_LENGTH + 1) + "!")


@pytest.mark.parametrize("text", ["", "re:(unclosed"])
def test_invalid_patterns_are_refused(text: str) -> None:
    """Empty patterns and invalid regular expressions are configuration errors."""
    with pytest.raises(PatternError):
        SubjectPattern.parse(text)


def test_only_star_is_global() -> None:
    """`*` alone is the global grant; `**` or `re:.*` reach every subject but are not global."""
    assert SubjectPattern.parse("*").is_global
    assert not SubjectPattern.parse("**").is_global
    assert not SubjectPattern.parse("re:.*").is_global
