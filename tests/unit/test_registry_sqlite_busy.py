"""A locked SQLite database is retried, and never surfaces as an internal server error."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from schemashift.api.app import create_app
from schemashift.errors import StoreError
from schemashift.registry.service import Registry
from schemashift.registry.sqlstore import SqlStore
from schemashift.registry.testing import ManualClock


def hold_write_lock(path: Path) -> sqlite3.Connection:
    """Another process's writer: an open BEGIN IMMEDIATE transaction on the file."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    return conn


def test_writes_wait_for_the_lock_and_then_succeed(tmp_path: Path) -> None:
    """A short-lived lock held elsewhere delays a registration; it does not fail it."""
    path = tmp_path / "r.db"
    registry = Registry(
        SqlStore(f"sqlite:///{path}", busy_timeout_ms=20, retries=10), clock=ManualClock()
    )
    blocker = hold_write_lock(path)
    release = threading.Timer(0.2, blocker.rollback)
    release.start()
    try:
        assert registry.register("s", {"type": "object"}).version == 1
    finally:
        release.join()
        blocker.close()
        registry.close()


def test_a_lock_outlasting_the_retries_is_a_store_error_and_a_503(tmp_path: Path) -> None:
    """When retries run out the caller gets StoreError; over HTTP a 503 with 50001."""
    path = tmp_path / "r.db"
    registry = Registry(
        SqlStore(f"sqlite:///{path}", busy_timeout_ms=10, retries=1), clock=ManualClock()
    )
    blocker = hold_write_lock(path)
    try:
        with pytest.raises(StoreError, match=r"busy|locked"):
            registry.register("s", {"type": "object"})
        with TestClient(create_app(registry, state={"sunset_sweep_seconds": 0})) as client:
            response = client.post("/subjects/s/versions", json={"schema": '{"type": "object"}'})
            assert client.get("/subjects").status_code == 200  # WAL: readers are not blocked
        assert response.status_code == 503
        assert response.json()["error_code"] == 50001
    finally:
        blocker.rollback()
        blocker.close()
    assert registry.register("s", {"type": "object"}).version == 1
    registry.close()


def test_unknown_database_urls_are_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        SqlStore("mysql://localhost/x")
    with pytest.raises(StoreError):
        SqlStore("not a url")
    with pytest.raises(StoreError):
        SqlStore(f"sqlite:///{tmp_path}/missing/dir/r.db")
