"""The ``observed`` policy's data proofs: a reader constraint the writer lacks (format, enum,
const, bounds, lengths, pattern, required, a narrower type) is compatible when the profile
shows every value the writer emitted satisfies it, and still a finding when one does not."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from schemashift.core.compat import FindingCode, check_compatibility
from schemashift.core.profile import Profile


def profile_of(*payloads: dict[str, Any]) -> Profile:
    profile = Profile()
    for payload in payloads:
        profile.add(payload)
    return profile


def obj(**props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": props}


def observed(old: Any, new: Any, profile: Profile) -> Any:
    return check_compatibility(old, new, "BACKWARD", policy="observed", profile=profile)


def codes(result: Any) -> set[str]:
    return {f.code for f in result.findings}


EMAILS = profile_of(*({"e": f"user{i}@example.com"} for i in range(40)))  # distinct overflows


def test_format_is_proven_by_every_string_matching() -> None:
    """A reader `format: email` is compatible when every string seen was an email — also
    after the distinct sample overflowed; one non-email makes it a finding again."""
    old, new = obj(e={"type": "string"}), obj(e={"type": "string", "format": "email"})
    assert not check_compatibility(old, new, "BACKWARD").compatible  # strict: unchanged
    assert observed(old, new, EMAILS).compatible
    mixed = profile_of(*({"e": f"user{i}@example.com"} for i in range(40)), {"e": "nope"})
    assert codes(observed(old, new, mixed)) == {FindingCode.FORMAT_CHANGED}


def test_enum_and_const_are_proven_by_the_exact_sample() -> None:
    """Enum/const hold when the exact distinct sample lies inside them; a value outside, or an
    overflowed sample (nothing exact to check), keeps the finding."""
    old = obj(s={"type": "string"})
    enum = obj(s={"type": "string", "enum": ["a", "b"]})
    const = obj(s={"const": "a"})
    assert observed(old, enum, profile_of({"s": "a"}, {"s": "b"})).compatible
    assert observed(old, const, profile_of({"s": "a"}, {"s": "a"})).compatible
    assert codes(observed(old, enum, profile_of({"s": "a"}, {"s": "c"}))) == {
        FindingCode.ENUM_RESTRICTED
    }
    many = profile_of(*({"s": f"v{i}"} for i in range(40)))
    assert not observed(old, obj(s={"enum": [f"v{i}" for i in range(40)]}), many).compatible


def test_bounds_and_lengths_are_proven_by_the_extremes_seen() -> None:
    """minimum/maximum hold when the smallest/largest number seen does; minLength/maxLength
    when the shortest/longest string does (distinct overflowed, so only extremes help)."""
    numbers = profile_of(*({"n": 10 + i, "s": "x" * (3 + i % 5)} for i in range(50)))
    old = obj(n={"type": "integer"}, s={"type": "string"})
    tight = obj(
        n={"type": "integer", "minimum": 10, "maximum": 59},
        s={"type": "string", "minLength": 3, "maxLength": 7},
    )
    assert observed(old, tight, numbers).compatible
    too_tight = obj(
        n={"type": "integer", "minimum": 11, "maximum": 58},
        s={"type": "string", "minLength": 4, "maxLength": 6},
    )
    assert codes(observed(old, too_tight, numbers)) == {
        FindingCode.MINIMUM_RAISED,
        FindingCode.MAXIMUM_LOWERED,
        FindingCode.MIN_LENGTH_RAISED,
        FindingCode.MAX_LENGTH_LOWERED,
    }


def test_pattern_is_proven_from_the_distinct_sample() -> None:
    old, new = obj(c={"type": "string"}), obj(c={"type": "string", "pattern": "^[A-Z]{3}$"})
    assert observed(old, new, profile_of({"c": "EUR"}, {"c": "USD"})).compatible
    assert not observed(old, new, profile_of({"c": "EUR"}, {"c": "usd"})).compatible


def test_required_is_proven_by_presence_in_every_object() -> None:
    """A newly required property is compatible when every object seen had it."""
    old = obj(a={"type": "integer"})
    new = {**obj(a={"type": "integer"}), "required": ["a"]}
    assert observed(old, new, profile_of({"a": 1}, {"a": 2})).compatible
    result = observed(old, new, profile_of({"a": 1}, {}))
    assert codes(result) == {FindingCode.REQUIRED_ADDED}


def test_a_narrower_type_is_judged_by_the_types_seen() -> None:
    """Items the old schema left untyped (an always-empty array then) may gain a type when
    the profile saw only values of that type; one value of another type is a finding."""
    old = obj(xs={"type": "array"})
    new = obj(xs={"type": "array", "items": {"type": "object"}})
    assert observed(old, new, profile_of({"xs": []}, {"xs": [{"k": 1}]})).compatible
    assert codes(observed(old, new, profile_of({"xs": [{"k": 1}, 2]}))) == {
        FindingCode.TYPE_NARROWED
    }


def test_new_optional_property_with_an_inferred_enum_is_compatible() -> None:
    """The demo's case: an open v1, a new optional property the profile saw only with values
    the reader accepts (its inferred enum and format included) is not a finding."""
    seen = profile_of(
        *({"id": i, "coupon": ["SPRING", "VIP"][i % 2]} for i in range(20)),
        *({"id": i} for i in range(20)),
    )
    old = profile_of(*({"id": i} for i in range(20))).finish()
    assert observed(old, seen.finish(), seen).compatible


def test_new_optional_object_with_required_fields_is_compatible() -> None:
    """The demo's `viewport` drift, once quarantined: a new optional object property whose
    own fields are required. The open writer never declared it, so it used to count as an
    object that may lack `width`/`height`; the profile shows every one seen had both."""
    old = obj(url={"type": "string"})
    viewport = {
        "type": "object",
        "properties": {"width": {"type": "integer"}, "height": {"type": "integer"}},
        "required": ["height", "width"],
    }
    new = obj(url={"type": "string"}, viewport=viewport)
    seen = profile_of(
        {"url": "u"}, *({"url": "u", "viewport": {"width": w, "height": 9}} for w in range(40))
    )
    assert observed(old, new, seen).compatible
    partial = profile_of({"url": "u", "viewport": {"width": 3}})
    assert codes(observed(old, new, partial)) == {FindingCode.REQUIRED_ADDED}


def test_a_reader_inferred_from_the_profile_is_compatible() -> None:
    """Per-branch requirements of a tagged union cannot be read off per-path statistics; a
    reader that *is* the profile's inferred schema accepts every profiled payload (analyzer
    invariant), so it is compatible under observed. Strict still refuses."""
    payloads = [{"action": "opened", "id": i, "title": "t"} for i in range(10)]
    payloads += [{"action": "labeled", "id": i, "label": "bug"} for i in range(10)]
    payloads += [{"action": "closed", "id": i, "merged": True} for i in range(10)]
    before = profile_of(*payloads[:10], *payloads[10:13]).finish()
    profile = profile_of(*payloads)
    after = profile.finish()
    assert "oneOf" in after
    assert observed(before, after, profile).compatible
    assert not check_compatibility(before, after, "BACKWARD").compatible


EMAIL = st.integers(0, 10**6).map(lambda n: f"u{n}@example.com")


def payloads(text: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={"n": st.integers(-5, 5), "s": text, "k": st.sampled_from(["red", "green"])},
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(payloads(st.one_of(EMAIL, st.sampled_from(["a", "bb", "ccc"]))), max_size=25),
    st.lists(payloads(EMAIL), min_size=1, max_size=25),  # readers often say format: email
)
def test_observed_verdict_is_sound_for_the_profiled_data(
    seen: list[dict[str, Any]], other: list[dict[str, Any]]
) -> None:
    """If observed BACKWARD says compatible, every profiled payload valid under the writer is
    valid under the reader, formats asserted (readers inferred from other data, so the
    proof comes from the per-path statistics, not from the reader being the profile's)."""
    writer = profile_of(*seen[: len(seen) // 2]).finish()
    reader = profile_of(*other).finish()
    if not observed(writer, reader, profile_of(*seen)).compatible:
        return
    check = FormatChecker()
    writes = Draft202012Validator(writer, format_checker=check)
    reads = Draft202012Validator(reader, format_checker=check)
    for payload in seen:
        if writes.is_valid(payload):
            assert reads.is_valid(payload), (payload, reader)
