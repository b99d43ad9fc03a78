"""Registry throughput against anchors on the same stack, measured in one run.

    python bench/bench_registry.py [--quick] [--seconds S] [--registrations N] [--no-postgres]

1. HTTP: requests/s of ``GET /schemas/ids/{id}`` (what every deserializer calls) against a
   bare FastAPI endpoint returning a small constant JSON object, both served by the same
   uvicorn process (one worker, no access log) on 127.0.0.1 and driven by the same
   keep-alive load generator (a separate process). Target ratio ≥ 0.7.
2. Registrations/s (new versions through ``Registry.register``, each one transaction with
   its outbox record) on SQLite (file, WAL) and PostgreSQL (pgserver), against an anchor of
   bare single-row INSERT + COMMIT transactions on the same database.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


# -- the server side (run in its own process) ---------------------------------------------------


def serve(port: int, db_url: str) -> None:
    import uvicorn
    from fastapi import APIRouter

    from schemashift.api.app import create_app
    from schemashift.registry.service import Registry

    registry = Registry.from_url(db_url)
    registry.register("bench/orders", {"type": "object", "properties": {"id": {"type": "string"}}})
    bare = APIRouter()

    @bare.get("/bare")
    async def bare_endpoint() -> dict[str, Any]:
        return {"schema": '{"type":"object"}', "schemaType": "JSON"}

    app = create_app(registry, routers=[bare], state={"sunset_sweep_seconds": 0})
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# -- the load generator -------------------------------------------------------------------------


async def _connection(port: int, path: str, stop_at: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n".encode()
    done = 0
    try:
        while time.perf_counter() < stop_at:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"{path}: {head[:60]!r}")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            done += 1
    finally:
        writer.close()
        counts.append(done)


async def _load(port: int, path: str, seconds: float, connections: int) -> float:
    counts: list[int] = []
    start = time.perf_counter()
    stop_at = start + seconds
    await asyncio.gather(*(_connection(port, path, stop_at, counts) for _ in range(connections)))
    return sum(counts) / (time.perf_counter() - start)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("the bench server did not start")


def bench_http(seconds: float, connections: int, tmp: Path) -> tuple[float, float]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), f"sqlite:///{tmp / 'http.db'}"]
    )
    try:
        _wait(port)
        asyncio.run(_load(port, "/schemas/ids/1", 0.5, connections))  # warm-up
        asyncio.run(_load(port, "/bare", 0.5, connections))
        # alternate the two, so drift of the shared machine affects both alike
        ours, bare = [], []
        for _ in range(2):
            ours.append(asyncio.run(_load(port, "/schemas/ids/1", seconds / 2, connections)))
            bare.append(asyncio.run(_load(port, "/bare", seconds / 2, connections)))
        return sum(ours) / len(ours), sum(bare) / len(bare)
    finally:
        server.terminate()
        server.wait(timeout=10)


# -- registrations ------------------------------------------------------------------------------


def bench_registrations(url: str, count: int) -> tuple[float, float]:
    from sqlalchemy import Column, Integer, MetaData, Table, Text, create_engine, insert

    from schemashift.registry.config import Compatibility, ConfigPatch
    from schemashift.registry.service import Registry

    registry = Registry.from_url(url)
    registry.set_config(None, ConfigPatch(compatibility=Compatibility.NONE))
    schemas = [
        {
            "type": "object",
            "properties": {f"field_{i}": {"type": "string"}, "id": {"type": "integer"}},
        }
        for i in range(count)
    ]
    start = time.perf_counter()
    for schema in schemas:
        registry.register("bench/registrations", schema)
    ours = count / (time.perf_counter() - start)
    registry.close()

    engine_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(engine_url)
    meta = MetaData()
    table = Table(
        "bench_anchor", meta, Column("id", Integer, primary_key=True), Column("body", Text)
    )
    meta.create_all(engine)
    start = time.perf_counter()
    for i, schema in enumerate(schemas):
        with engine.begin() as conn:
            conn.execute(insert(table).values(id=i, body=str(schema)))
    anchor = count / (time.perf_counter() - start)
    engine.dispose()
    return ours, anchor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (a few seconds)")
    parser.add_argument("--seconds", type=float, default=8.0, help="HTTP load seconds per endpoint")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--registrations", type=int, default=500)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(int(args.serve[0]), args.serve[1])
        return 0
    seconds = 2.0 if args.quick else args.seconds
    count = 100 if args.quick else args.registrations
    tmp = Path(tempfile.mkdtemp(prefix="schemashift-bench-"))
    try:
        ours, bare = bench_http(seconds, args.connections, tmp)
        print(f"GET /schemas/ids/{{id}}     {ours:10,.0f} req/s")
        print(f"bare FastAPI endpoint      {bare:10,.0f} req/s")
        print(f"ratio                      {ours / bare:10.2f}   (target >= 0.70)")
        lite, lite_anchor = bench_registrations(f"sqlite:///{tmp / 'reg.db'}", count)
        print(
            f"registrations/s SQLite     {lite:10,.0f}   (bare INSERT+COMMIT {lite_anchor:,.0f}/s, ratio {lite / lite_anchor:.2f})"
        )
        if not args.no_postgres:
            try:
                import pgserver
            except ImportError:
                print("registrations/s PostgreSQL skipped: pgserver not installed")
            else:
                pg_dir = tmp / "pg"
                server = pgserver.get_server(str(pg_dir), cleanup_mode="stop")
                try:
                    pg, pg_anchor = bench_registrations(server.get_uri(), count)
                    print(
                        f"registrations/s PostgreSQL {pg:10,.0f}   (bare INSERT+COMMIT {pg_anchor:,.0f}/s, ratio {pg / pg_anchor:.2f})"
                    )
                finally:
                    server.cleanup()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
