"""PostgreSQL restarted under load: retryable 503s, no partial rows, recovery in place.

A private PostgreSQL (pgserver, in a temporary directory, so the shared test server is not
disturbed) serves one registry API process while a client registers and reads without
pause. The database is stopped for four seconds — longer than the store's own retries — and
started again. The API process is never restarted.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from schemashift.registry.service import Registry
from tests.integration.test_faults_registry import api_instance, relaxed
from tests.support.environment import unavailable

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

DOWNTIME = 4.0


class PrivatePostgres:
    def __init__(self) -> None:
        try:
            import pgserver
        except ImportError:
            unavailable("PostgreSQL: the pgserver package is not installed")
        self._pgserver = pgserver
        self.directory = tempfile.mkdtemp(prefix="schemashift-pg-restart-")
        self.server = pgserver.get_server(self.directory, cleanup_mode="stop")
        self.url = str(self.server.get_uri())

    def stop(self) -> None:
        self.server.cleanup()

    def start(self) -> None:
        self.server = self._pgserver.get_server(self.directory, cleanup_mode="stop")
        assert str(self.server.get_uri()) == self.url

    def close(self) -> None:
        self.server.cleanup()
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture()
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        yield server
    finally:
        server.close()


def test_a_postgres_restart_under_load_gives_503s_then_recovers_in_place(
    private_postgres: PrivatePostgres,
) -> None:
    """Only 200 and 503 are answered; writes resume after the restart; rows stay whole."""
    url = private_postgres.url
    relaxed(url)
    statuses: Counter[int] = Counter()
    acknowledged: list[tuple[int, int, str]] = []  # version, id, field
    phase = {"restarted": False}
    after_restart = 0
    stop = threading.Event()

    def load(base: str) -> None:
        nonlocal after_restart
        with httpx.Client(base_url=base, timeout=30) as http:
            i = 0
            while not stop.is_set():
                name = f"f{i}"
                body = {
                    "schema": json.dumps(
                        {"type": "object", "properties": {name: {"type": "string"}}}
                    )
                }
                response = http.post("/subjects/orders/versions", json=body)
                statuses[response.status_code] += 1
                if response.status_code == 200:
                    latest = http.get("/subjects/orders/versions/latest")
                    statuses[latest.status_code] += 1
                    if latest.status_code == 200:
                        acknowledged.append((latest.json()["version"], response.json()["id"], name))
                    if phase["restarted"]:
                        after_restart += 1
                i += 1

    with api_instance(url) as base:
        worker = threading.Thread(target=load, args=(base,))
        worker.start()
        try:
            deadline = time.monotonic() + 60
            while len(acknowledged) < 30 and time.monotonic() < deadline:
                time.sleep(0.05)
            private_postgres.stop()
            time.sleep(DOWNTIME)
            private_postgres.start()
            phase["restarted"] = True
            while after_restart < 30 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            stop.set()
            worker.join(timeout=60)
    assert set(statuses) <= {200, 503}, statuses
    assert statuses[503] >= 1, "the outage was never visible: the test did not test anything"
    assert after_restart >= 30, "writes did not resume without restarting the API process"

    registry = Registry.from_url(url)
    try:
        versions = registry.list_versions("orders")
        assert versions == list(range(1, len(versions) + 1))
        for version, schema_id, name in acknowledged:
            stored = registry.get_version("orders", version)
            assert stored.schema_id == schema_id and name in stored.schema_text
        outbox = [r for r in registry.read_outbox(0, 10_000) if r.kind.value == "schema.updated"]
        assert sorted(r.version for r in outbox) == versions, "a version without its outbox record"
    finally:
        registry.close()
