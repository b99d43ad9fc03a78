"""Registry.observe: first versions, drift, quarantine, consumers and the running profile.

Runs on the in-memory SQLite registry (a real database, not a double); the same service code
runs over every store, whose own contract is pinned in tests/integration.
"""

from __future__ import annotations

from typing import Any

import pytest

from schemashift.core.profile import Profile
from schemashift.registry.config import Compatibility, ConfigPatch
from schemashift.registry.records import Decision, OutboxKind, QuarantineStatus
from schemashift.registry.refusals import QuarantineClosedError, QuarantineNotFoundError
from schemashift.registry.service import Registry
from schemashift.registry.testing import ManualClock, memory_registry


@pytest.fixture()
def registry() -> Registry:
    reg = memory_registry(clock=ManualClock())
    reg.set_config(None, ConfigPatch(min_samples=5))
    return reg


def orders(n: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"id": f"o-{i}", "total": 10 + i, **extra} for i in range(n)]


def kinds(registry: Registry) -> list[str]:
    return [r.kind.value for r in registry.read_outbox(0, 1000)]


def test_first_version_waits_for_min_samples(registry: Registry) -> None:
    """A new subject gets v1 only once min_samples payloads were seen, exactly once."""
    early = registry.observe("orders", orders(3))
    assert early.decision is Decision.INSUFFICIENT_SAMPLES
    assert registry.list_subjects() == []
    first = registry.observe("orders", orders(2))
    assert (first.decision, first.version, first.sample_count) == (Decision.REGISTERED, 1, 5)
    schema = registry.get_version("orders", 1).schema
    assert schema["properties"]["id"] == {"type": "string"}
    again = registry.observe("orders", orders(5))
    assert again.decision is Decision.NONE and again.report is not None
    assert again.report.score == 0.0
    assert registry.list_versions("orders") == [1]
    assert kinds(registry) == ["schema.updated"]


def test_first_version_without_auto_register_is_quarantined(registry: Registry) -> None:
    registry.set_config("orders", ConfigPatch(auto_register=False))
    result = registry.observe("orders", orders(5))
    assert result.decision is Decision.QUARANTINED
    assert registry.list_quarantine("orders")[0].status is QuarantineStatus.OPEN


def test_allowed_drift_registers_the_merged_schema(registry: Registry) -> None:
    """A new optional field registers v2; old payloads still validate (merged schema)."""
    registry.observe("orders", orders(5))
    result = registry.observe("orders", orders(5, coupon="X1"))
    assert result.decision is Decision.REGISTERED, result.reasons
    assert result.version == 2 and result.report.score > 0
    v2 = registry.get_version("orders", 2).schema
    assert "coupon" in v2["properties"] and "coupon" not in v2.get("required", [])
    record = registry.read_outbox(1, 1)[0]
    assert (record.kind, record.version) == (OutboxKind.SCHEMA_UPDATED, 2)
    assert record.score == result.report.score
    assert any(c["path"] == "/coupon" for c in record.changes)
    history = registry.drift_history("orders")
    assert [e.decision for e in history][-1] is Decision.REGISTERED


def test_drift_at_or_below_threshold_changes_nothing(registry: Registry) -> None:
    registry.set_config("orders", ConfigPatch(drift_threshold=1.0))
    registry.observe("orders", orders(5))
    result = registry.observe("orders", orders(5, coupon="X1"))
    assert result.decision is Decision.NONE
    assert result.report.score > 0
    assert registry.list_versions("orders") == [1]


def test_drift_waits_for_min_samples_since_the_last_version(registry: Registry) -> None:
    registry.observe("orders", orders(5))
    result = registry.observe("orders", orders(2, coupon="X1"))
    assert result.decision is Decision.INSUFFICIENT_SAMPLES
    assert registry.observe("orders", orders(3, coupon="X1")).decision is Decision.REGISTERED


def test_incompatible_drift_is_quarantined_then_accepted(registry: Registry) -> None:
    """A retyped field under BACKWARD goes to quarantine with samples; accept registers it."""
    registry.set_config("orders", ConfigPatch(compatibility=Compatibility.FORWARD))
    registry.observe("orders", orders(5))
    drifted = [{"id": i, "total": 1.5} for i in range(6)]  # id becomes an integer
    result = registry.observe("orders", drifted)
    assert result.decision is Decision.QUARANTINED, result
    assert result.quarantine_id is not None and result.reasons
    item = registry.get_quarantine(result.quarantine_id)
    assert item.samples[0] == drifted[0] and item.report["changes"]
    # the same drift seen again joins the open quarantine instead of opening another
    again = registry.observe("orders", drifted)
    assert again.quarantine_id == result.quarantine_id
    assert len(registry.list_quarantine("orders", "open")) == 1
    accepted = registry.accept_quarantine(result.quarantine_id)
    assert (accepted.status, accepted.resolved_version) == (QuarantineStatus.ACCEPTED, 2)
    assert registry.list_versions("orders") == [1, 2]
    assert kinds(registry) == [
        "schema.updated",
        "drift.quarantined",
        "schema.updated",
        "quarantine.accepted",
    ]
    with pytest.raises(QuarantineClosedError):
        registry.reject_quarantine(result.quarantine_id)


def test_rejected_drift_is_forgotten(registry: Registry) -> None:
    """Reject closes the item and rolls the running profile back, so the next
    conforming batch is not measured against the refused data."""
    registry.set_config("orders", ConfigPatch(compatibility=Compatibility.FORWARD))
    registry.observe("orders", orders(5))
    result = registry.observe("orders", [{"id": i, "total": 1} for i in range(6)])
    assert result.decision is Decision.QUARANTINED
    rejected = registry.reject_quarantine(result.quarantine_id)
    assert rejected.status is QuarantineStatus.REJECTED
    assert registry.observe("orders", orders(5)).decision is Decision.NONE
    assert kinds(registry)[-1] == "quarantine.rejected"
    with pytest.raises(QuarantineNotFoundError):
        registry.accept_quarantine(999)


def test_drift_breaking_a_declared_consumer_is_quarantined(registry: Registry) -> None:
    """Removing/retyping a field a consumer reads is held, naming the consumer."""
    registry.set_config("orders", ConfigPatch(compatibility=Compatibility.NONE))
    registry.observe("orders", orders(5))
    registry.declare_consumer("orders", "billing", ["/total"])
    registry.declare_consumer("orders", "search", ["/id"])
    result = registry.observe("orders", [{"id": f"o{i}", "total": "12.50"} for i in range(5)])
    assert result.decision is Decision.QUARANTINED
    item = registry.get_quarantine(result.quarantine_id)
    assert item.consumers == ("billing",)
    assert any("billing" in reason for reason in result.reasons)


def test_observe_accepts_a_profile(registry: Registry) -> None:
    profile = Profile()
    for payload in orders(5):
        profile.add(payload)
    assert registry.observe("orders", profile).decision is Decision.REGISTERED


def test_running_profile_persists_across_registry_instances(tmp_path: Any) -> None:
    """The merged profile is stored: a restarted registry keeps counting samples."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    first = Registry.from_url(url, clock=ManualClock())
    first.set_config(None, ConfigPatch(min_samples=6))
    first.observe("orders", orders(4))
    first.close()
    second = Registry.from_url(url, clock=ManualClock())
    assert second.observe("orders", orders(2)).decision is Decision.REGISTERED
    second.close()


def test_readonly_subject_never_registers_by_itself(registry: Registry) -> None:
    from schemashift.registry.config import Mode

    registry.set_mode("orders", Mode.READONLY)
    result = registry.observe("orders", orders(5))
    assert result.decision is Decision.QUARANTINED
    assert "READONLY" in result.reasons[0]


def test_drift_back_to_an_older_version_does_not_duplicate_it(registry: Registry) -> None:
    """Data matching a live older version, not the latest, never lists a schema twice."""
    registry.set_config("orders", ConfigPatch(compatibility=Compatibility.NONE, min_samples=1))
    first = registry.observe("orders", orders(3))
    assert first.version == 1
    registry.register("orders", {"type": "object", "properties": {"other": {"type": "string"}}})
    again = registry.observe("orders", orders(3))
    assert again.decision is Decision.REGISTERED
    assert again.version == 1
    assert registry.list_versions("orders") == [1, 2]


def test_an_undecidable_compatibility_check_quarantines(registry: Registry) -> None:
    """A latest version the checker cannot read (stored by a release whose rules were laxer:
    here a remote ``$ref``, never resolved) makes compatibility undecided, and undecided drift
    is quarantined with that reason rather than registered."""
    from datetime import UTC, datetime

    from schemashift.registry.registration import Candidate, store_version

    legacy = {"type": "object", "properties": {"id": {"$ref": "common.json"}}}
    when = datetime(2025, 1, 1, tzinfo=UTC)
    registry.store.write(lambda tx: store_version(tx, "orders", Candidate.of(legacy), when))
    result = registry.observe("orders", orders(6))
    assert result.decision is Decision.QUARANTINED, result
    assert any("could not be decided" in reason for reason in result.reasons), result.reasons
    assert registry.list_versions("orders") == [1]


def test_drift_report_is_measured_with_the_profile_as_of_the_latest_version(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """observe passes the baseline profile (as of the latest version) as ``old_profile``: the
    report's rename hints compare the old name's values with the new name's."""
    import schemashift.core.diff as diff_module

    seen: list[tuple[Any, Any]] = []
    real = diff_module.diff

    def spy(old: Any, new: Any, **kwargs: Any) -> Any:
        seen.append((kwargs.get("old_profile"), kwargs.get("new_profile")))
        return real(old, new, **kwargs)

    registry.observe("orders", orders(5))
    monkeypatch.setattr(diff_module, "diff", spy)  # observe imports diff at call time
    registry.observe("orders", orders(5, coupon="VIP"))
    (old_profile, new_profile), *_ = seen
    assert old_profile is not None and old_profile.count == 5
    assert new_profile is not None and new_profile.count == 10
