"""Bounded load test on loopback: 200 clients, 10 % writes, two API instances on PostgreSQL.

    python bench/bench_load.py            # 8 s per scenario
    python bench/bench_load.py --quick    # 3 s per scenario
    SCHEMASHIFT_BENCH_PG_URL=postgresql://… python bench/bench_load.py   # an existing server

Scenarios, each with the same 200 concurrent keep-alive clients (one asyncio process):

* anchor — a bare FastAPI app on uvicorn answering a constant: the ceiling of this HTTP stack
  and load generator on this machine;
* registry — two schemashift API processes on one PostgreSQL, clients split between them;
  90 % reads (latest version, schema by id, subject list), 10 % writes (a new schema each);
* registry + auth — the same with ``install_auth`` and HTTP Basic on every request.

Printed: requests/s, p50 and p99 latency, status counts, and the ratio to the anchor. After
each registry scenario the database is checked: no 5xx was answered, every acknowledged
write is exactly one version, versions are dense per subject, no id maps to two schemas.
Requests are capped in time and count, and every server started here is stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
CLIENTS = 200
SUBJECTS = 20
WRITE_SHARE = 0.10
MAX_REQUESTS = 200_000

ANCHOR_APP = """
import sys, uvicorn
from fastapi import FastAPI
app = FastAPI()
@app.get("/subjects/{subject}/versions/latest")
def latest(subject: str) -> dict:
    return {"subject": subject, "version": 1, "id": 1, "schema": "{}"}
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""

REGISTRY_APP = """
import json, sys, uvicorn
from schemashift.api.app import create_app
from schemashift.registry.service import Registry
registry = Registry.from_url(sys.argv[2])
app = create_app(registry, state={"sunset_sweep_seconds": 0})
if sys.argv[3] != "-":
    from schemashift.security import install_auth, parse_auth_config
    install_auth(app, parse_auth_config(json.loads(open(sys.argv[3]).read())))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def process(code: str, *args: str) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", code, str(port), *args], cwd=REPO)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def postgres() -> Iterator[str]:
    url = os.environ.get("SCHEMASHIFT_BENCH_PG_URL")
    if url:
        yield url
        return
    import pgserver

    tmp = tempfile.mkdtemp(prefix="schemashift-bench-pg-")
    server = pgserver.get_server(tmp, cleanup_mode="stop")
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def fresh_database(server_url: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"bench_{uuid.uuid4().hex[:12]}"
    url = make_url(server_url)
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    write_latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    writes: list[tuple[str, int, str]] = field(default_factory=list)  # subject, id, field
    elapsed: float = 0.0

    @property
    def count(self) -> int:
        return len(self.latencies)

    def line(self, name: str, anchor: float | None) -> str:
        ordered = sorted(self.latencies)
        p50 = ordered[len(ordered) // 2] * 1000
        p99 = ordered[int(len(ordered) * 0.99)] * 1000
        rate = self.count / self.elapsed
        ratio = f"  {rate / anchor:5.2f}x anchor" if anchor else ""
        codes = " ".join(f"{k}:{v}" for k, v in sorted(self.statuses.items()))
        line = (
            f"{name:<16} {rate:9.0f} req/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  [{codes}]{ratio}"
        )
        if self.write_latencies:
            writes = sorted(self.write_latencies)
            w_rate = len(writes) / self.elapsed
            w99 = writes[int(len(writes) * 0.99)] * 1000
            line += f"\n{'':<16} writes {w_rate:6.0f}/s  p99 {w99:6.1f} ms (serialised on one lock)"
        return line


class Connection:
    """One keep-alive HTTP/1.1 connection: a minimal client, so that 200 of them in one
    process measure the servers rather than a client library's pool bookkeeping."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.host, port = url.removeprefix("http://").split(":")
        self.port = int(port)
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.extra}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()


async def drive(
    urls: list[str], seconds: float, *, headers: dict[str, str], writes: bool
) -> Result:
    result = Result()
    deadline = time.monotonic() + seconds

    async def one_client(n: int) -> None:
        rng = random.Random(n)
        conn = Connection(urls[n % len(urls)], headers)
        i = 0
        try:
            while time.monotonic() < deadline and result.count < MAX_REQUESTS:
                subject = f"s{rng.randrange(SUBJECTS)}"
                started = time.perf_counter()
                if writes and rng.random() < WRITE_SHARE:
                    name = f"c{n}_{i}"
                    schema = json.dumps(
                        {"type": "object", "properties": {name: {"type": "string"}}}
                    )
                    status, body = await conn.request(
                        "POST",
                        f"/subjects/{subject}/versions",
                        json.dumps({"schema": schema}).encode(),
                    )
                    if status == 200:
                        result.writes.append((subject, json.loads(body)["id"], name))
                    result.write_latencies.append(time.perf_counter() - started)
                else:
                    kind = rng.random()
                    path = (
                        f"/subjects/{subject}/versions/latest"
                        if kind < 0.6 or not writes
                        else "/schemas/ids/1"
                        if kind < 0.9
                        else "/subjects"
                    )
                    status, _ = await conn.request("GET", path)
                result.latencies.append(time.perf_counter() - started)
                result.statuses[status] += 1
                i += 1
        finally:
            await conn.close()

    started = time.monotonic()
    await asyncio.gather(*(one_client(n) for n in range(CLIENTS)))
    result.elapsed = time.monotonic() - started
    return result


def check_database(db_url: str, result: Result) -> str:
    from schemashift.registry.service import Registry

    assert not any(code >= 500 for code in result.statuses), f"server errors: {result.statuses}"
    registry = Registry.from_url(db_url)
    try:
        ids: dict[int, str] = {}
        for subject in registry.list_subjects():
            versions = registry.list_versions(subject)
            assert versions == list(range(1, len(versions) + 1)), f"gap in {subject}"
            for number in versions:
                stored = registry.get_version(subject, number)
                assert ids.setdefault(stored.schema_id, stored.schema_text) == stored.schema_text
        per_subject = Counter(subject for subject, _, _ in result.writes)
        for subject, count in per_subject.items():
            assert len(registry.list_versions(subject)) == count + 1, f"duplicate in {subject}"
        assert len({i for _, i, _ in result.writes}) == len(result.writes), (
            "an id acknowledged twice"
        )
    finally:
        registry.close()
    return (
        f"checked: {len(result.writes)} writes, each exactly one version; no 5xx, no duplicate id"
    )


def prepare(db_url: str) -> None:
    from schemashift.registry.config import Compatibility, ConfigPatch
    from schemashift.registry.service import Registry

    registry = Registry.from_url(db_url)
    registry.set_config(None, ConfigPatch(compatibility=Compatibility.NONE))
    for s in range(SUBJECTS):
        registry.register(f"s{s}", {"type": "object", "properties": {"seed": {"type": "string"}}})
    registry.close()


def auth_file(directory: Path) -> tuple[Path, dict[str, str]]:
    from schemashift.security.hashing import hash_password

    path = directory / "auth.json"
    document = {
        "users": [
            {
                "name": "bench",
                "password": hash_password("bench-pw"),
                "grants": [{"subjects": "*", "rights": ["read", "write"]}],
            }
        ]
    }
    path.write_text(json.dumps(document))
    return path, {"Authorization": "Basic " + base64.b64encode(b"bench:bench-pw").decode()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s per scenario instead of 8")
    args = parser.parse_args(argv)
    seconds = 3.0 if args.quick else 8.0
    print(
        f"{CLIENTS} clients, {seconds:g} s per scenario, {int(WRITE_SHARE * 100)} % writes on the registry"
    )
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        anchor_url = stack.enter_context(process(ANCHOR_APP))
        anchor = asyncio.run(drive([anchor_url], seconds, headers={}, writes=False))
        print(anchor.line("anchor (bare)", None))
        anchor_rate = anchor.count / anchor.elapsed
        server = stack.enter_context(postgres())
        auth_path, auth_headers = auth_file(tmp)
        for name, auth in (("registry", "-"), ("registry + auth", str(auth_path))):
            db_url = fresh_database(server)
            prepare(db_url)
            with process(REGISTRY_APP, db_url, auth) as a, process(REGISTRY_APP, db_url, auth) as b:
                headers = auth_headers if auth != "-" else {}
                result = asyncio.run(drive([a, b], seconds, headers=headers, writes=True))
            print(result.line(name, anchor_rate))
            print(" " * 17 + check_database(db_url, result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
