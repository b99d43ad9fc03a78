"""Registry.observe: one verdict per event, decided in stream order.

First versions, additive drift on first sight, subtractive and modifying drift by support
(outliers), quarantine and a person's decision, consumers, modes and determinism. Runs on the
in-memory SQLite registry (a real database, not a double); the same service code runs over
every store, whose own contract is pinned in tests/integration.
"""

from __future__ import annotations

from typing import Any

import pytest

from schemashift.core.transform import Rejected, strict_checker
from schemashift.registry.config import Compatibility, ConfigPatch, Mode
from schemashift.registry.observation import Observation, ObserveBatch
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


def verdicts(result: Any) -> list[str]:
    return [v.verdict.value for v in result.verdicts]


# -- the first version ---------------------------------------------------------------------


def test_first_version_registers_at_min_samples_exactly(registry: Registry) -> None:
    """Events wait until min_samples are held; v1 is inferred from exactly those, and the
    events after them in the same call are judged against v1."""
    early = registry.observe("orders", orders(3))
    assert early.decision is Decision.INSUFFICIENT_SAMPLES
    assert verdicts(early) == ["waiting"] * 3
    assert registry.list_subjects() == []
    result = registry.observe("orders", [*orders(2), {"id": "x", "total": 1, "coupon": "A"}])
    assert verdicts(result) == ["registered", "registered", "registered"]
    assert registry.list_versions("orders") == [1, 2]  # v1 from five, v2 adds the coupon
    v1 = registry.get_version("orders", 1).schema
    assert "coupon" not in v1["properties"] and v1["properties"]["id"] == {"type": "string"}
    assert result.latest_version == 2
    assert kinds(registry) == ["schema.updated", "schema.updated"]


def test_the_hold_deadline_registers_a_first_version_from_one_event(registry: Registry) -> None:
    """No event dies for lack of volume: at the caller's deadline, whatever is held (one
    event here) makes the first version."""
    assert registry.observe("orders", orders(1)).decision is Decision.INSUFFICIENT_SAMPLES
    result = registry.observe("orders", [], deadline=True)
    assert result.decision is Decision.REGISTERED and result.latest_version == 1
    assert registry.get_version("orders", 1).schema["required"] == ["id", "total"]


def test_first_version_without_auto_register_is_quarantined(registry: Registry) -> None:
    registry.set_config("orders", ConfigPatch(auto_register=False))
    result = registry.observe("orders", orders(5))
    assert result.decision is Decision.QUARANTINED
    assert set(verdicts(result)) == {"quarantined"}
    item = registry.list_quarantine("orders")[0]
    assert item.status is QuarantineStatus.OPEN and item.base_version is None
    later = registry.observe("orders", orders(2))  # joins the open first-version quarantine
    assert verdicts(later) == ["quarantined", "quarantined"]
    assert later.verdicts[0].quarantine_id == item.quarantine_id
    registry.accept_quarantine(item.quarantine_id)
    assert registry.list_versions("orders") == [1]


def test_readonly_subject_never_registers_by_itself(registry: Registry) -> None:
    registry.set_mode("orders", Mode.READONLY)
    result = registry.observe("orders", orders(5))
    assert result.decision is Decision.QUARANTINED
    assert "READONLY" in result.reasons[0]


# -- additive drift ------------------------------------------------------------------------


def test_additive_drift_registers_on_first_sight(registry: Registry) -> None:
    """A new optional field needs no support: the first event showing it registers v2, which
    takes the old events too (it only widens)."""
    registry.observe("orders", orders(5))
    result = registry.observe("orders", [{"id": "o-9", "total": 3, "coupon": "X1"}])
    assert result.decision is Decision.REGISTERED, result.reasons
    assert result.version == 2 and result.report.score > 0
    v2 = registry.get_version("orders", 2).schema
    assert "coupon" in v2["properties"] and "coupon" not in v2.get("required", [])
    assert all(not isinstance(strict_checker(v2)(p), Rejected) for p in orders(5))
    record = registry.read_outbox(1, 1)[0]
    assert (record.kind, record.version) == (OutboxKind.SCHEMA_UPDATED, 2)
    assert record.score == result.report.score
    assert [(c["path"], c["class"]) for c in record.changes] == [("/coupon", "additive")]
    assert [e.decision for e in registry.drift_history("orders")][-1] is Decision.REGISTERED


def test_a_new_enum_value_widens_the_enum(registry: Registry) -> None:
    """An enum learnt from the first events grows by a value never seen: additive."""
    registry.set_config("orders", ConfigPatch(min_samples=40))
    methods = [{"method": "GET" if i % 3 else "PUT"} for i in range(40)]
    registry.observe("orders", methods)
    assert registry.get_version("orders", 1).schema["properties"]["method"]["enum"] == [
        "GET",
        "PUT",
    ]
    result = registry.observe("orders", [{"method": "POST"}])
    assert verdicts(result) == ["registered"]
    assert "POST" in registry.get_version("orders", 2).schema["properties"]["method"]["enum"]


def test_events_the_latest_version_takes_are_accepted_without_a_version(
    registry: Registry,
) -> None:
    registry.observe("orders", orders(5))
    result = registry.observe("orders", orders(5))
    assert verdicts(result) == ["accepted"] * 5 and result.decision is Decision.NONE
    assert registry.list_versions("orders") == [1]


def test_drift_at_or_below_threshold_is_ignored(registry: Registry) -> None:
    registry.set_config("orders", ConfigPatch(drift_threshold=1.0))
    registry.observe("orders", orders(5))
    result = registry.observe("orders", orders(1, coupon="X1"))
    assert verdicts(result) == ["ignored"]
    assert registry.list_versions("orders") == [1]


# -- subtractive and modifying drift: support ----------------------------------------------


def stream_with_strays(registry: Registry, n: int) -> None:
    registry.set_config("orders", ConfigPatch(min_samples=10))
    registry.observe("orders", orders(n))


def test_a_stray_missing_required_fields_is_an_outlier(registry: Registry) -> None:
    """Two strays among 1,000 events cannot make fields optional: they are outliers, the
    schema stays, and each outlier names the change it would need and its support."""
    stream_with_strays(registry, 1000)
    result = registry.observe("orders", [{"id": "A1"}, {"id": "A2"}])
    assert verdicts(result) == ["outlier", "outlier"]
    outlier = result.verdicts[0]
    assert [(c["code"], c["path"]) for c in outlier.changes] == [("became_optional", "/total")]
    assert "1 of the last 1000 events, 10 needed" in outlier.reasons[0]
    assert registry.list_versions("orders") == [1]
    assert result.outliers_open == 2 and not result.redrive_outliers


def test_drift_with_support_registers_and_asks_to_redrive_the_outliers(
    registry: Registry,
) -> None:
    """Once 1 % of the recent events show the change, it goes through the normal decision
    (BACKWARD allows an optional field) and the parked outliers are to be re-driven."""
    stream_with_strays(registry, 1000)
    first = registry.observe("orders", [{"id": f"A{i}"} for i in range(9)])
    assert set(verdicts(first)) == {"outlier"}
    tenth = registry.observe("orders", [{"id": "A9"}])
    assert verdicts(tenth) == ["registered"] and tenth.redrive_outliers
    assert tenth.outliers_open == 0
    assert "total" not in registry.get_version("orders", 2).schema.get("required", [])


def test_support_counts_every_event_not_only_the_observed_ones(registry: Registry) -> None:
    """``counted`` includes the events a worker conformed without asking: 3 changed events
    among 20 counted are 15 %, far above 1 %, while 3 among 3,000 are not."""
    registry.set_config("orders", ConfigPatch(min_samples=10))
    registry.observe("orders", orders(10))
    few = registry.observe("orders", [{"id": f"A{i}"} for i in range(3)], counted=3000)
    assert set(verdicts(few)) == {"outlier"}
    other = memory_registry(clock=ManualClock())
    other.set_config("orders", ConfigPatch(min_samples=10))
    other.observe("orders", orders(10))
    many = other.observe("orders", [{"id": f"A{i}"} for i in range(3)], counted=10)
    assert verdicts(many)[0] == "registered"


def test_a_young_subject_needs_min_samples_before_subtractive_drift(registry: Registry) -> None:
    registry.set_config("orders", ConfigPatch(min_samples=3))
    registry.observe("orders", orders(3))  # v1 at 3 events
    registry.set_config("orders", ConfigPatch(min_samples=10))
    result = registry.observe("orders", [{"id": "A"}])
    assert verdicts(result) == ["outlier"]
    assert "needs 10 events" in result.verdicts[0].reasons[0]


def test_volume_alone_can_bring_a_pending_change_its_support(registry: Registry) -> None:
    """An outlier of a young subject: a count-only observation after min_samples events
    finds the change supported and asks for the outliers to be re-driven."""
    registry.set_config("orders", ConfigPatch(min_samples=3))
    registry.observe("orders", orders(3))
    registry.set_config("orders", ConfigPatch(min_samples=10))
    assert verdicts(registry.observe("orders", [{"id": "A"}])) == ["outlier"]
    later = registry.observe("orders", [], counted=20)
    assert later.redrive_outliers and later.outliers_open == 0


def test_a_new_kind_of_value_is_a_modification_needing_support(registry: Registry) -> None:
    """total: integer → string is not additive (a reader of numbers meets strings)."""
    stream_with_strays(registry, 1000)
    result = registry.observe("orders", [{"id": "A", "total": "ten"}])
    assert verdicts(result) == ["outlier"]
    assert result.verdicts[0].changes[0]["class"] == "modification"


# -- quarantine, consumers, a person's decision ---------------------------------------------


def test_supported_incompatible_drift_is_quarantined_then_accepted(registry: Registry) -> None:
    """Under FULL, a supported retyping is quarantined with its sample; later events showing
    it join the open quarantine; accept registers the latest version widened by the samples."""
    registry.set_config("orders", ConfigPatch(compatibility=Compatibility.FULL))
    registry.observe("orders", orders(5))
    drifted = [{"id": "o", "total": f"{i}.5"} for i in range(3)]
    result = registry.observe("orders", drifted)
    assert verdicts(result) == ["quarantined"] * 3, result
    assert result.quarantine_id is not None and result.reasons
    assert len(registry.list_quarantine("orders", "open")) == 1
    item = registry.get_quarantine(result.quarantine_id)
    assert item.samples[:3] == tuple(drifted) and item.report["changes"]
    # an additive change meanwhile moves the latest version on
    registry.observe("orders", [{"id": "n", "total": 1, "note": "x"}])
    accepted = registry.accept_quarantine(result.quarantine_id)
    assert (accepted.status, accepted.resolved_version) == (QuarantineStatus.ACCEPTED, 3)
    v3 = registry.get_version("orders", 3).schema
    check = strict_checker(v3)
    assert not isinstance(check({"id": "n", "total": 1, "note": "x"}), Rejected)
    assert not isinstance(check(drifted[0]), Rejected)
    assert kinds(registry)[-3:] == ["schema.updated", "schema.updated", "quarantine.accepted"]
    with pytest.raises(QuarantineClosedError):
        registry.reject_quarantine(result.quarantine_id)


def test_a_rejected_drift_is_remembered(registry: Registry) -> None:
    """After a reject, events showing the refused change are ``rejected`` (dead letters
    ``drift_rejected``), not a new quarantine; other events go on as before."""
    registry.set_config("orders", ConfigPatch(compatibility=Compatibility.FULL))
    registry.observe("orders", orders(5))
    result = registry.observe("orders", [{"id": "o", "total": "1.5"}])
    assert result.decision is Decision.QUARANTINED
    registry.reject_quarantine(result.quarantine_id)
    assert kinds(registry)[-1] == "quarantine.rejected"
    again = registry.observe("orders", [{"id": "p", "total": "2.5"}, *orders(1)])
    assert verdicts(again) == ["rejected", "accepted"]
    assert again.verdicts[0].quarantine_id == result.quarantine_id
    assert len(registry.list_quarantine("orders", "open")) == 0
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


def test_a_latest_version_that_does_not_compile_is_never_widened(registry: Registry) -> None:
    """A latest version stored by a release whose rules were laxer (a remote ``$ref``, never
    resolved) cannot judge anything: the drift goes to quarantine with that reason."""
    from datetime import UTC, datetime

    from schemashift.registry.registration import Candidate, store_version

    legacy = {"type": "object", "properties": {"id": {"$ref": "common.json"}}}
    when = datetime(2025, 1, 1, tzinfo=UTC)
    registry.store.write(lambda tx: store_version(tx, "orders", Candidate.of(legacy), when))
    result = registry.observe("orders", orders(6))
    assert result.decision is Decision.QUARANTINED, result
    assert any("does not compile" in reason for reason in result.reasons), result.reasons
    assert registry.list_versions("orders") == [1]


def test_drift_back_to_an_older_version_does_not_duplicate_it(registry: Registry) -> None:
    """A widening that equals a live older version never lists a schema twice."""
    registry.set_config("orders", ConfigPatch(compatibility=Compatibility.NONE, min_samples=1))
    registry.observe("orders", orders(1))
    v1 = registry.get_version("orders", 1).schema
    narrower = {**v1, "required": ["id", "total"], "properties": {**v1["properties"]}}
    narrower["properties"]["total"] = {"type": "integer", "maximum": 5}
    registry.register("orders", narrower)
    again = registry.observe("orders", orders(1))  # total 10 breaks maximum: widen back to v1
    assert again.decision is Decision.REGISTERED and again.version == 1
    assert registry.list_versions("orders") == [1, 2]


# -- state across calls, determinism --------------------------------------------------------


def test_counts_and_support_persist_across_registry_instances(tmp_path: Any) -> None:
    """The running profile and the evidence are stored: a restarted registry keeps both."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    first = Registry.from_url(url, clock=ManualClock())
    first.set_config(None, ConfigPatch(min_samples=6))
    first.observe("orders", orders(4))
    first.close()
    second = Registry.from_url(url, clock=ManualClock())
    assert second.observe("orders", orders(2)).decision is Decision.REGISTERED
    assert second.observe("orders", [{"id": "A"}], counted=5000).decision is Decision.OUTLIER
    second.close()


def test_replayed_events_are_not_counted_twice(registry: Registry) -> None:
    """A re-driven outlier does not add to the volume nor to its change's support."""
    stream_with_strays(registry, 1000)
    registry.observe("orders", [{"id": "A"}])
    batch = ObserveBatch(tuple(Observation({"id": "A"}, replayed=True) for _ in range(20)), 0)
    result = registry.observe("orders", batch)
    assert set(verdicts(result)) == {"outlier"}


def test_versions_do_not_depend_on_how_the_stream_was_batched() -> None:
    """The same events in the same order give the same versions, whether observed one at a
    time or all at once (decisions are per event, in order)."""
    stream = [
        *orders(6),
        {"id": "a", "total": 1, "coupon": "C"},
        *orders(3),
        {"id": "b", "total": 2.5},
        {"id": "c", "total": 3, "coupon": None},
        {"id": "d"},
        {"id": "e", "total": 4, "gift": {"to": "x"}},
    ]
    texts = []
    for size in (1, 4, len(stream)):
        reg = memory_registry(clock=ManualClock())
        reg.set_config(None, ConfigPatch(min_samples=5))
        for start in range(0, len(stream), size):
            reg.observe("orders", stream[start : start + size])
        texts.append(
            [reg.get_version("orders", v).schema_text for v in reg.list_versions("orders")]
        )
    assert texts[0] == texts[1] == texts[2]
    # v1, coupon, integer → number, coupon null, total optional (1 of 13: supported), gift
    assert len(texts[0]) == 6
