"""A registry process SIGKILLed at random points during registrations loses nothing.

A helper process (this module run as a script) imports the registry once and then, cycle
after cycle, forks a child that opens the SQLite registry and registers schemas as fast as
it can, appending one acknowledgement line per ``register()`` that returned; the helper
SIGKILLs the child after a random delay (so kills land during start-up, table
creation, inside write transactions and between them). Afterwards a fresh process state
checks every invariant the registry promises after a crash:

* every acknowledged version reads back identical (same id, same schema text);
* no id maps to two schemas and no schema has two ids; ids are never reused;
* (subject, version) is unique and versions are dense 1..N (no deletes here);
* every version has exactly one ``schema.updated`` outbox record (the outbox row is written
  in the version's transaction, so a crash cannot separate them);
* ``PRAGMA integrity_check`` is ``ok``.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SUBJECTS = ("orders", "payments", "shop/order.created", "users")
CYCLES = 300
MAX_KILL_DELAY = 0.03
COLD_KILL_DELAY = 0.4


def _no_checks() -> Any:
    from schemashift.registry.config import Compatibility, SubjectConfig

    return SubjectConfig(compatibility=Compatibility.NONE)


def schema_for(n: int) -> dict[str, Any]:
    """A family of distinct schemas; the same n on two subjects shares one global id."""
    return {
        "type": "object",
        "properties": {f"field_{n}": {"type": "integer"}, "id": {"type": "string"}},
        "required": ["id"],
    }


def registering_child(registry: Any, db_url: str, acks: Path, seed: int, ready_fd: int) -> None:
    """Register forever (until killed), acknowledging each returned registration."""
    from schemashift.registry.service import Registry

    rng = random.Random(seed)
    if registry is None:  # a cold start: engine, connection, table creation, all killable
        registry = Registry.from_url(db_url, defaults=_no_checks())
    else:  # forget the parent's pooled connections without touching them
        registry.store.engine.dispose(close=False)
    os.write(ready_fd, b"r")
    fd = os.open(acks, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    while True:
        subject = rng.choice(SUBJECTS)
        version = registry.register(subject, json.dumps(schema_for(rng.randrange(400))))
        acknowledge(fd, version)


def acknowledge(fd: int, version: Any) -> None:
    line = json.dumps(
        {
            "subject": version.subject,
            "version": version.version,
            "id": version.schema_id,
            "schema": version.schema_text,
        }
    )
    # One write() of one line with O_APPEND: a kill leaves the line whole or absent.
    os.write(fd, (line + "\n").encode())


def run_helper(db_url: str, acks: Path, cycles: int, seed: int) -> int:
    """Fork a registering child per cycle and SIGKILL it at a random moment.

    Most children reuse the registry opened here (so they reach registrations within a
    few milliseconds and the kill lands in or between write transactions); every eighth
    starts cold and is killed at any point of its start-up, table creation included.
    """
    from schemashift.registry.service import Registry

    registry = Registry.from_url(db_url, defaults=_no_checks())
    fd = os.open(acks, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    acknowledge(fd, registry.register("warm-up", json.dumps(schema_for(0))))  # warms imports
    registry.store.engine.dispose()
    rng = random.Random(seed)
    kills = 0
    for cycle in range(cycles):
        cold = cycle % 8 == 0
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which is killed
            try:
                os.close(ready_r)
                registering_child(
                    None if cold else registry, db_url, acks, seed * 100_000 + cycle, ready_w
                )
            finally:
                os._exit(1)
        os.close(ready_w)
        if cold:
            time.sleep(rng.uniform(0, COLD_KILL_DELAY))
        else:
            select.select([ready_r], [], [], 5.0)
            time.sleep(rng.uniform(0, MAX_KILL_DELAY))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        os.close(ready_r)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            kills += 1
        else:  # the child died on its own: an exception, printed on stderr
            return kills
    return kills


def read_acks(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.slow
def test_sigkill_during_registrations_loses_no_acknowledged_version(tmp_path: Path) -> None:
    """After CYCLES random SIGKILLs, every acknowledged version is intact and consistent."""
    db = tmp_path / "registry.db"
    acks = tmp_path / "acks.jsonl"
    db_url = f"sqlite:///{db}"
    seed = random.SystemRandom().randrange(2**32)
    helper = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.integration.test_faults_crash",
            db_url,
            str(acks),
            str(CYCLES),
            str(seed),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert helper.returncode == 0, helper.stderr[-2000:]
    kills = int(helper.stdout.strip())
    assert kills == CYCLES, f"seed {seed}: only {kills} of {CYCLES} children were SIGKILLed"

    acknowledged = read_acks(acks)
    assert len(acknowledged) >= 50, (
        f"seed {seed}: too few registrations to judge ({len(acknowledged)})"
    )

    from schemashift.registry.service import Registry

    registry = Registry.from_url(db_url)  # the "restart"
    try:
        schema_of_id: dict[int, str] = {}
        for ack in acknowledged:
            stored = registry.get_version(ack["subject"], ack["version"])
            assert (stored.schema_id, stored.schema_text) == (ack["id"], ack["schema"]), (
                f"seed {seed}"
            )
            assert registry.get_schema_by_id(ack["id"]).schema_text == ack["schema"]
            assert schema_of_id.setdefault(ack["id"], ack["schema"]) == ack["schema"], "id reused"
        # The registry still works after all that, and never hands out a used id again.
        after = registry.register("after-crash", json.dumps(schema_for(10_000)))
        assert after.schema_id not in schema_of_id
    finally:
        registry.close()

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        schema_rows = conn.execute("SELECT id, fingerprint, schema_text FROM ss_schemas").fetchall()
        assert len({r[1] for r in schema_rows}) == len(schema_rows), "a schema has two ids"
        assert len({r[2] for r in schema_rows}) == len(schema_rows)
        versions = conn.execute("SELECT subject, version, schema_id FROM ss_versions").fetchall()
        assert len({(s, v) for s, v, _ in versions}) == len(versions)
        by_subject: dict[str, list[int]] = defaultdict(list)
        for subject, version, _ in versions:
            by_subject[subject].append(version)
        for subject, numbers in by_subject.items():
            assert sorted(numbers) == list(range(1, len(numbers) + 1)), f"gap in {subject}"
        ids = {r[0] for r in schema_rows}
        assert all(schema_id in ids for _, _, schema_id in versions)
        outbox = Counter(
            (s, v)
            for s, v in conn.execute(
                "SELECT subject, version FROM ss_outbox WHERE kind = 'schema.updated'"
            )
        )
        assert outbox == Counter((s, v) for s, v, _ in versions), "version and outbox disagree"


if __name__ == "__main__":
    db_url_arg, acks_arg, cycles_arg, seed_arg = sys.argv[1:5]
    print(run_helper(db_url_arg, Path(acks_arg), int(cycles_arg), int(seed_arg)))
