"""Registry faults across processes: several instances, frozen instances, busy SQLite, deletes.

API instances are real processes (uvicorn serving ``create_app``), started by this module
run as a script, on a real PostgreSQL (pgserver) or one SQLite file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemashift.errors import VersionNotFoundError
from schemashift.registry.config import Compatibility, ConfigPatch
from schemashift.registry.service import Registry
from tests.integration.test_store_contract import fresh_database
from tests.support.servers import free_port, wait_for_port

REPO_ROOT = Path(__file__).resolve().parents[2]


def schema(tag: str) -> str:
    return json.dumps({"type": "object", "properties": {tag: {"type": "integer"}}})


@contextmanager
def api_instance(db_url: str) -> Iterator[str]:
    """A registry API process on a loopback port; stopped (SIGTERM, then SIGKILL) after."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.test_faults_registry", db_url, str(port)],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        if not wait_for_port(port, timeout=30):
            process.kill()
            raise AssertionError(
                f"API instance did not start: {process.communicate()[1][-2000:]!r}"
            )
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


def relaxed(db_url: str) -> None:
    registry = Registry.from_url(db_url)
    registry.set_config(None, ConfigPatch(compatibility=Compatibility.NONE))
    registry.close()


@pytest.mark.postgres
@pytest.mark.slow
def test_read_your_writes_across_two_instances_on_postgres(postgres_url: str) -> None:
    """1,000 times: register on one instance, read the version and its id on the other at once."""
    url = fresh_database(postgres_url)
    relaxed(url)
    with api_instance(url) as a, api_instance(url) as b, httpx.Client(timeout=30) as http:
        for i in range(1_000):
            writer, reader = (a, b) if i % 2 == 0 else (b, a)
            subject = f"s{i % 7}"
            registered = http.post(
                f"{writer}/subjects/{subject}/versions", json={"schema": schema(f"f{i}")}
            )
            assert registered.status_code == 200, registered.text
            schema_id = registered.json()["id"]
            latest = http.get(f"{reader}/subjects/{subject}/versions/latest")
            assert latest.status_code == 200, latest.text
            assert latest.json()["id"] == schema_id, (
                f"iteration {i}: stale read on the other instance"
            )
            assert json.loads(latest.json()["schema"]) == json.loads(schema(f"f{i}"))
            by_id = http.get(f"{reader}/schemas/ids/{schema_id}")
            assert json.loads(by_id.json()["schema"]) == json.loads(schema(f"f{i}"))


FROZEN_WRITER = """
import json, sys
from schemashift.registry.service import Registry
registry = Registry.from_url(sys.argv[1])
for i in range(int(sys.argv[2])):
    v = registry.register("orders", json.dumps({"type": "object", "properties": {f"w{i}": {"type": "integer"}}}))
    print(v.version, v.schema_id, flush=True)
"""


@pytest.mark.postgres
@pytest.mark.slow
def test_a_frozen_instance_cannot_write_a_colliding_version(postgres_url: str) -> None:
    """A writer SIGSTOPped mid-stream (possibly holding the write lock) while another keeps
    registering: after SIGCONT every version is dense and unique, none written twice."""
    url = fresh_database(postgres_url)
    relaxed(url)
    frozen = subprocess.Popen(
        [sys.executable, "-c", FROZEN_WRITER, url, "150"], stdout=subprocess.PIPE, text=True
    )
    registry = Registry.from_url(url)
    try:
        assert frozen.stdout is not None
        for _ in range(20):  # let it get going, then freeze it, several times
            frozen.stdout.readline()
        for round_ in range(3):
            os.kill(frozen.pid, signal.SIGSTOP)
            results: list[Any] = []

            def other_writer(tag: str = f"o{round_}", results: list[Any] = results) -> None:
                for i in range(10):
                    results.append(registry.register("orders", schema(f"{tag}_{i}")))

            worker = threading.Thread(target=other_writer)
            worker.start()
            worker.join(timeout=1.0)  # blocked on the frozen holder's lock, or done
            os.kill(frozen.pid, signal.SIGCONT)
            worker.join(timeout=60)
            assert not worker.is_alive() and len(results) == 10
        frozen.wait(timeout=120)
        assert frozen.returncode == 0
        versions = registry.list_versions("orders")
        assert versions == list(range(1, 181))
        ids = [registry.get_version("orders", v).schema_id for v in versions]
        assert len(set(ids)) == 180
    finally:
        if frozen.poll() is None:
            os.kill(frozen.pid, signal.SIGCONT)
            frozen.kill()
            frozen.wait()
        if frozen.stdout is not None:
            frozen.stdout.close()
        registry.close()


@pytest.mark.slow
def test_busy_sqlite_never_answers_500(tmp_path: Path) -> None:
    """Two API processes on one SQLite file, 8 writers and 8 readers: no 500, every write lands."""
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    relaxed(url)
    statuses: list[int] = []
    written: list[tuple[str, int]] = []
    lock = threading.Lock()
    with api_instance(url) as a, api_instance(url) as b:

        def writer(n: int) -> None:
            with httpx.Client(base_url=(a, b)[n % 2], timeout=60) as http:
                for i in range(25):
                    while True:
                        response = http.post(
                            f"/subjects/w{n}/versions", json={"schema": schema(f"x{n}_{i}")}
                        )
                        with lock:
                            statuses.append(response.status_code)
                        if response.status_code != 503:  # 503 is the documented "retry"
                            break
                    assert response.status_code == 200, response.text
                    with lock:
                        written.append((f"w{n}", response.json()["id"]))

        def reader(n: int) -> None:
            with httpx.Client(base_url=(a, b)[n % 2], timeout=60) as http:
                for _ in range(60):
                    for path in ("/subjects", f"/subjects/w{n}/versions", "/schemas/ids/1"):
                        response = http.get(path)
                        with lock:
                            statuses.append(response.status_code)

        with ThreadPoolExecutor(16) as pool:
            futures = [pool.submit(writer, n) for n in range(8)] + [
                pool.submit(reader, n) for n in range(8)
            ]
            for future in futures:
                future.result()
    assert 500 not in statuses
    assert {s for s in statuses if s >= 500} <= {503}
    assert len(written) == 200 and len({i for _, i in written}) == 200
    check = Registry.from_url(url)
    assert all(check.list_versions(f"w{n}") == list(range(1, 26)) for n in range(8))
    check.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'deletes.db'}"
    server: str = request.getfixturevalue("postgres_url")
    return fresh_database(server)


def test_soft_deleted_v3_then_register_gives_v4(db_url: str) -> None:
    """Soft-deleting v3 does not free its number: the next registration is v4, also after a restart."""
    relaxed(db_url)
    registry = Registry.from_url(db_url)
    for i in range(3):
        registry.register("orders", schema(f"f{i}"))
    assert registry.delete_version("orders", 3) == 3
    registry.close()
    registry = Registry.from_url(db_url)  # restart between the delete and the registration
    try:
        assert registry.register("orders", schema("f3")).version == 4
        assert registry.list_versions("orders") == [1, 2, 4]
        assert registry.list_versions("orders", deleted=True) == [1, 2, 3, 4]
        # the soft-deleted schema registered again is a new version, not a resurrection
        assert registry.register("orders", schema("f2")).version == 5
    finally:
        registry.close()


def test_permanent_delete_survives_a_restart(db_url: str) -> None:
    """A permanently deleted version stays gone after a restart, and its number is never reused."""
    relaxed(db_url)
    registry = Registry.from_url(db_url)
    for i in range(2):
        registry.register("orders", schema(f"f{i}"))
    registry.delete_version("orders", 2)
    registry.delete_version("orders", 2, permanent=True)
    registry.close()
    registry = Registry.from_url(db_url)
    try:
        assert registry.list_versions("orders", deleted=True) == [1]
        with pytest.raises(VersionNotFoundError):
            registry.get_version("orders", 2, deleted=True)
        assert registry.register("orders", schema("f9")).version == 3
    finally:
        registry.close()


def serve(db_url: str, port: int) -> None:
    """Run one API instance (this module as a script)."""
    import uvicorn

    from schemashift.api.app import create_app

    registry = Registry.from_url(db_url)
    app = create_app(registry, state={"sunset_sweep_seconds": 0})
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
