"""The enum evidence rule (docs/inference.md, "Enums (evidence rule)"), one condition per test.

Each test below is built so that the conditions older than this rule (enough observations,
few short tokens, the distinct/observations ratio, no surviving format) all hold, and only
the condition it names keeps the enum out: removing that condition makes the test fail.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemashift.core.formats import detect
from schemashift.core.infer import infer
from schemashift.core.profile import Profile, ProfileOptions


def field_schema(values: list[Any], options: ProfileOptions | None = None) -> dict[str, Any]:
    schema = infer([{"f": v} for v in values], options)
    field: dict[str, Any] = schema["properties"]["f"]
    return field


def node_dict(profile: Profile, key: str = "f") -> dict[str, Any]:
    """The persisted statistics of one top-level key."""
    node: dict[str, Any] = profile.to_dict()["root"]["object"]["children"][key]
    return node


def test_a_genuine_vocabulary_is_still_an_enum() -> None:
    """An httpMethod-like field, GET x20 and PUT x7: every value recurs, none is a format."""
    assert field_schema(["GET"] * 20 + ["PUT"] * 7) == {"type": "string", "enum": ["GET", "PUT"]}


def test_a_single_value_is_no_enum() -> None:
    """`currency` always "usd" so far is a constant seen so far, not a closed set."""
    assert field_schema(["usd"] * 40) == {"type": "string"}


def test_a_single_value_with_nulls_is_no_enum() -> None:
    """null is not a second value: ["usd", null] would still pin the field to one string."""
    assert field_schema(["usd", None] * 20) == {"type": ["string", "null"]}


def test_e_mail_addresses_mixed_with_other_values_are_no_enum() -> None:
    """Ten addresses seen five times each beside "n/a": no format survives at the path (one
    value is not an address), and the addresses must not become enum members either."""
    values = [f"user{i}@example.com" for i in range(10)] * 5 + ["n/a"] * 10
    assert field_schema(values) == {"type": "string"}


@pytest.mark.parametrize(
    "value",
    [
        "ops@example.com",
        "https://example.com/a",
        "0f8fad5b-d9cb-469f-a165-70867728950e",
        "2024-03-01T10:00:00+02:00",
        "10:20:30Z",
        "fe80::1",
    ],
    ids=["email", "uri", "uuid", "date-time", "time", "ipv6"],
)
def test_any_format_bearing_value_keeps_the_path_out_of_enums(value: str) -> None:
    """One value with a format among plain tokens is enough (every detector of core/formats.py;
    date and ipv4 values have no letter, so they were never enum tokens)."""
    wide = ProfileOptions(enum_max_length=64)  # a uuid is 36 characters
    assert detect(value)
    schema = field_schema([value, "other", "more"] * 10, wide)
    assert schema == {"type": "string"}
    # the same path without the format-bearing value is an enum: the value alone decides
    assert field_schema(["other", "more"] * 15, wide)["enum"] == ["more", "other"]


def test_values_mostly_seen_once_are_no_enum() -> None:
    """One common value and three seen once: a sample of an open set, however often the
    common value recurs (the ratio rule alone lets it through: 4 values, 43 strings)."""
    assert field_schema(["a"] * 40 + ["b", "c", "d"]) == {"type": "string"}


def test_half_the_values_seen_once_is_still_an_enum() -> None:
    """The bound is "more than half": two of four values seen once still make an enum."""
    values = ["a"] * 20 + ["b"] * 20 + ["c", "d"]
    assert field_schema(values)["enum"] == ["a", "b", "c", "d"]
    assert field_schema([*values, "e"]) == {"type": "string"}


def test_a_value_seen_once_in_each_of_two_batches_is_repeated() -> None:
    """Repetition counts across flushes, not within one buffer: with a flush after every
    payload, each value is seen once per batch and still counts as repeated."""
    options = ProfileOptions(flush_every=1)
    profile = Profile(options).update({"f": v} for v in ["GET", "PUT"] * 10)
    assert node_dict(profile)["repeated"] == ["GET", "PUT"]
    assert profile.finish()["properties"]["f"]["enum"] == ["GET", "PUT"]


def test_a_new_value_beside_known_ones_is_seen_once() -> None:
    """A batch that repeats a known value and brings a new one once: only the known value
    is repeated (the new one's single sighting is not confused with the batch's duplicates)."""
    options = ProfileOptions(flush_every=3)
    profile = Profile(options).update({"f": v} for v in ["a", "a", "a", "a", "a", "b"])
    assert node_dict(profile)["repeated"] == ["a"]


def test_a_value_seen_once_in_each_of_two_merged_profiles_is_repeated() -> None:
    """Merging is exact: a value seen once on each side was seen twice in the whole stream."""
    left = Profile().update([{"f": "GET"}] * 20 + [{"f": "PUT"}])
    right = Profile().update([{"f": "PUT"}])
    whole = Profile().update([{"f": "GET"}] * 20 + [{"f": "PUT"}] * 2)
    assert node_dict(left)["repeated"] == ["GET"]
    assert left.merge(right).to_dict() == whole.to_dict()
    assert left.merge(right).finish()["properties"]["f"]["enum"] == ["GET", "PUT"]


def test_the_repeated_strings_overflow_with_the_sketch() -> None:
    """Bounded by distinct_limit: once the sketch overflows, the repeated set goes too, even
    when the overflow comes from numbers at the same path."""
    profile = Profile(ProfileOptions(distinct_limit=4)).update(
        {"f": v} for v in ["a", "a", "b", "c", "d", "e"]
    )
    assert node_dict(profile)["distinct"] is None
    assert node_dict(profile)["repeated"] is None
    numbers = Profile(ProfileOptions(distinct_limit=4)).update(
        [{"f": "a"}, {"f": "a"}, *({"f": n} for n in range(5))]
    )
    assert node_dict(numbers)["repeated"] is None


def test_the_repeated_strings_round_trip_through_json() -> None:
    """to_dict keeps the statistic; from_dict restores it (and with it the enum)."""
    profile = Profile().update({"f": v} for v in ["GET"] * 20 + ["PUT"] * 7 + ["HEAD"])
    data = json.loads(json.dumps(profile.to_dict()))
    assert node_dict(profile)["repeated"] == ["GET", "PUT"]
    restored = Profile.from_dict(data)
    assert restored.to_dict() == profile.to_dict()
    assert restored.finish() == profile.finish()


def _without_repeated(data: Any) -> Any:
    """A persisted profile as the format wrote it before the statistic existed."""
    if isinstance(data, dict):
        return {k: _without_repeated(v) for k, v in data.items() if k != "repeated"}
    if isinstance(data, list):
        return [_without_repeated(v) for v in data]
    return data


def test_an_old_profile_decodes_with_no_value_known_as_repeated() -> None:
    """A profile persisted before `repeated` existed proves no repetition, so it yields no
    enum; merging it with newer observations of the values brings the enum back."""
    old = _without_repeated(Profile().update([{"f": "GET"}] * 20 + [{"f": "PUT"}] * 7).to_dict())
    assert "repeated" not in json.dumps(old)
    restored = Profile.from_dict(old)
    assert node_dict(restored)["repeated"] == []
    assert restored.finish()["properties"]["f"] == {"type": "string"}
    seen_again = restored.merge(Profile().update([{"f": "GET"}, {"f": "PUT"}]))
    assert seen_again.finish()["properties"]["f"]["enum"] == ["GET", "PUT"]


def test_an_old_overflowed_sketch_decodes_as_overflowed() -> None:
    profile = Profile().update({"f": f"value-{i}"} for i in range(100))
    restored = Profile.from_dict(_without_repeated(profile.to_dict()))
    assert node_dict(restored)["repeated"] is None
    assert restored.to_dict() == profile.to_dict()


VOCABULARY = ["GET", "PUT", "POST", "a@b.example", "x", "", "y z", 7]
strings_stream = st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=40)
small_options = st.sampled_from(
    [
        ProfileOptions(),
        ProfileOptions(distinct_limit=3, flush_every=2),
        ProfileOptions(flush_every=3),
        ProfileOptions(flush_every=7),
        ProfileOptions(distinct_limit=5, distinct_max_length=1, flush_every=1),
    ]
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=strings_stream, options=small_options, data=st.data())
def test_repeated_is_exactly_the_strings_seen_twice(
    values: list[Any], options: ProfileOptions, data: st.DataObject
) -> None:
    """Whatever the flushes and splits: the strings seen at least twice while the sketch
    holds, else None; and a merge of any two pieces equals the whole."""
    whole = Profile(options).update({"f": v} for v in values)
    counts = Counter(v for v in values if isinstance(v, str))
    unique = set(values)
    overflowed = len(unique) > options.distinct_limit or any(
        isinstance(v, str) and len(v) > options.distinct_max_length for v in unique
    )
    expected = None if overflowed else sorted(v for v, n in counts.items() if n > 1)
    assert node_dict(whole)["repeated"] == expected
    cut = data.draw(st.integers(min_value=0, max_value=len(values)))
    left = Profile(options).update({"f": v} for v in values[:cut])
    right = Profile(options).update({"f": v} for v in values[cut:])
    assert right.merge(left).to_dict() == whole.to_dict()
