"""The registry's pure decisions and configuration values (no store, no clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemashift.registry.config import (
    DEFAULT_CONFIG,
    Compatibility,
    ConfigPatch,
    Mode,
    SubjectConfig,
    parse_compatibility,
    parse_mode,
)
from schemashift.registry.decisions import (
    LATEST,
    compatibility_targets,
    consumer_conflicts,
    decide_drift,
    decide_first_version,
    is_gone,
    parse_version_id,
    sunset_deadline,
)
from schemashift.registry.records import ConsumerContract, Decision
from schemashift.registry.refusals import InvalidConfigError, InvalidModeError, InvalidVersionError

T0 = datetime(2026, 1, 1, tzinfo=UTC)


# -- version ids --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("latest", LATEST),
        ("LATEST", LATEST),
        ("-1", LATEST),
        ("1", 1),
        (7, 7),
        ("2147483647", 2**31 - 1),
    ],
)
def test_valid_version_ids(raw: str | int, expected: int) -> None:
    assert parse_version_id(raw) == expected


@pytest.mark.parametrize(
    "raw", ["0", "-2", "abc", "", "1.5", "2147483648", "99999999999", True, " 1"]
)
def test_invalid_version_ids_are_42202(raw: str | int) -> None:
    with pytest.raises(InvalidVersionError) as info:
        parse_version_id(raw)
    assert info.value.error_code == 42202


@given(st.text(max_size=12))
def test_version_parsing_never_fails_otherwise(raw: str) -> None:
    """Any text is a version, latest, or a 42202 — never another exception."""
    try:
        value = parse_version_id(raw)
    except InvalidVersionError:
        return
    assert value == LATEST or 1 <= value <= 2**31 - 1


# -- compatibility targets ---------------------------------------------------------------------


@given(st.sampled_from(list(Compatibility)), st.integers(min_value=0, max_value=6))
def test_targets_follow_the_mode(mode: Compatibility, count: int) -> None:
    """NONE checks nothing, transitive modes every earlier schema, the others the last one."""
    earlier = [{"title": str(i)} for i in range(count)]
    targets = compatibility_targets(mode, earlier)
    if mode is Compatibility.NONE or count == 0:
        assert targets == []
    elif mode.transitive:
        assert targets == earlier
    else:
        assert targets == earlier[-1:]


# -- sunset -------------------------------------------------------------------------------------


def test_sunset_deadline_and_gone() -> None:
    assert sunset_deadline(None, 60) is None  # the latest version is never superseded
    assert sunset_deadline(T0, None) is None  # sunset switched off
    assert sunset_deadline(T0, 60) == T0 + timedelta(seconds=60)
    assert not is_gone(T0, 60, T0 + timedelta(seconds=59))
    assert is_gone(T0, 60, T0 + timedelta(seconds=60))
    assert not is_gone(T0, None, T0 + timedelta(days=10_000))


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=2 * 10**6))
def test_gone_is_monotonic_in_time(period: int, elapsed: int) -> None:
    """Once gone, a version stays gone: later instants are never servable again."""
    now = T0 + timedelta(seconds=elapsed)
    if is_gone(T0, period, now):
        assert is_gone(T0, period, now + timedelta(seconds=1))
    assert is_gone(T0, period, now) == (elapsed >= period)


# -- consumer contracts -------------------------------------------------------------------------


def contract(name: str, *fields: str) -> ConsumerContract:
    return ConsumerContract("s", name, fields, T0)


def test_consumer_conflicts_by_path_and_change() -> None:
    changes = [
        {"path": "/total", "code": "type_widened", "class": "additive"},
        {"path": "/customer", "code": "property_removed", "class": "subtractive"},
        {"path": "/note", "code": "property_added", "class": "additive"},
    ]
    consumers = [
        contract("billing", "/total"),
        contract("crm", "/customer/email"),  # under a removed parent
        contract("notes", "/note"),  # only gains a field: harmless
        contract("other", "/id"),
    ]
    assert consumer_conflicts(changes, consumers) == ("billing", "crm")


def test_consumer_conflicts_fall_back_to_the_change_class() -> None:
    changes = [{"path": "/a", "class": "modification"}, {"path": "/b", "class": "additive"}]
    assert consumer_conflicts(changes, [contract("x", "/a"), contract("y", "/b")]) == ("x",)


def test_prefix_of_a_name_is_not_an_ancestor() -> None:
    """/total_tax is not under /total."""
    changes = [{"path": "/total", "code": "property_removed"}]
    assert consumer_conflicts(changes, [contract("x", "/total_tax")]) == ()


# -- observe decisions --------------------------------------------------------------------------


def test_first_version_decision() -> None:
    """When a first version is due (min_samples held, or the hold deadline), auto-register
    decides between registering and asking a person."""
    assert decide_first_version(SubjectConfig()).decision is Decision.REGISTERED
    off = SubjectConfig(min_samples=1, auto_register=False)
    assert decide_first_version(off).decision is Decision.QUARANTINED


@settings(max_examples=200)
@given(
    score=st.floats(min_value=0, max_value=1),
    threshold=st.floats(min_value=0, max_value=1),
    compatible=st.booleans(),
    consumers=st.lists(st.sampled_from(["a", "b"]), max_size=2, unique=True),
    auto=st.booleans(),
)
def test_drift_decision_table(
    score: float, threshold: float, compatible: bool, consumers: list[str], auto: bool
) -> None:
    """The three outcomes of supported drift, in their order of precedence, for every input."""
    config = SubjectConfig(drift_threshold=threshold, auto_register=auto)
    result = decide_drift(
        score=score, config=config, compatible=compatible, conflicting_consumers=consumers
    )
    if score <= threshold:
        assert result.decision is Decision.NONE
    elif compatible and not consumers and auto:
        assert result.decision is Decision.REGISTERED and result.reasons == ()
    else:
        assert result.decision is Decision.QUARANTINED and result.reasons
        assert all(c in " ".join(result.reasons) for c in consumers)


# -- configuration values -----------------------------------------------------------------------


def test_parse_levels_and_modes_case_insensitively() -> None:
    assert parse_compatibility("full_transitive") is Compatibility.FULL_TRANSITIVE
    assert parse_mode("readonly") is Mode.READONLY
    with pytest.raises(InvalidConfigError):
        parse_compatibility("SIDEWAYS")
    with pytest.raises(InvalidConfigError):
        parse_compatibility(3)
    with pytest.raises(InvalidModeError):
        parse_mode("NAP")


@pytest.mark.parametrize(
    "data",
    [
        {"drift_threshold": 1.5},
        {"drift_threshold": -0.1},
        {"drift_threshold": True},
        {"drift_threshold": "0.5"},
        {"min_samples": 0},
        {"min_samples": 2.5},
        {"auto_register": 1},
        {"sunset_seconds": -5},
        {"sunset_seconds": 1.5},
        {"unknown": 1},
    ],
)
def test_config_patch_refuses_bad_values(data: dict[str, object]) -> None:
    with pytest.raises(InvalidConfigError):
        ConfigPatch.from_dict(data)


config_patches = st.builds(
    ConfigPatch,
    compatibility=st.none() | st.sampled_from(list(Compatibility)),
    drift_threshold=st.none() | st.floats(min_value=0, max_value=1),
    min_samples=st.none() | st.integers(min_value=1, max_value=1000),
    auto_register=st.none() | st.booleans(),
    sunset_seconds=st.none()
    | st.just(ConfigPatch.FOREVER)
    | st.integers(min_value=0, max_value=10**6),
)


@given(config_patches)
def test_patch_round_trips_through_its_dict(patch: ConfigPatch) -> None:
    """What the store writes (to_dict, FOREVER as null) reads back as the same patch."""
    data = patch.to_dict()
    if data.get("sunset_seconds") == ConfigPatch.FOREVER:
        data["sunset_seconds"] = None
    assert ConfigPatch.from_dict(data) == patch


@given(config_patches, config_patches)
def test_overlay_then_apply_equals_applying_in_turn(a: ConfigPatch, b: ConfigPatch) -> None:
    """Stacking patches is the same as applying them one after another to the defaults."""
    assert a.overlay(b).apply_to(DEFAULT_CONFIG) == b.apply_to(a.apply_to(DEFAULT_CONFIG))


def test_forever_patch_switches_sunset_off() -> None:
    assert (
        ConfigPatch(sunset_seconds=ConfigPatch.FOREVER).apply_to(DEFAULT_CONFIG).sunset_seconds
        is None
    )
    assert ConfigPatch().apply_to(DEFAULT_CONFIG) == DEFAULT_CONFIG
    assert ConfigPatch().is_empty()
