"""Strict format detectors accept a subset of their RFC, never a superset."""

from __future__ import annotations

import ipaddress
import uuid
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemashift.core.formats import (
    FORMATS,
    PATTERN_CHECKS,
    all_match,
    detect,
    matches,
    plausible,
    surviving,
)

POSITIVE = {
    "date-time": [
        "2024-02-29T23:59:59Z",
        "2023-01-01t00:00:00.123456+05:30",
        "1999-12-31T12:00:00-08:00",
    ],
    "date": ["2024-02-29", "2023-12-31", "0001-01-01"],
    "time": ["23:59:59Z", "00:00:00.5+01:00"],
    "uuid": ["0f8fad5b-d9cb-469f-a165-70867728950e", "0F8FAD5B-D9CB-469F-A165-70867728950E"],
    "ipv4": ["192.168.0.1", "0.0.0.0", "255.255.255.255"],
    "ipv6": ["::1", "2001:db8::8a2e:370:7334", "::ffff:192.0.2.1"],
    "email": ["a@example.com", "first.last+tag@mail.example.org"],
    "uri": ["https://example.com/a/b?x=1#frag", "urn:isbn:0451450523", "mailto:a@example.com"],
}

NEGATIVE = {
    "date-time": [
        "2023-02-29T10:00:00Z",  # not a leap year
        "2024-04-31T10:00:00Z",  # April has 30 days
        "2024-01-01T10:00:00",  # no offset
        "2024-01-01 10:00:00Z",  # space separator
        "2024-01-01T24:00:00Z",
        "2024-01-01T10:00:60Z",  # leap second refused (subset)
        "２０２４-01-01T10:00:00Z",  # non-ASCII digits
        "2024-01-01T10:00:00Z\n",
    ],
    "date": ["2024-13-01", "2024-02-30", "24-01-01", "2024-1-1", "20240101"],
    "time": ["10:00:00", "25:00:00Z", "10:00Z"],
    "uuid": [
        "0f8fad5b-d9cb-469f-a165-70867728950",
        "0f8fad5bd9cb469fa16570867728950e",
        "g" * 8 + "-d9cb-469f-a165-70867728950e",
    ],
    "ipv4": ["192.168.0.01", "256.1.1.1", "1.2.3", "1.2.3.4.5"],
    "ipv6": ["1:2:3", "fe80::1%eth0", "::g", "12345::"],
    "email": ["no-at-sign", "a@b", "a..b@example.com", "a@-example.com", "a b@example.com"],
    "uri": [
        "/relative/path",
        "no scheme",
        "http://exa mple.com",
        "http://[::1]/",
        "x:%zz",
        "http://a:b:c/",
        "x:",
    ],
}


@pytest.mark.parametrize(("fmt", "value"), [(f, v) for f, vs in POSITIVE.items() for v in vs])
def test_accepts_valid_instances(fmt: str, value: str) -> None:
    """Each detector accepts canonical valid instances of its format."""
    assert matches(fmt, value)


@pytest.mark.parametrize(("fmt", "value"), [(f, v) for f, vs in NEGATIVE.items() for v in vs])
def test_rejects_invalid_or_lenient_instances(fmt: str, value: str) -> None:
    """Each detector refuses invalid values and lenient forms outside the strict subset."""
    assert not matches(fmt, value)


def test_formats_are_ordered_most_specific_first() -> None:
    """detect() lists every matching format, the most specific first."""
    assert detect("2024-01-01T00:00:00Z") == ("date-time",)
    assert detect("just text") == ()
    assert FORMATS[0] == "date-time"


def test_surviving_keeps_only_formats_every_value_matches() -> None:
    """A batch keeps the candidates every string satisfies; empty batches change nothing."""
    assert surviving(FORMATS, ["2024-01-01", "2024-02-02"]) == ("date",)
    assert surviving(("date",), []) == ("date",)
    assert surviving(FORMATS, ["2024-01-01", "x"]) == ()
    assert all_match("uuid", [str(uuid.UUID(int=i)) for i in range(5)])


@settings(max_examples=200, deadline=None)
@given(st.datetimes(timezones=st.timezones()))
def test_date_time_accepts_isoformat_with_offset(moment: datetime) -> None:
    """Every aware datetime printed in ISO form (with seconds) is a date-time."""
    text = moment.replace(microsecond=0).isoformat()
    offset = text[19:]
    if len(offset) != 6:  # offsets with seconds are not RFC 3339
        return
    assert matches("date-time", text)


@pytest.mark.parametrize(("fmt", "value"), [(f, v) for f, vs in POSITIVE.items() for v in vs])
def test_prefilter_never_excludes_a_matching_format(fmt: str, value: str) -> None:
    """The cheap plausibility check keeps every format a valid instance has."""
    assert fmt in plausible(value)
    assert surviving((fmt,), [value]) == (fmt,)


@settings(max_examples=200, deadline=None)
@given(st.ip_addresses(v=6).map(str))
def test_prefilter_keeps_every_ipv6_address(text: str) -> None:
    """Every address the standard library prints passes the IPv6 prefilter and detector."""
    assert "ipv6" in plausible(text)
    assert matches("ipv6", text)


def test_prefilter_skips_the_ipv6_parser_for_urls_and_text() -> None:
    """Strings with a colon that cannot be addresses never reach the IPv6 parser."""
    for text in ("https://api.github.com/repos/a/b", "note: hi", "urn:isbn:0451450523"):
        assert "ipv6" not in plausible(text)
    assert "ipv6" in plausible("::1") and "ipv6" in plausible("fe80::1")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_detectors_agree_with_standard_library_parsers(text: str) -> None:
    """Whatever a detector accepts, the standard library parses too (subset property),
    and the cheap prefilter never rules it out."""
    for fmt in FORMATS:
        if matches(fmt, text):
            assert fmt in plausible(text)
    if matches("date", text):
        date.fromisoformat(text)
    if matches("date-time", text):
        datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    if matches("uuid", text):
        uuid.UUID(text)
    if matches("ipv4", text):
        ipaddress.IPv4Address(text)
    if matches("ipv6", text):
        ipaddress.IPv6Address(text)


@settings(max_examples=100, deadline=None)
@given(st.ip_addresses(v=4))
def test_every_ipv4_address_is_detected(address: ipaddress.IPv4Address) -> None:
    """Dotted quads printed by ipaddress are ipv4."""
    assert matches("ipv4", str(address))


@settings(max_examples=100, deadline=None)
@given(st.uuids())
def test_every_uuid_is_detected(value: uuid.UUID) -> None:
    """Every textual UUID is uuid."""
    assert matches("uuid", str(value))


_MIXED = [v for vs in POSITIVE.values() for v in vs] + [v for vs in NEGATIVE.values() for v in vs]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(FORMATS),
    st.lists(st.one_of(st.sampled_from(_MIXED), st.text(max_size=12)), min_size=1, max_size=6),
)
def test_batch_check_agrees_with_checking_each_value(fmt: str, values: list[str]) -> None:
    """A batch passes iff every value matches alone (the profile checks batches)."""
    assert all_match(fmt, values) == all(matches(fmt, v) for v in values)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.dates(), min_size=1, max_size=8), st.integers(min_value=0, max_value=7))
def test_joined_batches_keep_value_boundaries(days: list[date], at: int) -> None:
    """A batch is checked by one pattern call over its values joined by newlines; a value
    that itself holds two valid values around a newline is still refused."""
    values = [day.isoformat() for day in days]
    assert all_match("date", values)
    index = at % len(values)
    glued = [*values[:index], values[index] + "\n" + values[index], *values[index + 1 :]]
    assert not all_match("date", glued)
    assert not all_match("uuid", [str(uuid.UUID(int=1)) + "\n" + str(uuid.UUID(int=2))])


@pytest.mark.parametrize(
    ("fmt", "values", "expected"),
    [
        ("date", ["2024-02-29", "2000-02-29", "2023-03-01"], True),
        ("date", ["2024-01-01", "2023-02-29"], False),
        ("date", ["1900-02-29"], False),
        ("date-time", ["2024-02-29T00:00:00Z", "2023-02-28T00:00:00Z"], True),
        ("date-time", ["2024-02-29T00:00:00Z", "2100-02-29T00:00:00Z"], False),
        ("date", ["2024-04-30", "2024-04-31"], False),
    ],
)
def test_february_29th_is_checked_per_value_in_a_batch(
    fmt: str, values: list[str], expected: bool
) -> None:
    """Impossible days are refused by the pattern, February 29th by a leap-year check on
    every value of the batch that has one."""
    assert all_match(fmt, values) is expected


def _two(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda n: f"{n:02d}")


_DATE_TIME_PARTS = st.tuples(
    st.sampled_from(["2024", "2023", "2100", "2000", "0001"]),
    _two(0, 13),
    _two(0, 32),
    _two(0, 25),
    _two(0, 61),
    _two(0, 61),
)


@st.composite
def date_time_batches(draw: st.DrawFn) -> list[str]:
    """Batches sharing one layout (fraction, offset kind), with digits out of range now and
    then, and the odd value of another layout or with a non-ASCII digit."""
    fraction = draw(st.sampled_from(["", ".5", ".123", ".123456"]))
    offset_kind = draw(st.sampled_from(["Z", "z", "+", "-"]))
    values = []
    for _ in range(draw(st.integers(1, 8))):
        year, month, day, hour, minute, second = draw(_DATE_TIME_PARTS)
        offset = offset_kind
        if offset_kind in "+-":
            offset += f"{draw(_two(0, 25))}:{draw(_two(0, 61))}"
        sep = draw(st.sampled_from("TTTTt "))
        value = f"{year}-{month}-{day}{sep}{hour}:{minute}:{second}{fraction}{offset}"
        value = draw(st.sampled_from([value] * 6 + [value[:-1], value.replace("1", "١", 1)]))
        values.append(value)
    return values


@settings(max_examples=400, deadline=None)
@given(date_time_batches())
def test_date_time_layout_shortcut_agrees_with_the_pattern(values: list[str]) -> None:
    """Batches of one layout are checked by byte operations; the answer is the pattern's,
    value by value (calendar days, February 29th, hours, minutes, seconds, offsets)."""
    expected = all(PATTERN_CHECKS["date-time"]([v]) for v in values)
    assert all_match("date-time", values) is expected


@settings(max_examples=300, deadline=None)
@given(_two(0, 14), _two(0, 33), _two(0, 25), st.lists(_DATE_TIME_PARTS, min_size=1, max_size=6))
def test_date_times_sharing_month_day_and_hour_agree_with_the_pattern(
    month: str, day: str, hour: str, parts: list[tuple[str, ...]]
) -> None:
    """A batch whose values share month, day and hour (a live stream's window) is judged
    on one value's digits by the shortcut; the answer is still the pattern's."""
    values = [
        f"{year}-{month}-{day}T{hour}:{minute}:{second}.5Z"
        for year, _, _, _, minute, second in parts
    ]
    expected = all(PATTERN_CHECKS["date-time"]([v]) for v in values)
    assert all_match("date-time", values) is expected


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.uuids().map(str),
            st.uuids().map(lambda u: str(u).upper()),
            st.text("0123456789abcdefgABCDEF-", min_size=36, max_size=36),
            st.uuids().map(lambda u: str(u).replace("-", "", 1) + "-"),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_uuid_layout_shortcut_agrees_with_the_pattern(values: list[str]) -> None:
    """The hex-digit template check says yes exactly where the pattern does."""
    expected = all(PATTERN_CHECKS["uuid"]([v]) for v in values)
    assert all_match("uuid", values) is expected


def test_layout_shortcut_cases() -> None:
    """Fixed-layout batches a stream sends, and near misses the pattern must still judge."""
    stamps = [f"2025-01-0{d}T1{d}:0{d}:5{d}.12{d}Z" for d in range(1, 10)]
    assert all_match("date-time", stamps)
    assert all_match("date-time", [s.replace("Z", "+05:30") for s in stamps])
    assert not all_match("date-time", [*stamps, "2025-01-01T24:00:00.123Z"])
    assert not all_match("date-time", [*stamps, "2025-02-30T10:00:00.123Z"])
    assert not all_match("date-time", [*stamps, "2023-02-29T10:00:00.123Z"])
    assert all_match("date-time", [*stamps, "2024-02-29T10:00:00.123Z"])
    assert not all_match("date-time", [s.replace("Z", "+24:00") for s in stamps])
    hour = [f"2025-03-07T14:{m:02d}:{m:02d}.250Z" for m in range(40)]  # one month-day-hour
    assert all_match("date-time", hour)
    assert not all_match("date-time", [s.replace("-03-", "-13-") for s in hour])
    assert not all_match("date-time", [s.replace("T14", "T24") for s in hour])
    assert not all_match("date-time", [s.replace("03-07", "02-30") for s in hour])
    assert all_match("date-time", [*stamps, "2025-01-01T10:00:00Z"])  # two layouts: pattern
    ids = [str(uuid.UUID(int=n * 7919)) for n in range(50)]
    assert all_match("uuid", ids)
    assert not all_match("uuid", [*ids, ids[0][:-1] + "g"])
    assert not all_match("uuid", [*ids, ids[0][:8] + "0" + ids[0][9:]])
