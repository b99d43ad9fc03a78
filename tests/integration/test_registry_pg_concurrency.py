"""Several registry processes on one PostgreSQL database: dense versions, one id per schema.

Real processes (``python -c``) against a real server from pgserver; nothing is mocked.
"""

from __future__ import annotations

import pytest

from schemashift.registry.config import Compatibility, ConfigPatch
from schemashift.registry.records import OutboxKind
from schemashift.registry.service import Registry
from tests.integration.test_store_contract import fresh_database, run_workers

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def schema(tag: str) -> dict[str, object]:
    return {"type": "object", "properties": {tag: {"type": "integer"}}}


def test_two_processes_registering_to_one_subject_get_dense_versions(postgres_url: str) -> None:
    """Two processes register 200 different schemas (100 each) at once: versions 1..200, no
    duplicate, and the outbox lists them in version order."""
    url = fresh_database(postgres_url)
    setup = Registry.from_url(url)
    setup.set_config(None, ConfigPatch(compatibility=Compatibility.NONE))
    jobs = [[("orders", schema(f"p{p}_{i}")) for i in range(100)] for p in range(2)]
    results = run_workers(url, jobs)
    versions = sorted(int(r[1]) for r in results)
    assert versions == list(range(1, 201))
    assert len({int(r[2]) for r in results}) == 200
    assert setup.list_versions("orders") == list(range(1, 201))
    records = setup.read_outbox(0, 1000)
    assert [r.version for r in records if r.kind is OutboxKind.SCHEMA_UPDATED] == list(
        range(1, 201)
    )
    assert [r.seq for r in records] == list(range(1, 201))
    setup.close()


def test_same_schema_across_processes_and_subjects_gets_one_id(postgres_url: str) -> None:
    """The same schema registered 100 times by two processes into 50 subjects: one id, one
    version per subject."""
    url = fresh_database(postgres_url)
    same = schema("shared")
    jobs = [[(f"s{i}", same) for i in range(50)] for _ in range(2)]
    results = run_workers(url, jobs)
    assert len(results) == 100
    assert {int(r[2]) for r in results} == {1}
    assert {int(r[1]) for r in results} == {1}
    check = Registry.from_url(url)
    assert len(check.list_subjects()) == 50
    assert check.versions_of_schema(1) == sorted((f"s{i}", 1) for i in range(50))
    check.close()


def test_registry_recovers_when_its_connections_are_killed(postgres_url: str) -> None:
    """Pooled connections terminated by the server (a restart, a failover, an admin) are
    replaced transparently: the next operation retries on a fresh connection."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(fresh_database(postgres_url))
    url = url.set(query={**url.query, "application_name": "schemashift-victim"})
    registry = Registry.from_url(url.render_as_string(hide_password=False))
    registry.register("orders", schema("before"))
    admin = (
        make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        killed = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = 'schemashift-victim'"
        ).fetchone()
    assert killed is not None and killed[0] >= 1
    assert registry.list_versions("orders") == [1]
    registry.set_config(None, ConfigPatch(compatibility=Compatibility.NONE))
    assert registry.register("orders", schema("after")).version == 2
    registry.close()
