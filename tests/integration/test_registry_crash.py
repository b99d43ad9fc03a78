"""A registry process killed (SIGKILL) in the middle of registrations leaves every version
fully present or absent: its schema, its version row and its outbox record commit together.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from schemashift.registry.config import Compatibility, ConfigPatch
from schemashift.registry.records import OutboxKind
from schemashift.registry.service import Registry
from tests.integration.test_store_contract import fresh_database

pytestmark = pytest.mark.slow

# registers field_0, field_1, … (continuing where the last run stopped) until killed
WRITER = textwrap.dedent(
    """
    import sys
    from schemashift.registry.service import Registry
    registry = Registry.from_url(sys.argv[1])
    n = len(registry.list_versions("orders")) if registry.list_subjects() else 0
    while True:
        registry.register("orders", {"type": "object", "properties": {f"field_{n}": {"type": "string"}}})
        n += 1
    """
)


def kill_mid_run(url: str, at_least: int) -> None:
    """Start a writer, wait until ``at_least`` more versions exist, then SIGKILL it."""
    probe = Registry.from_url(url)
    start = len(probe.read_outbox(0, 100_000))
    process = subprocess.Popen([sys.executable, "-c", WRITER, url], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while len(probe.read_outbox(start, 100_000)) < at_least:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the writer made no progress"
            time.sleep(0.02)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        if process.stderr is not None:
            process.stderr.close()
        probe.close()


def assert_all_or_nothing(url: str) -> int:
    registry = Registry.from_url(url)
    versions = registry.list_versions("orders")
    assert versions == list(range(1, len(versions) + 1))
    records = [r for r in registry.read_outbox(0, 100_000) if r.kind is OutboxKind.SCHEMA_UPDATED]
    assert [r.version for r in records] == versions
    for record, number in zip(records, versions, strict=True):
        version = registry.get_version("orders", number)
        # version n holds field_{n-1}: nothing half-written, nothing from another attempt
        assert version.schema == {
            "type": "object",
            "properties": {f"field_{number - 1}": {"type": "string"}},
        }
        assert record.schema_id == version.schema_id
        assert record.schema == version.schema
        assert registry.get_schema_by_id(version.schema_id).schema_text == version.schema_text
    registry.close()
    return len(versions)


def crash_rounds(url: str) -> None:
    setup = Registry.from_url(url)
    setup.set_config(None, ConfigPatch(compatibility=Compatibility.NONE))
    setup.close()
    total = 0
    for _ in range(3):
        kill_mid_run(url, at_least=15)
        after = assert_all_or_nothing(url)
        assert after >= total + 15
        total = after


def test_sqlite_survives_kill_minus_nine(tmp_path: Path) -> None:
    crash_rounds(f"sqlite:///{tmp_path / 'registry.db'}")


@pytest.mark.postgres
def test_postgres_survives_kill_minus_nine(postgres_url: str) -> None:
    crash_rounds(fresh_database(postgres_url))
