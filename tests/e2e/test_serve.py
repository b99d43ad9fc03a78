"""`schemashift serve` / `run` as a whole: one process serving API, UI, probes and metrics.

The server is real (uvicorn on a loopback port, SQLite file, in-process bus); requests go over
HTTP with httpx. The CLI test runs the command in a subprocess and stops it with SIGTERM, as
an orchestrator would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from schemashift.server.settings import ServerSettings
from schemashift.server.testing import running_server

CLI = "import sys; from schemashift.cli import main; sys.exit(main(sys.argv[1:]))"


@pytest.fixture()
def settings(tmp_path: Path) -> ServerSettings:
    return ServerSettings(db_url=f"sqlite:///{tmp_path / 'serve.db'}", port=0, workers=1)


def test_one_process_serves_api_ui_probes_and_metrics(settings: ServerSettings) -> None:
    """The composed app answers the Confluent API, the UI, /healthz, /readyz and /metrics."""
    with running_server(settings) as server, httpx.Client(base_url=server.url) as http:
        assert server.url.startswith("http://127.0.0.1:")
        assert http.get("/healthz").json() == {"status": "ok"}
        assert http.get("/readyz").json()["checks"] == {"store": "ok", "bus": "ok"}
        assert http.get("/subjects").json() == []
        page = http.get("/", headers={"Accept": "text/html"})
        assert "<title>schemashift" in page.text
        assert http.get("/ui/api/subjects").json()["subjects"] == []
        assert "schemashift_events_in_total" in http.get("/metrics").text
        # a schema registered through the Confluent API shows up in the UI's list
        schema = {"type": "object", "properties": {"id": {"type": "string"}}}
        answer = http.post(
            "/subjects/shop%2Forder/versions",
            json={"schemaType": "JSON", "schema": json.dumps(schema)},
        )
        assert answer.status_code == 200, answer.text
        rows = http.get("/ui/api/subjects").json()["subjects"]
        assert [(r["subject"], r["latest_version"]) for r in rows] == [("shop/order", 1)]
        assert "schemashift_quarantines_open 0.0" in http.get("/metrics").text


def test_a_taken_port_is_a_clear_error(settings: ServerSettings) -> None:
    """Starting a second server on the same port fails at start, not later."""
    with running_server(settings) as first:
        port = int(first.url.rsplit(":", 1)[1])
        with pytest.raises(OSError), running_server(settings.with_port(port)):
            pass


@pytest.fixture()
def cli_process(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ, "SCHEMASHIFT_LOG_FORMAT": "json"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CLI,
            "run",
            "--no-demo",
            "--port",
            "0",
            "--db",
            f"sqlite:///{tmp_path / 'cli.db'}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


@pytest.mark.slow
def test_cli_prints_the_url_and_stops_cleanly_on_sigterm(
    cli_process: subprocess.Popen[str],
) -> None:
    """`schemashift run` prints where it serves; SIGTERM stops every part and exits 0."""
    assert cli_process.stdout is not None
    first = cli_process.stdout.readline()
    assert first.startswith("schemashift is running at http://127.0.0.1:"), first
    url = first.split(" at ", 1)[1].strip().rstrip("/")
    assert httpx.get(f"{url}/healthz").status_code == 200
    cli_process.send_signal(signal.SIGTERM)
    _, err = cli_process.communicate(timeout=30)
    assert cli_process.returncode == 0, err
    events = [json.loads(line)["event"] for line in err.splitlines() if line.startswith("{")]
    assert events[-1] == "server.stopped"
    assert "server.started" in events


def test_no_open_registry_on_a_network_interface(tmp_path: Path) -> None:
    """Serving without --auth-config beyond loopback is refused before anything binds."""
    from schemashift.security.exposure import InsecureExposureError

    settings = ServerSettings(db_url=f"sqlite:///{tmp_path / 'x.db'}", host="0.0.0.0", port=0)
    with pytest.raises(InsecureExposureError), running_server(settings):
        pass


def test_the_ui_obeys_the_auth_config(tmp_path: Path) -> None:
    """With --auth-config the UI needs credentials and shows only readable subjects."""
    from schemashift.security.hashing import hash_token, new_token

    reader = new_token()
    config = tmp_path / "auth.json"
    config.write_text(
        json.dumps(
            {
                "tokens": [
                    {
                        "name": "shop-reader",
                        "token": hash_token(reader),
                        "grants": [{"subjects": "shop/*", "rights": ["read"]}],
                    }
                ]
            }
        )
    )
    settings = ServerSettings(
        db_url=f"sqlite:///{tmp_path / 'auth.db'}", port=0, auth_config=config
    )
    with running_server(settings) as server, httpx.Client(base_url=server.url) as http:
        server.registry.register("shop/order", {"type": "object"})
        server.registry.register("hr/salary", {"type": "object"})
        assert http.get("/ui/api/subjects").status_code == 401
        headers = {"Authorization": f"Bearer {reader}"}
        rows = http.get("/ui/api/subjects", headers=headers).json()["subjects"]
        assert [r["subject"] for r in rows] == ["shop/order"]
        detail = http.get("/ui/api/subject", params={"subject": "hr/salary"}, headers=headers)
        assert detail.status_code == 404  # answered as if it did not exist: names do not leak
        accept = http.post("/ui/api/quarantine/1/accept", headers=headers)
        assert accept.status_code == 403
        assert http.get("/healthz").status_code == 200  # probes stay public


def test_an_unreachable_bus_is_a_clear_start_up_error(tmp_path: Path) -> None:
    """`--bus nats://` pointing at nothing fails at start with exit code 1 and says why."""
    from tests.support.servers import free_port

    result = subprocess.run(
        [sys.executable, "-c", CLI, "run", "--no-demo", "--port", "0",
         "--db", f"sqlite:///{tmp_path / 'x.db'}", "--bus", f"nats://127.0.0.1:{free_port()}"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SCHEMASHIFT_BUS_CONNECT_TIMEOUT": "1.5"},
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "BusError" in result.stderr and "within 1.5s" in result.stderr
    assert "schemashift is running" not in result.stdout
