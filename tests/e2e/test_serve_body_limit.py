"""`schemashift serve` bounds every request body: an oversized registration is a 413
before any route reads it, and the server keeps answering."""

from __future__ import annotations

from pathlib import Path

import httpx

from schemashift.security.limits import DEFAULT_MAX_BODY_BYTES
from schemashift.server.settings import ServerSettings
from schemashift.server.testing import running_server


def test_oversized_body_is_413_and_the_server_stays_up(tmp_path: Path) -> None:
    settings = ServerSettings(db_url=f"sqlite:///{tmp_path / 'serve.db'}", port=0, workers=1)
    huge = b'{"schema": "' + b"x" * (DEFAULT_MAX_BODY_BYTES + 1) + b'"}'
    with running_server(settings) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        answer = http.post(
            "/subjects/orders/versions",
            content=huge,
            headers={"Content-Type": "application/vnd.schemaregistry.v1+json"},
        )
        assert answer.status_code == 413
        ok = http.post(
            "/subjects/orders/versions",
            json={"schema": '{"type": "object"}'},
            headers={"Content-Type": "application/vnd.schemaregistry.v1+json"},
        )
        assert ok.status_code == 200, ok.text
        assert ok.json() == {"id": 1}
