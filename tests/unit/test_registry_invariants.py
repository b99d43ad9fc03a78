"""Registry invariants under arbitrary sequences of operations (Hypothesis, real SQLite).

Whatever the order of registrations and deletes: the same canonical schema has one id in
every subject, versions are 1..N per subject with no number reused, registering a live schema
again adds nothing, and the outbox holds exactly one ``schema.updated`` per new version, in
order.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemashift.core.canonical import canonical_text
from schemashift.registry.config import Compatibility, ConfigPatch
from schemashift.registry.records import OutboxKind
from schemashift.registry.testing import memory_registry

SCHEMAS = [
    {"type": "object", "properties": {name: {"type": kind}}}
    for name in ("a", "b", "c")
    for kind in ("string", "integer")
]
SUBJECTS = ["orders", "shop/users", "x"]

operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("register"), st.sampled_from(SUBJECTS), st.sampled_from(range(len(SCHEMAS)))
        ),
        st.tuples(st.just("delete"), st.sampled_from(SUBJECTS), st.just(0)),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_ids_versions_and_outbox_stay_consistent(ops: list[tuple[str, str, int]]) -> None:
    registry = memory_registry()
    registry.set_config(None, ConfigPatch(compatibility=Compatibility.NONE))
    id_of: dict[str, int] = {}
    issued: dict[str, list[int]] = {s: [] for s in SUBJECTS}
    live: dict[str, dict[str, int]] = {s: {} for s in SUBJECTS}  # canonical text -> version
    for kind, subject, index in ops:
        if kind == "register":
            schema: Any = SCHEMAS[index]
            text = canonical_text(schema)
            version = registry.register(subject, schema)
            assert id_of.setdefault(text, version.schema_id) == version.schema_id
            if text in live[subject]:
                assert version.version == live[subject][text]  # nothing new
            else:
                assert version.version == max(issued[subject], default=0) + 1  # never reused
                issued[subject].append(version.version)
                live[subject][text] = version.version
        elif live[subject]:
            latest = max(live[subject].values())
            registry.delete_version(subject, latest)
            live[subject] = {t: v for t, v in live[subject].items() if v != latest}
    assert len(set(id_of.values())) == len(id_of)  # different schemas, different ids
    records = [r for r in registry.read_outbox(0, 1000) if r.kind is OutboxKind.SCHEMA_UPDATED]
    assert [r.seq for r in records] == list(range(1, len(records) + 1))
    for subject in SUBJECTS:
        assert [r.version for r in records if r.subject == subject] == issued[subject]
        if live[subject]:
            assert registry.list_versions(subject) == sorted(live[subject].values())
    registry.close()
