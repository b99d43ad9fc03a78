"""The subject → NATS token mapping is valid, reversible and collision-free."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemashift.bus import StreamKind
from schemashift.pipeline.subjects import (
    UNKNOWN_SUBJECT_TOKEN,
    BusSubjects,
    subject_token,
    token_subject,
)

subjects = st.text(min_size=1, max_size=40)


@pytest.mark.parametrize(
    ("subject", "token"),
    [
        ("orders", "orders"),
        ("shop/order.created", "shop_2Forder_2Ecreated"),
        ("a_b", "a_5Fb"),
        ("a b*>", "a_20b_2A_3E"),
        ("café", "caf_C3_A9"),
        ("Order-Created-2", "Order-Created-2"),
    ],
)
def test_documented_examples(subject: str, token: str) -> None:
    """The examples in the module docstring and docs/pipeline.md hold."""
    assert subject_token(subject) == token
    assert token_subject(token) == subject


@settings(max_examples=300)
@given(subjects)
def test_token_is_a_valid_nats_token_and_round_trips(subject: str) -> None:
    """Every token avoids NATS separators/wildcards/whitespace and decodes to its subject."""
    token = subject_token(subject)
    assert token
    assert not any(ch in token for ch in ".*> \t\r\n")
    assert token.isascii()
    assert token_subject(token) == subject


@settings(max_examples=300)
@given(subjects, subjects)
def test_distinct_subjects_get_distinct_tokens(first: str, second: str) -> None:
    """Injective: two different subjects never share a token."""
    if first != second:
        assert subject_token(first) != subject_token(second)


def test_collision_candidates_stay_apart() -> None:
    """Subjects that differ only in characters a naive mapping folds together stay distinct."""
    names = ["a.b", "a_b", "a/b", "a-b", "a_2Eb", "a b", "a__b"]
    tokens = [subject_token(n) for n in names]
    assert len(set(tokens)) == len(names)


def test_unknown_token_is_never_a_subject() -> None:
    """The dead-letter token for unnamed events is outside the mapping's image."""
    with pytest.raises(ValueError):
        token_subject(UNKNOWN_SUBJECT_TOKEN)
    assert BusSubjects().subject_of("schemashift.dlq._unknown") is None


@pytest.mark.parametrize("bad", ["", "a.b", "_zz", "_2", "a*"])
def test_invalid_tokens_are_refused(bad: str) -> None:
    """Decoding refuses text that no subject maps to."""
    with pytest.raises(ValueError):
        token_subject(bad)


def test_empty_subject_is_refused() -> None:
    """An empty subject has no token."""
    with pytest.raises(ValueError):
        subject_token("")


def test_bus_subjects_follow_the_pinned_layout() -> None:
    """Subjects per stream match docs/architecture.md, with a configurable prefix."""
    s = BusSubjects()
    assert s.events("shop/order") == "schemashift.events.shop_2Forder"
    assert s.dlq("shop/order") == "schemashift.dlq.shop_2Forder"
    assert s.dlq(None) == "schemashift.dlq._unknown"
    assert s.schemas("x") == "schemashift.schemas.x"
    assert s.raw() == "schemashift.raw.in"
    assert s.wildcard(StreamKind.RAW) == "schemashift.raw.>"
    assert BusSubjects("acme").events("x") == "acme.events.x"
    assert s.subject_of(s.events("shop/order.created")) == "shop/order.created"
    with pytest.raises(ValueError):
        BusSubjects("bad prefix")
