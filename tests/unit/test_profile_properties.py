"""The Analyzer's invariants, checked with Hypothesis on arbitrary JSON payloads.

* soundness: every payload added validates against the finished schema (jsonschema, with
  format checking; date-time, time and uri checked by independent standard-library oracles
  because jsonschema has no checker for them without optional packages);
* order independence: the schema does not depend on the order of payloads;
* split/merge: profiling pieces and merging equals profiling the whole stream, and merge
  is associative and commutative (``to_dict()`` equality, so every statistic is covered,
  the repeated strings of the enum rule among them: a vocabulary stream makes them
  non-trivial, and they are checked against a count of the stream);
* the output passes the 2020-12 meta-schema; profiles survive a JSON round trip.

Each property runs with the default options and with tight options that force every cap
(folded maps, overflowed sketches and key sets) and every rule (enums, formats, tuples,
tagged unions, dependentRequired) to fire on small examples.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections import Counter
from datetime import datetime, time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from schemashift.core.profile import Profile, ProfileOptions

TIGHT = ProfileOptions(
    format_min_count=1,
    enum_min_count=2,
    enum_max_ratio=1.0,
    distinct_limit=4,
    max_object_keys=8,
    map_min_keys=2,
    map_max_presence=0.6,
    tag_min_count=2,
    tag_min_gain=0.5,
    tuple_min_count=1,
    keyset_limit=6,
    dependent_min_count=1,
    flush_every=3,
)
OPTIONS = [ProfileOptions(), TIGHT]

_SPECIAL_STRINGS = [
    "2024-02-29T10:00:00Z",
    "2023-02-29T10:00:00Z",
    "2024-01-01T00:00:00.5+05:30",
    "2024-12-31",
    "10:20:30Z",
    "0f8fad5b-d9cb-469f-a165-70867728950e",
    "a.b@example.com",
    "https://example.com/a?b=c#d",
    "urn:isbn:0451450523",
    "192.168.0.1",
    "::1",
    "2001:db8::8a2e:370:7334",
    "open",
    "closed",
    "",
]

keys = st.sampled_from(["a", "b", "type", "id", "k1", "123", "456", "x/y", "~", "meta"])
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(_SPECIAL_STRINGS),
    st.text(max_size=8),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=7),
        st.dictionaries(keys, children, max_size=4),
    ),
    max_leaves=12,
)


@st.composite
def tagged_payload(draw: st.DrawFn) -> dict[str, Any]:
    """A payload whose `type` predicts its keys, with some optional noise."""
    tag = draw(st.sampled_from(["a", "b", "c"]))
    payload: dict[str, Any] = {"type": tag}
    for i in range(draw(st.integers(min_value=1, max_value=2))):
        payload[f"{tag}{i}"] = draw(scalars)
    if draw(st.booleans()):
        payload[draw(keys.filter(lambda k: k != "type"))] = draw(scalars)
    return payload


# Few values, many repeats: what the repeated strings of the enum rule are made of.
vocabulary = st.sampled_from(["open", "closed", "merged", "ops@example.com", "x", 3, None])
vocabulary_payloads = st.lists(
    st.fixed_dictionaries({"s": vocabulary}, optional={"t": st.lists(vocabulary, max_size=4)}),
    min_size=1,
    max_size=30,
)

payloads = st.one_of(
    st.lists(st.dictionaries(keys, values, max_size=5), min_size=1, max_size=12),
    st.lists(tagged_payload(), min_size=1, max_size=12),
    vocabulary_payloads,
)
options = st.sampled_from(OPTIONS)

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _oracle_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)", value):
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _oracle_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        parsed = time.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return parsed.tzinfo is not None


def _oracle_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urllib.parse.urlsplit(value)
    return bool(parts.scheme) and not any(c.isspace() for c in value)


def validator_for(schema: dict[str, Any]) -> Draft202012Validator:
    checker = FormatChecker()
    for name, func in Draft202012Validator.FORMAT_CHECKER.checkers.items():
        checker.checkers[name] = func
    checker.checks("date-time")(_oracle_date_time)
    checker.checks("time")(_oracle_time)
    checker.checks("uri")(_oracle_uri)
    return Draft202012Validator(schema, format_checker=checker)


def profile_of(items: list[dict[str, Any]], opts: ProfileOptions) -> Profile:
    return Profile(opts).update(items)


@FAST
@given(items=payloads, opts=options)
def test_every_payload_validates_against_the_finished_schema(
    items: list[dict[str, Any]], opts: ProfileOptions
) -> None:
    """Soundness: no payload that was added is rejected by the inferred schema."""
    schema = profile_of(items, opts).finish()
    Draft202012Validator.check_schema(schema)
    validator = validator_for(schema)
    for item in items:
        errors = [e.message for e in validator.iter_errors(item)]
        assert not errors, (item, errors, schema)


@FAST
@given(items=payloads, opts=options, data=st.data())
def test_schema_does_not_depend_on_payload_order(
    items: list[dict[str, Any]], opts: ProfileOptions, data: st.DataObject
) -> None:
    """Any permutation of the stream gives the same schema and the same profile."""
    shuffled = data.draw(st.permutations(items))
    a, b = profile_of(items, opts), profile_of(shuffled, opts)
    assert a.finish() == b.finish()
    assert a.to_dict() == b.to_dict()


@FAST
@given(items=payloads, opts=options, data=st.data())
def test_split_and_merge_equals_the_whole_stream(
    items: list[dict[str, Any]], opts: ProfileOptions, data: st.DataObject
) -> None:
    """Profiling two pieces and merging (either way round) equals profiling the whole."""
    cut = data.draw(st.integers(min_value=0, max_value=len(items)))
    left, right = profile_of(items[:cut], opts), profile_of(items[cut:], opts)
    whole = profile_of(items, opts)
    assert left.merge(right).to_dict() == whole.to_dict()
    assert right.merge(left).to_dict() == whole.to_dict()
    assert left.merge(right).finish() == whole.finish()


@FAST
@given(items=payloads, opts=options, data=st.data())
def test_merge_is_associative(
    items: list[dict[str, Any]], opts: ProfileOptions, data: st.DataObject
) -> None:
    """(a + b) + c and a + (b + c) are the same profile."""
    i = data.draw(st.integers(min_value=0, max_value=len(items)))
    j = data.draw(st.integers(min_value=i, max_value=len(items)))
    a, b, c = (profile_of(part, opts) for part in (items[:i], items[i:j], items[j:]))
    assert a.merge(b).merge(c).to_dict() == a.merge(b.merge(c)).to_dict()


@FAST
@given(items=vocabulary_payloads, opts=options, data=st.data())
def test_repeated_strings_merge_exactly(
    items: list[dict[str, Any]], opts: ProfileOptions, data: st.DataObject
) -> None:
    """The repeated strings at a path are the strings seen twice or more in the whole
    stream (None once the sketch overflowed), however it is split and merged."""
    i = data.draw(st.integers(min_value=0, max_value=len(items)))
    j = data.draw(st.integers(min_value=i, max_value=len(items)))
    a, b, c = (profile_of(part, opts) for part in (items[:i], items[i:j], items[j:]))
    whole = profile_of(items, opts).to_dict()
    assert c.merge(a).merge(b).to_dict() == whole
    assert a.merge(c.merge(b)).to_dict() == whole
    seen = [p["s"] for p in items]
    strings = Counter(v for v in seen if isinstance(v, str))
    overflowed = len({v for v in seen if v is not None}) > opts.distinct_limit
    node = whole["root"]["object"]["children"]["s"]
    expected = None if overflowed else sorted(v for v, n in strings.items() if n > 1)
    assert node["repeated"] == expected


@FAST
@given(items=payloads, opts=options)
def test_profile_survives_a_json_round_trip(
    items: list[dict[str, Any]], opts: ProfileOptions
) -> None:
    """to_dict is JSON-safe and from_dict restores the same statistics and schema."""
    profile = profile_of(items, opts)
    restored = Profile.from_dict(json.loads(json.dumps(profile.to_dict())))
    assert restored.to_dict() == profile.to_dict()
    assert restored.finish() == profile.finish()
    assert restored.path_stats() == profile.path_stats()


@pytest.mark.parametrize("opts", OPTIONS, ids=["default", "tight"])
def test_oracles_reject_what_they_should(opts: ProfileOptions) -> None:
    """The test oracles are not vacuous: they refuse values outside their format."""
    del opts
    assert not _oracle_date_time("2024-01-01 10:00:00")
    assert not _oracle_time("10:00:00")
    assert not _oracle_uri("no scheme")
