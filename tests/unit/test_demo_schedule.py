"""The demo's promise, checked on the registry alone: a minute of the demo stream (at the
default 40 events/s, grouped per second and subject as the worker does), observed under
``prepare_demo``'s configuration, registers v1 of every subject, registers the new optional
fields and the widening as versions, and quarantines exactly the forbidden changes — for
the reasons the demo configures (payments FULL, a consumer of the signups' ``email``)."""

from __future__ import annotations

import collections
import itertools
from typing import Any

from schemashift.registry.records import Verdict
from schemashift.registry.testing import memory_registry
from schemashift.server.demo_producer import demo_events, prepare_demo
from schemashift.server.settings import ServerSettings

ORDERS, CLICKS = "shop/order.created", "web/page.clicked"
SIGNUPS, PAYMENTS = "identity/user.signed_up", "billing/payment.succeeded"


def test_a_minute_of_the_demo_shows_versions_and_the_forbidden_changes_quarantined() -> None:
    defaults = ServerSettings()
    rate = int(defaults.demo_rate)
    registry = memory_registry()
    prepare_demo(registry)
    events = demo_events(defaults.demo_seed, cycle=int(rate * defaults.demo_cycle_seconds))
    registered: dict[str, list[set[str]]] = collections.defaultdict(list)
    quarantined: dict[str, tuple[str, ...]] = {}
    for _second in range(60):
        by_subject: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        for event in itertools.islice(events, rate):
            by_subject[f"{event['source']}/{event['type']}"].append(event["data"])
        for subject, payloads in by_subject.items():
            result = registry.observe(subject, payloads)
            if result.version is not None and not registered[subject]:
                registered[subject].append(set())  # v1
            for verdict in result.verdicts:
                changes = {f"{c['code']}:{c['path']}" for c in verdict.changes}
                if verdict.verdict is Verdict.REGISTERED and changes:
                    registered[subject].append(changes)
                elif verdict.verdict is Verdict.QUARANTINED:
                    quarantined.setdefault(subject, verdict.reasons)
    assert set(registered) == {ORDERS, CLICKS, SIGNUPS, PAYMENTS}  # every subject has v1
    assert "property_added:/viewport" in set().union(*registered[CLICKS])
    assert "property_added:/gift_message" in set().union(*registered[ORDERS])
    assert "type_widened:/line_items/*/quantity" in set().union(*registered[ORDERS])
    assert set(quarantined) == {PAYMENTS, SIGNUPS}
    assert "not FULL compatible" in quarantined[PAYMENTS][0]
    assert any("/amount" in reason for reason in quarantined[PAYMENTS])
    assert any("welcome-mailer" in reason for reason in quarantined[SIGNUPS])
    # the forbidden changes never became versions
    for subject, field in ((PAYMENTS, "amount"), (SIGNUPS, "email")):
        latest = registry.get_version(subject, "latest").schema
        assert (
            latest["properties"][field]
            == registry.get_version(subject, 1).schema["properties"][field]
        )
    assert "email" in registry.get_version(SIGNUPS, "latest").schema["required"]
