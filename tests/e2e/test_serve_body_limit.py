"""`schemashift serve` bounds every request body: a registration declaring more than the
limit is a 413 before any route reads it, and the server keeps answering."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from schemashift.security.limits import DEFAULT_MAX_BODY_BYTES
from schemashift.server.settings import ServerSettings
from schemashift.server.testing import running_server


def declared_oversized_request(url: str) -> bytes:
    """Send only the head of a request whose Content-Length exceeds the limit; return the
    answer. (Streaming 8 MiB at a server that already refused it races its close.)"""
    parts = urlsplit(url)
    head = (
        "POST /subjects/orders/versions HTTP/1.1\r\n"
        f"Host: {parts.hostname}:{parts.port}\r\n"
        "Content-Type: application/vnd.schemaregistry.v1+json\r\n"
        f"Content-Length: {DEFAULT_MAX_BODY_BYTES + 1}\r\n"
        "\r\n"
    ).encode()
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), 10) as sock:
        sock.sendall(head)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer


def test_oversized_body_is_413_and_the_server_stays_up(tmp_path: Path) -> None:
    settings = ServerSettings(db_url=f"sqlite:///{tmp_path / 'serve.db'}", port=0, workers=1)
    with running_server(settings) as server:
        answer = declared_oversized_request(server.url)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        with httpx.Client(base_url=server.url, timeout=30) as http:
            ok = http.post(
                "/subjects/orders/versions",
                json={"schema": '{"type": "object"}'},
                headers={"Content-Type": "application/vnd.schemaregistry.v1+json"},
            )
        assert ok.status_code == 200, ok.text
        assert ok.json() == {"id": 1}
