"""Strict string-format detectors for the JSON Schema ``format`` keyword.

Each detector accepts a *subset* of what the format's RFC allows, never a superset: the
Analyzer emits ``format`` only when every observed string matched, so a detector that is
too generous would produce a schema that some validator rejects for the very payloads it
was learned from. What each accepts:

* ``date-time`` — RFC 3339 ``date-time`` with a ``T`` separator and a mandatory offset
  (``Z`` or ``±hh:mm``); calendar-valid days; seconds ``00``–``59`` (leap seconds refused).
* ``date`` — RFC 3339 ``full-date`` (``YYYY-MM-DD``), calendar-valid.
* ``time`` — RFC 3339 ``full-time``: ``hh:mm:ss[.frac]`` with a mandatory offset.
* ``uuid`` — RFC 4122 textual form, 8-4-4-4-12 hex digits.
* ``email`` — ``dot-atom@domain`` with an ASCII domain of at least two labels.
* ``uri`` — an absolute RFC 3986 URI with a ``//authority`` or a rootless path; no IP
  literals (``[``/``]``), no spaces, valid ``%`` escapes.
* ``ipv4`` — dotted quad, no leading zeros; ``ipv6`` — what :class:`ipaddress.IPv6Address`
  accepts, without a zone index.

:func:`all_match` is the batch entry point used by the profile: it runs at C speed where it
can (one pattern call over the whole batch joined by newlines) and only falls back to Python
for the leap-year check of February 29th and for IPv6. Batches of ids and timestamps that
share one layout are checked faster still, by byte operations (see "fixed-layout batches"
below); :data:`PATTERN_CHECKS` is the definition they must agree with.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence

# Most specific first: when several formats survive at a path, the first one is emitted.
FORMATS: tuple[str, ...] = ("date-time", "date", "time", "uuid", "ipv4", "ipv6", "email", "uri")

# Every pattern below is a body for re.fullmatch that can never match a newline (explicit
# character classes, no ``.`` or ``\s``): the batch checks rely on it (see _all_joined).
_OFFSET = r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
_PARTIAL_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?"
# Month and day together, so only February 29th needs a Python-level (leap-year) check.
_FULL_DATE = (
    r"[0-9]{4}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
    r"|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31|02-29)"
)
_DATE_TIME = rf"{_FULL_DATE}[Tt]{_PARTIAL_TIME}{_OFFSET}"
_TIME = rf"{_PARTIAL_TIME}{_OFFSET}"
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"(?:{_OCTET}\.){{3}}{_OCTET}"
_IPV6_CHARS_RE = re.compile(r"[0-9A-Fa-f:.]{2,45}")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+"
# RFC 3986 with flat character classes (fast, linear): scheme ":" ["//" authority] then
# path/query characters and at most one "#"; "%" escapes are checked separately.
_SUB = "!$&'()*+,;="
_UNRESERVED = r"A-Za-z0-9\-._~"
_AUTHORITY = rf"(?:[{_UNRESERVED}{_SUB}:%]*@)?[{_UNRESERVED}{_SUB}%]*(?::[0-9]*)?"
_REST = rf"[{_UNRESERVED}{_SUB}:@%/?]*"
# "//" must start a valid authority (host, optional port) ending the authority part (the
# end of the value is the end of the text or, in a batch, the newline after it).
_URI = (
    rf"[A-Za-z][A-Za-z0-9+.\-]*:(?=[^\n])(?://{_AUTHORITY}(?=[/?#\n]|\Z)|(?!//))"
    rf"{_REST}(?:#{_REST})?"
)
_BAD_ESCAPE = re.compile("%(?![0-9A-Fa-f]{2})")
# A February 29th at the start of a value of a batch that already matched a date shape.
_FEB_29 = re.compile(r"(?:\A|\n)([0-9]{4})-02-29")


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _all_joined(body: str) -> Callable[[Sequence[str]], bool]:
    """A batch check: every value fullmatches ``body`` (which never matches a newline).

    The values are joined with newlines and matched by one ``body(\\nbody)*`` call: a
    newline can only be a separator, so each value is matched exactly, with no per-value
    match object or call. A value containing a newline cannot match, so such a batch
    fails (detected by counting newlines, which also keeps the segments aligned).
    """
    # Each value is matched inside an atomic group that ends at its separator: the regex
    # may backtrack within a value, never back into an earlier one (no blow-up on a batch
    # that fails late).
    one = rf"(?>(?:{body})(?=\n|\Z))"
    many = re.compile(rf"{one}(?:\n{one})*")

    def check(values: Sequence[str]) -> bool:
        joined = "\n".join(values)
        if joined.count("\n") != len(values) - 1:
            return False
        return many.fullmatch(joined) is not None

    return check


def _all_dates(body: str) -> Callable[[Sequence[str]], bool]:
    shape = _all_joined(body)

    def check(values: Sequence[str]) -> bool:
        if not shape(values):
            return False
        # The pattern already refused impossible days except February 29th of common years.
        joined = "\n".join(values) if len(values) > 1 else values[0]
        if "-02-29" not in joined:
            return True
        return all(_leap(int(m.group(1))) for m in _FEB_29.finditer(joined))

    return check


def _is_ipv6(text: str) -> bool:
    if ":" not in text or _IPV6_CHARS_RE.fullmatch(text) is None:
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _all_ipv6(values: Sequence[str]) -> bool:
    return all(map(_is_ipv6, values))


_all_uri_shapes = _all_joined(_URI)


def _all_uris(values: Sequence[str]) -> bool:
    if not _all_uri_shapes(values):
        return False
    return not any(_BAD_ESCAPE.search(v) for v in values if "%" in v)


# -- fixed-layout batches -------------------------------------------------------------------
#
# Ids and timestamps are the strings a stream never repeats, so their batches reach the
# pattern whole (nothing to deduplicate), and Python's regex engine costs ~200 ns per value.
# But a batch of them nearly always shares one layout: every value has digits (or hex
# digits) in the same places and the same separators elsewhere. That is checked for the
# whole batch in a few C-level byte operations: map each digit to "0" and compare with the
# first value's template repeated. What the layout leaves open (month, day and hour ranges,
# offsets) is checked on the few *distinct* prefixes and suffixes, and minute and second
# tens digits on strided slices. A batch that does not fit a layout gets the full pattern:
# the fast path only ever says yes for values the pattern accepts.

_TO_ZERO_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_TO_ZERO_HEX = bytes.maketrans(b"123456789abcdefABCDEF", b"0" * 21)
_UUID_TEMPLATE = b"00000000-0000-0000-0000-000000000000"
_DATE_TIME_LAYOUT = re.compile(rb"0000-00-00[Tt]00:00:00(?:\.0+)?(?:[Zz]|[+-]00:00)")
# Month, day and hour of each value, compacted to six digits (MMDDHH) per value: fixed-width
# units, so one pattern call checks them all with no separators. February 29th is not in
# it: such a batch goes to the full pattern, which checks the year.
_MONTH_DAY_HOUR = re.compile(
    rb"(?:(?:(?:0[1-9]|1[0-2])(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])(?:29|30)"
    rb"|(?:0[13578]|1[02])31)(?:[01][0-9]|2[0-3]))*"
)
# Where a date-time's month, day and hour digits are (the layout fixed them).
_MDH_POSITIONS = (5, 6, 8, 9, 11, 12)
# An offset's hour and minute digits compacted to four per value (HHMM).
_OFFSET_DIGITS = re.compile(rb"(?:(?:[01][0-9]|2[0-3])[0-5][0-9])*")


def _compact(joined: bytes, length: int, positions: tuple[int, ...]) -> bytes:
    """The bytes at ``positions`` of every ``length``-byte value, value after value."""
    width = len(positions)
    out = bytearray(width * (len(joined) // length))
    for slot, position in enumerate(positions):
        out[slot::width] = joined[position::length]
    return bytes(out)


def _same_layout(values: Sequence[str], table: bytes) -> tuple[bytes, bytes, int] | None:
    """``(joined, template, length)`` when every value is ASCII of one length and maps to
    the same template under ``table``; None otherwise."""
    length = len(values[0])
    try:
        joined = "".join(values).encode("ascii")
    except UnicodeEncodeError:
        return None
    if len(joined) != length * len(values) or not length:
        return None
    template = joined[:length].translate(table)
    if joined.translate(table) != template * len(values):
        return None  # (equal total length and equal templates: every value has the length)
    return joined, template, length


def _uuids_by_layout(values: Sequence[str]) -> bool:
    found = _same_layout(values, _TO_ZERO_HEX)
    return found is not None and found[1] == _UUID_TEMPLATE


def _date_times_by_layout(values: Sequence[str]) -> bool:
    found = _same_layout(values, _TO_ZERO_DIGITS)
    if found is None:
        return False
    joined, template, length = found
    if _DATE_TIME_LAYOUT.fullmatch(template) is None:
        return False
    # tens digits of minutes and seconds: 0-5 (the layout fixed the other digits' places)
    for position in (14, 17):
        if joined[position::length].translate(None, b"012345"):
            return False
    # Month, day and hour: a window of a live stream nearly always shares them (one hour),
    # so when every value has the first value's six digits, that one value is checked.
    count = len(joined) // length
    if all(joined[p::length] == joined[p : p + 1] * count for p in _MDH_POSITIONS):
        month_day_hour = bytes(joined[p] for p in _MDH_POSITIONS)
    else:
        month_day_hour = _compact(joined, length, _MDH_POSITIONS)
    if _MONTH_DAY_HOUR.fullmatch(month_day_hour) is None:
        return False
    if template[-1:] in b"Zz":
        return True
    offset = _compact(joined, length, (length - 5, length - 4, length - 2, length - 1))
    return _OFFSET_DIGITS.fullmatch(offset) is not None


def _with_layout(
    layout: Callable[[Sequence[str]], bool], pattern: Callable[[Sequence[str]], bool]
) -> Callable[[Sequence[str]], bool]:
    def check(values: Sequence[str]) -> bool:
        return layout(values) or pattern(values)

    return check


# The definition of each format: one pattern (or parser) per value, batched.
PATTERN_CHECKS: dict[str, Callable[[Sequence[str]], bool]] = {
    "date-time": _all_dates(_DATE_TIME),
    "date": _all_dates(_FULL_DATE),
    "time": _all_joined(_TIME),
    "uuid": _all_joined(_UUID),
    "ipv4": _all_joined(_IPV4),
    "ipv6": _all_ipv6,
    "email": _all_joined(_EMAIL),
    "uri": _all_uris,
}
_LAYOUT_CHECKS: dict[str, Callable[[Sequence[str]], bool]] = {
    "date-time": _date_times_by_layout,
    "uuid": _uuids_by_layout,
}
# Formats whose batches are checked by layout first (cheap per value, so a batch of them is
# not worth deduplicating before the check).
LAYOUT_FORMATS = frozenset(_LAYOUT_CHECKS)
# What the profile runs: the same answers, with the layout shortcut first where there is one.
_BATCH_CHECKS: dict[str, Callable[[Sequence[str]], bool]] = {
    **PATTERN_CHECKS,
    **{fmt: _with_layout(layout, PATTERN_CHECKS[fmt]) for fmt, layout in _LAYOUT_CHECKS.items()},
}


def all_match(fmt: str, values: Sequence[str]) -> bool:
    """Whether every string in ``values`` is a strict instance of ``fmt``."""
    return _BATCH_CHECKS[fmt](values)


def matches(fmt: str, value: str) -> bool:
    """Whether one string is a strict instance of ``fmt`` (see the module docstring)."""
    return _BATCH_CHECKS[fmt]((value,))


_IPV6_FIRST = frozenset("0123456789abcdefABCDEF:")


def plausible(value: str) -> frozenset[str]:
    """Formats a string could possibly have, from its first characters and length alone.

    A cheap necessary condition (never excludes a format the string satisfies), so a path
    whose first string is plain text drops every candidate without running a pattern.
    """
    out: set[str] = set()
    n = len(value)
    first = value[:1]
    if first.isascii() and first.isdigit():
        if n >= 20 and value[4:5] == "-":
            out.add("date-time")
        if n == 10 and value[4:5] == "-":
            out.add("date")
        if value[2:3] == ":":
            out.add("time")
        if "." in value:
            out.add("ipv4")
    if n == 36 and value[8:9] == "-":
        out.add("uuid")
    if ":" in value:
        # An IPv6 address starts with a hex digit or "::"; URLs and "key:value" text do
        # not reach the (per-value, Python-level) address parser.
        if first in _IPV6_FIRST:
            out.add("ipv6")
        if first.isascii() and first.isalpha():
            out.add("uri")
    if "@" in value:
        out.add("email")
    return frozenset(out)


def surviving(candidates: tuple[str, ...], values: Sequence[str]) -> tuple[str, ...]:
    """The formats of ``candidates`` that every string in ``values`` satisfies."""
    if not candidates or not values:
        return candidates
    possible = plausible(values[0])
    return tuple(fmt for fmt in candidates if fmt in possible and _BATCH_CHECKS[fmt](values))


def detect(value: str) -> tuple[str, ...]:
    """Every format a single string satisfies, most specific first."""
    return surviving(FORMATS, (value,))
