"""One contract suite for every registry store: SQLite file, SQLite in memory, PostgreSQL.

Each test gets an empty database (PostgreSQL: a fresh database on the shared server), so
the same assertions pin the same Confluent semantics and invariants on every adapter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from schemashift.errors import (
    RegistryModeError,
    SchemaNotFoundError,
    SubjectNotFoundError,
    VersionGoneError,
    VersionNotFoundError,
)
from schemashift.registry.config import Compatibility, ConfigPatch, Mode
from schemashift.registry.records import OutboxKind
from schemashift.registry.refusals import (
    ConfigNotFoundError,
    InvalidConfigError,
    SubjectNotSoftDeletedError,
    SubjectSoftDeletedError,
    VersionNotSoftDeletedError,
    VersionSoftDeletedError,
)
from schemashift.registry.service import Registry
from schemashift.registry.testing import ManualClock

STORES = [
    "sqlite-file",
    "sqlite-memory",
    pytest.param("postgres", marks=pytest.mark.postgres),
]


def fresh_database(server_url: str) -> str:
    """An empty namespace on the PostgreSQL server at ``server_url``; a URL that uses it.

    A schema (``search_path``) per test rather than a database: creating databases makes the
    server's shutdown checkpoint slow, schemas cost nothing.
    """
    import psycopg

    name = f"ss_{uuid.uuid4().hex[:16]}"
    url = make_url(server_url)
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    query = {**url.query, "options": f"-csearch_path={name}"}
    return url.set(query=query).render_as_string(hide_password=False)


WORKER = textwrap.dedent(
    """
    import json, sys
    from schemashift.registry.service import Registry
    url, job = sys.argv[1], json.loads(sys.argv[2])
    registry = Registry.from_url(url)
    out = []
    for subject, schema in job:
        v = registry.register(subject, schema)
        out.append([v.subject, v.version, v.schema_id])
    registry.close()
    print(json.dumps(out))
    """
)


def run_workers(url: str, jobs: list[list[tuple[str, dict[str, Any]]]]) -> list[list[Any]]:
    """One registry process per job, started together; every (subject, version, id) they got."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, json.dumps(job)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for job in jobs
    ]
    results: list[list[Any]] = []
    for process in processes:
        out, err = process.communicate(timeout=240)
        assert process.returncode == 0, err
        results.extend(json.loads(out))
    return results


def store_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite-file":
        return f"sqlite:///{tmp_path / 'registry.db'}"
    if kind == "sqlite-memory":
        return "sqlite://"
    return fresh_database(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=STORES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_url(request.param, tmp_path, request)


@pytest.fixture(params=[s for s in STORES if s != "sqlite-memory"])
def shared_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database that outlives its store and is shared by processes (not in-memory)."""
    return store_url(request.param, tmp_path, request)


@pytest.fixture()
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture()
def registry(db_url: str, clock: ManualClock) -> Iterator[Registry]:
    reg = Registry.from_url(db_url, clock=clock)
    # most tests pin registry semantics, not compatibility rules: NONE keeps them independent
    reg.set_config(None, ConfigPatch(compatibility=Compatibility.NONE))
    yield reg
    reg.close()


def obj(*names: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {n: {"type": "string"} for n in names},
        "required": list(names),
    }


# -- registration, ids, versions ---------------------------------------------------------------


def test_register_assigns_version_one_and_is_idempotent(registry: Registry) -> None:
    """Registering a schema gives v1; the same schema again returns it, with no new record."""
    first = registry.register("orders", obj("id"))
    again = registry.register(
        "orders", '{"required":["id"],"properties":{"id":{"type":"string"}},"type":"object"}'
    )
    assert (first.version, first.schema_id) == (1, 1)
    assert (again.version, again.schema_id) == (1, 1)
    assert registry.list_versions("orders") == [1]
    assert [r.kind for r in registry.read_outbox(0)] == [OutboxKind.SCHEMA_UPDATED]


def test_same_canonical_schema_has_one_id_across_subjects(registry: Registry) -> None:
    """The global id follows the canonical text: key order and whitespace do not matter."""
    a = registry.register("a", {"type": "object", "title": "x"})
    b = registry.register("b", '{ "title" : "x", "type" : "object" }')
    c = registry.register("c", {"type": "object", "title": "y"})
    assert a.schema_id == b.schema_id != c.schema_id
    assert registry.subjects_of_schema(a.schema_id) == ["a", "b"]
    assert registry.versions_of_schema(a.schema_id) == [("a", 1), ("b", 1)]


def test_versions_are_dense_and_never_reused_after_deletes(registry: Registry) -> None:
    """Soft- and permanently-deleted version numbers are never handed out again."""
    for name in ("a", "b", "c"):
        registry.register("s", obj(name))
    registry.delete_version("s", 3)
    assert registry.register("s", obj("d")).version == 4
    registry.delete_version("s", 3, permanent=True)
    assert registry.list_versions("s") == [1, 2, 4]
    assert registry.list_versions("s", deleted=True) == [1, 2, 4]
    registry.delete_subject("s")
    registry.delete_subject("s", permanent=True)
    assert "s" not in registry.list_subjects(deleted=True)
    assert registry.register("s", obj("a")).version == 5


def test_soft_deleted_schema_registers_as_a_new_version(registry: Registry) -> None:
    """Confluent: a soft-deleted schema registered again gets a new version, the same id."""
    v1 = registry.register("s", obj("a"))
    registry.register("s", obj("b"))
    registry.delete_version("s", 1)
    again = registry.register("s", obj("a"))
    assert (again.version, again.schema_id) == (3, v1.schema_id)


def test_lookup_finds_live_versions_and_deleted_on_request(registry: Registry) -> None:
    registry.register("s", obj("a"))
    registry.register("s", obj("b"))
    assert registry.lookup("s", obj("a")).version == 1
    registry.delete_version("s", 1)
    with pytest.raises(SchemaNotFoundError):
        registry.lookup("s", obj("a"))
    assert registry.lookup("s", obj("a"), deleted=True).version == 1
    with pytest.raises(SubjectNotFoundError):
        registry.lookup("nope", obj("a"))


def test_get_version_latest_and_deleted(registry: Registry) -> None:
    registry.register("s", obj("a"))
    registry.register("s", obj("b"))
    assert registry.get_version("s", "latest").version == 2
    assert registry.get_version("s", -1).version == 2
    registry.delete_version("s", 2)
    assert registry.get_version("s", "latest").version == 1
    with pytest.raises(VersionNotFoundError):
        registry.get_version("s", 2)
    assert registry.get_version("s", 2, deleted=True).deleted
    with pytest.raises(VersionNotFoundError):
        registry.get_version("s", 9)
    with pytest.raises(SubjectNotFoundError):
        registry.get_version("nope", 1)


def test_schema_by_id(registry: Registry) -> None:
    v = registry.register("s", obj("a"))
    assert (
        registry.get_schema_by_id(v.schema_id).schema_text
        == '{"properties":{"a":{"type":"string"}},"required":["a"],"type":"object"}'
    )
    with pytest.raises(SchemaNotFoundError):
        registry.get_schema_by_id(999)
    with pytest.raises(SchemaNotFoundError):
        registry.versions_of_schema(999)


# -- deletion semantics --------------------------------------------------------------------------


def test_delete_semantics_follow_confluent(registry: Registry) -> None:
    """Permanent only after soft; soft twice is refused; each with Confluent's code."""
    registry.register("s", obj("a"))
    registry.register("s", obj("b"))
    with pytest.raises(VersionNotSoftDeletedError) as info:
        registry.delete_version("s", 1, permanent=True)
    assert info.value.error_code == 40407
    assert registry.delete_version("s", 1) == 1
    with pytest.raises(VersionSoftDeletedError) as info2:
        registry.delete_version("s", 1)
    assert info2.value.error_code == 40406
    with pytest.raises(SubjectNotSoftDeletedError):
        registry.delete_subject("s", permanent=True)
    assert registry.delete_subject("s") == [2]
    with pytest.raises(SubjectSoftDeletedError):
        registry.delete_subject("s")
    assert registry.list_subjects() == []
    assert registry.list_subjects(deleted=True) == ["s"]
    assert registry.delete_subject("s", permanent=True) == [1, 2]
    with pytest.raises(SubjectNotFoundError):
        registry.delete_subject("s")


# -- configuration and modes ---------------------------------------------------------------------


def test_config_inherits_global_and_subject_overrides(registry: Registry) -> None:
    with pytest.raises(ConfigNotFoundError):
        registry.get_config("s")
    assert registry.get_config("s", default_to_global=True).compatibility is Compatibility.NONE
    registry.set_config("s", ConfigPatch(compatibility=Compatibility.FULL, drift_threshold=0.3))
    registry.set_config("s", ConfigPatch(min_samples=5))
    config = registry.get_config("s")
    assert (config.compatibility, config.drift_threshold, config.min_samples) == (
        Compatibility.FULL,
        0.3,
        5,
    )
    registry.set_config(None, ConfigPatch(auto_register=False))
    assert registry.effective_config("s").auto_register is False
    registry.delete_config("s")
    assert registry.effective_config("s").compatibility is Compatibility.NONE
    with pytest.raises(InvalidConfigError):
        registry.set_config("s", ConfigPatch.from_dict({"compatibility": "SIDEWAYS"}))


def test_sunset_forever_is_distinct_from_inherit(registry: Registry) -> None:
    """An explicit null sunset means "never"; an absent one inherits the global value."""
    registry.set_config(None, ConfigPatch(sunset_seconds=60))
    assert registry.effective_config("s").sunset_seconds == 60
    registry.set_config("s", ConfigPatch.from_dict({"sunset_seconds": None}))
    assert registry.effective_config("s").sunset_seconds is None


def test_readonly_mode_refuses_writes(registry: Registry) -> None:
    registry.register("s", obj("a"))
    registry.set_mode("s", Mode.READONLY)
    with pytest.raises(RegistryModeError) as info:
        registry.register("s", obj("b"))
    assert info.value.error_code == 42205
    with pytest.raises(RegistryModeError):
        registry.delete_version("s", 1)
    assert registry.register("t", obj("b")).version == 1  # other subjects unaffected
    assert registry.delete_mode("s") is Mode.READONLY
    assert registry.get_mode("s", default_to_global=True) is Mode.READWRITE


def test_import_mode_keeps_explicit_ids_and_versions(registry: Registry) -> None:
    """IMPORT registers with the source registry's ids and versions (migrations)."""
    with pytest.raises(RegistryModeError):
        registry.register("s", obj("a"), schema_id=7)  # ids only in IMPORT mode
    registry.set_mode(None, Mode.IMPORT)
    with pytest.raises(RegistryModeError):
        registry.register("s", obj("a"))  # IMPORT needs the id
    v = registry.register("s", obj("a"), schema_id=40, version=3)
    assert (v.version, v.schema_id) == (3, 40)
    with pytest.raises(RegistryModeError):
        registry.register("s", obj("b"), schema_id=40, version=4)  # id taken by another schema
    with pytest.raises(RegistryModeError):
        registry.register("s", obj("c"), schema_id=41, version=2)  # versions only go up
    registry.set_mode(None, Mode.READWRITE)
    nxt = registry.register("s", obj("d"))
    assert (nxt.version, nxt.schema_id) == (4, 41)


def test_import_mode_on_a_non_empty_registry_needs_force(registry: Registry) -> None:
    registry.register("s", obj("a"))
    with pytest.raises(RegistryModeError):
        registry.set_mode(None, Mode.IMPORT)
    assert registry.set_mode(None, Mode.IMPORT, force=True) is Mode.IMPORT


# -- outbox ---------------------------------------------------------------------------------------


def test_outbox_records_every_registration_in_order(registry: Registry) -> None:
    """One schema.updated per new version, with its schema, in seq order; relay marks."""
    for name in ("a", "b", "c"):
        registry.register("s", obj(name))
    registry.register("t", obj("a"))
    records = registry.read_outbox(0, 100)
    assert [r.seq for r in records] == [1, 2, 3, 4]
    assert [(r.subject, r.version) for r in records] == [("s", 1), ("s", 2), ("s", 3), ("t", 1)]
    assert records[1].schema == obj("b")
    assert registry.read_outbox(2, 1)[0].seq == 3
    assert [r.seq for r in registry.pending_relay(2)] == [1, 2]
    registry.mark_relayed([1, 2])
    assert [r.seq for r in registry.pending_relay(10)] == [3, 4]


def test_concurrent_threads_get_dense_versions(db_url: str, clock: ManualClock) -> None:
    """Threads registering different schemas to one subject get 1..N with no gap or repeat."""
    registry = Registry.from_url(db_url, clock=clock)
    registry.set_config(None, ConfigPatch(compatibility=Compatibility.NONE))
    results: list[int] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        for i in range(15):
            version = registry.register("s", obj(f"w{worker}_{i}")).version
            with lock:
                results.append(version)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == list(range(1, 61))
    assert registry.list_versions("s") == list(range(1, 61))
    assert [r.version for r in registry.read_outbox(0, 100)] == list(range(1, 61))
    registry.close()


@pytest.mark.slow
def test_concurrent_processes_get_dense_versions(shared_db_url: str, clock: ManualClock) -> None:
    """Processes sharing the database file/server serialise their registrations."""
    db_url = shared_db_url
    setup = Registry.from_url(db_url, clock=clock)
    setup.set_config(None, ConfigPatch(compatibility=Compatibility.NONE))
    setup.close()
    jobs = [[("s", obj(f"p{p}_{i}")) for i in range(30)] for p in range(2)]
    results = run_workers(db_url, jobs)
    assert sorted(r[1] for r in results) == list(range(1, 61))


# -- sunset ----------------------------------------------------------------------------------------


def test_superseded_version_is_gone_after_its_sunset(
    registry: Registry, clock: ManualClock
) -> None:
    """Servable during the sunset period, 410 after; the latest version never goes."""
    registry.set_config("s", ConfigPatch(sunset_seconds=3600))
    registry.register("s", obj("a"))
    clock.advance(10)
    registry.register("s", obj("b"))
    assert registry.get_servable_version("s", 1).version == 1
    clock.advance(3599)
    assert registry.get_servable_version("s", 1).version == 1
    assert registry.sweep_sunsets() == []
    clock.advance(1)
    with pytest.raises(VersionGoneError) as info:
        registry.get_servable_version("s", 1)
    assert info.value.http_status == 410
    assert registry.get_version("s", 1).version == 1  # still readable for old data
    clock.advance(10**7)
    assert registry.get_servable_version("s", "latest").version == 2
    sunset = registry.sweep_sunsets()
    assert len(sunset) == 1
    assert registry.sweep_sunsets() == []
    record = registry.read_outbox(sunset[0] - 1, 1)[0]
    assert (record.kind, record.subject, record.version) == (OutboxKind.VERSION_SUNSET, "s", 1)


def test_persisted_state_survives_reopening(shared_db_url: str, clock: ManualClock) -> None:
    """A second Registry on the same database sees versions, config and outbox."""
    db_url = shared_db_url
    first = Registry.from_url(db_url, clock=clock)
    first.set_config("s", ConfigPatch(compatibility=Compatibility.NONE, min_samples=3))
    first.register("s", obj("a"))
    first.register("s", obj("b"))
    first.close()
    second = Registry.from_url(db_url, clock=clock)
    assert second.list_versions("s") == [1, 2]
    assert second.effective_config("s").min_samples == 3
    assert len(second.read_outbox(0)) == 2
    second.close()
