"""The real corpus through the whole pipeline: every payload's fate is right.

``shared/corpus``, one subject per file (``corpus/<family>-<file stem>``), posted as plain JSON
arrays of up to 200 to ``POST /v1/events?subject=…`` from 4 client threads, each file in its
own order — as a user would feed a new deployment — through ``schemashift serve`` on the
in-process bus, and through a worker on a real ``nats-server -js``. Pins:

* 0 dead letters left for well-formed payloads (an event may be a transient ``outlier`` until
  a later one gives its change support; it is then re-driven and conformed), 0 lost, 0
  duplicated;
* a version for every subject, and each subject's final version validates every payload of
  its file (the independent ``jsonschema`` validator);
* the same versions, schema for schema, over three runs on the memory bus and one on NATS.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import TypeVar

import httpx
import jsonschema
import orjson
import pytest

from schemashift.bus import connect_bus
from schemashift.bus.nats import NatsBus
from schemashift.server.settings import ServerSettings
from schemashift.server.testing import running_server
from tests.support.environment import corpus_files
from tests.support.polling import eventually
from tests.support.servers import NatsServer

pytestmark = [pytest.mark.corpus, pytest.mark.slow]

T = TypeVar("T")
BATCH = 200


@cache
def corpus() -> tuple[tuple[str, tuple[bytes, ...]], ...]:
    """(subject, lines) per corpus file."""
    return tuple(
        (
            f"corpus/{path.parent.name}-{path.stem}",
            tuple(line for line in path.read_bytes().splitlines() if line.strip()),
        )
        for path in corpus_files()
    )


def counter(http: httpx.Client, name: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in http.get("/metrics").text.splitlines()
        if line.startswith(name + "{")
    )


def post_file(base_url: str, subject: str, lines: tuple[bytes, ...]) -> int:
    with httpx.Client(base_url=base_url, timeout=60) as http:
        for start in range(0, len(lines), BATCH):
            body = b"[" + b",".join(lines[start : start + BATCH]) + b"]"
            answer = http.post(
                "/v1/events",
                params={"subject": subject},
                content=body,
                headers={"Content-Type": "application/json"},
            )
            assert answer.status_code == 202, answer.text
            assert answer.json()["rejected"] == [], answer.text
    return len(lines)


Conformed = Callable[[httpx.Client], float]


def conformed_here(http: httpx.Client) -> float:
    """Conformed events, as the server's own worker counts them."""
    return counter(http, "schemashift_events_conformed_total")


def run_corpus(
    settings: ServerSettings, conformed_count: Conformed = conformed_here
) -> dict[str, list[str]]:
    """Post the corpus, wait until every event is settled, check each fate; the versions."""
    files = corpus()
    total = sum(len(lines) for _, lines in files)
    with running_server(settings) as server, httpx.Client(base_url=server.url) as http:
        with ThreadPoolExecutor(4) as pool:
            posted = sum(pool.map(lambda f: post_file(server.url, *f), files))
        assert posted == total
        # settled: every event conformed (re-driven outliers included) and nothing held
        eventually(lambda: conformed_count(http) >= total, within=240)
        time.sleep(1.0)  # any late second output would show up now
        conformed = conformed_count(http)
        dead = http.get("/v1/dead-letters", params={"state": "dead", "limit": 1000}).json()
        parked = http.get("/v1/dead-letters", params={"state": "parked", "limit": 1000}).json()
        assert dead["items"] == [], [
            (d["subject"], d["reason"], d["message"]) for d in dead["items"]
        ]
        assert parked["items"] == []
        assert conformed == total  # none lost, none doubled (a re-driven one counts once)
        versions: dict[str, list[str]] = {}
        for subject, lines in files:
            numbers = server.registry.list_versions(subject)
            assert numbers, f"{subject} has no version"
            versions[subject] = [
                server.registry.get_version(subject, n).schema_text for n in numbers
            ]
            final = server.registry.get_version(subject, "latest").schema
            validator = jsonschema.Draft202012Validator(final)
            for line in lines:
                errors = [e.message for e in validator.iter_errors(orjson.loads(line))]
                assert errors == [], (subject, errors[:3])
        return versions


def test_the_corpus_through_serve_three_times_then_through_nats(
    tmp_path: Path, nats_server: NatsServer
) -> None:
    runs = []
    for run in range(3):
        settings = ServerSettings(db_url=f"sqlite:///{tmp_path / f'memory-{run}.db'}", port=0)
        runs.append(run_corpus(settings))
    assert runs[0] == runs[1] == runs[2]
    # on NATS: the server takes the HTTP ingest and relays, a `schemashift worker` process
    # conforms (one worker: one order of judgement, as on the memory bus)
    database = tmp_path / "nats.db"
    on_nats = ServerSettings(
        db_url=f"sqlite:///{database}", port=0, bus_url=nats_server.url, workers=0
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from schemashift.cli import entry; entry()",
            "worker",
            "--bus",
            nats_server.url,
            "--db",
            f"sqlite:///{database}",
            "--no-relay",
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert run_corpus(on_nats, lambda _: nats_conformed(nats_server.url)) == runs[0]
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err.decode()
    assert sum(len(v) for v in runs[0].values()) >= len(runs[0])


def nats_conformed(url: str) -> float:
    """Messages on the conformed stream of the NATS server at ``url``."""

    async def count() -> float:
        bus = await connect_bus(url)
        assert isinstance(bus, NatsBus)
        try:
            info = await bus.client.jetstream().stream_info("SCHEMASHIFT_EVENTS")
            return float(info.state.messages)
        finally:
            await bus.close()

    return asyncio.run(count())
