"""confluent-kafka's Schema Registry client, serializer and deserializer, unchanged, against
a real schemashift server (uvicorn on a loopback port).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from schemashift.api.app import create_app
from schemashift.core.jsonparse import json_type_name
from schemashift.registry.service import Registry
from tests.support.servers import free_port, wait_for_port

confluent = pytest.importorskip("confluent_kafka.schema_registry")
json_schema = pytest.importorskip("confluent_kafka.schema_registry.json_schema")
serialization = pytest.importorskip("confluent_kafka.serialization")

Schema = confluent.Schema
SchemaRegistryClient = confluent.SchemaRegistryClient
SchemaRegistryError = confluent.error.SchemaRegistryError


class ServerThread:
    """uvicorn serving the app in a thread; stopped by setting ``should_exit``."""

    def __init__(self, registry: Registry) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            create_app(registry, state={"sunset_sweep_seconds": 0}),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        assert wait_for_port(self.port), "the registry server did not start"
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture()
def registry_url(tmp_path: Path) -> Iterator[str]:
    registry = Registry.from_url(f"sqlite:///{tmp_path / 'registry.db'}")
    with ServerThread(registry) as url:
        yield url
    registry.close()


@pytest.fixture()
def client(registry_url: str) -> Iterator[Any]:
    sr_client = SchemaRegistryClient({"url": registry_url})
    yield sr_client
    sr_client.close()  # its HTTP connection pool, or the sockets leak into later tests


def order_schema(*extra: str) -> str:
    properties = {"id": {"type": "string"}, "total": {"type": "number"}}
    properties.update({name: {"type": "string"} for name in extra})
    return json.dumps({"type": "object", "properties": properties, "required": ["id"]})


def test_register_fetch_lookup_and_versions(client: Any) -> None:
    """The client's register/get/lookup/list calls get Confluent-shaped answers."""
    schema_id = client.register_schema("shop/orders", Schema(order_schema(), "JSON"))
    assert client.register_schema("shop/orders", Schema(order_schema(), "JSON")) == schema_id
    fetched = client.get_schema(schema_id)
    assert fetched.schema_type == "JSON"
    assert json.loads(fetched.schema_str) == json.loads(order_schema())
    latest = client.get_latest_version("shop/orders")
    assert (latest.version, latest.schema_id, latest.subject) == (1, schema_id, "shop/orders")
    assert client.get_version("shop/orders", 1).schema_id == schema_id
    found = client.lookup_schema("shop/orders", Schema(order_schema(), "JSON"))
    assert found.version == 1
    assert client.get_subjects() == ["shop/orders"]
    assert client.get_versions("shop/orders") == [1]
    assert client.get_subjects_by_schema_id(schema_id) == ["shop/orders"]
    assert [(v.subject, v.version) for v in client.get_schema_versions(schema_id)] == [
        ("shop/orders", 1)
    ]
    assert client.get_schema_types() == ["JSON"]


def test_compatibility_and_config(client: Any) -> None:
    """Compatibility tests and levels through the client, refusals as SchemaRegistryError."""
    client.register_schema("orders", Schema(order_schema(), "JSON"))
    assert client.set_compatibility("orders", "NONE") == {"compatibility": "NONE"}
    assert client.get_compatibility("orders") == "NONE"
    assert client.get_compatibility() == "BACKWARD"
    assert client.test_compatibility("orders", Schema(order_schema("note"), "JSON")) is True
    assert client.test_compatibility_all_versions("orders", Schema(order_schema(), "JSON")) is True
    with pytest.raises(SchemaRegistryError) as info:
        client.get_version("orders", 9)
    assert (info.value.http_status_code, info.value.error_code) == (404, 40402)
    with pytest.raises(SchemaRegistryError) as invalid:
        client.register_schema("orders", Schema('{"type": "nonsense"}', "JSON"))
    assert invalid.value.error_code == 42201


def test_backward_compatibility_is_enforced(client: Any) -> None:
    """Under the default BACKWARD a new required field is refused (409); relaxing is fine."""
    client.register_schema("orders", Schema(order_schema(), "JSON"))
    stricter = json.dumps(
        {
            "type": "object",
            "properties": {"id": {"type": "string"}, "total": {"type": "number"}},
            "required": ["id", "total"],
        }
    )
    relaxed = json.dumps(
        {"type": "object", "properties": {"id": {"type": "string"}, "total": {"type": "number"}}}
    )
    assert client.test_compatibility("orders", Schema(stricter, "JSON")) is False
    assert client.test_compatibility("orders", Schema(relaxed, "JSON")) is True
    with pytest.raises(SchemaRegistryError) as info:
        client.register_schema("orders", Schema(stricter, "JSON"))
    assert (info.value.http_status_code, info.value.error_code) == (409, 409)
    assert client.register_schema("orders", Schema(relaxed, "JSON")) == 2
    assert client.get_latest_version("orders").version == 2


def test_modes_through_the_client(client: Any) -> None:
    assert client.get_global_mode() == "READWRITE"
    assert client.update_mode("orders", "READONLY") == "READONLY"
    assert client.get_mode("orders") == "READONLY"
    with pytest.raises(SchemaRegistryError) as info:
        client.register_schema("orders", Schema(order_schema(), "JSON"))
    assert info.value.error_code == 42205
    assert client.delete_mode("orders") == "READONLY"


def test_delete_soft_then_permanent(client: Any) -> None:
    client.set_compatibility(level="NONE")
    client.register_schema("orders", Schema(order_schema(), "JSON"))
    client.register_schema("orders", Schema(order_schema("note"), "JSON"))
    assert client.delete_version("orders", 2) == 2
    assert client.get_versions("orders") == [1]
    with pytest.raises(SchemaRegistryError) as info:
        client.delete_subject("orders", permanent=True)
    assert info.value.error_code == 40405
    assert client.delete_subject("orders") == [1]
    assert client.delete_subject("orders", permanent=True) == [1, 2]
    assert client.get_subjects() == []


def _schema_for(payloads: list[dict[str, Any]]) -> dict[str, Any]:
    """A plain JSON Schema for these payloads: top-level types seen, keys always present."""
    types: dict[str, set[str]] = {}
    for payload in payloads:
        for key, value in payload.items():
            kind = json_type_name(value)
            types.setdefault(key, set()).update({kind, "number"} if kind == "integer" else {kind})
    required = [k for k in types if all(k in p for p in payloads)]
    return {
        "type": "object",
        "properties": {k: {"type": sorted(v)} for k, v in sorted(types.items())},
        "required": sorted(required),
    }


@pytest.mark.corpus
def test_serializer_deserializer_round_trip_of_corpus_payloads(
    client: Any, corpus_files: list[Path]
) -> None:
    """Real GitHub webhook payloads survive JSONSerializer → bytes → JSONDeserializer.

    The bytes use Confluent's wire format: magic byte 0 and the 4-byte big-endian schema id
    the registry assigned; the deserializer fetches the schema by that id from us.
    """
    chosen = [
        p for p in corpus_files if p.stem in {"push", "issues", "pull_request"}
    ] or corpus_files[:3]
    topic = "github"
    ctx = serialization.SerializationContext(topic, serialization.MessageField.VALUE)
    checked = 0
    for path in chosen:
        payloads = [json.loads(line) for line in path.read_text().splitlines()[:20] if line.strip()]
        schema = json.dumps(_schema_for(payloads))
        client.set_compatibility(level="NONE")
        serializer = json_schema.JSONSerializer(
            schema, client, conf={"subject.name.strategy.type": "TOPIC"}
        )
        deserializer = json_schema.JSONDeserializer(None, schema_registry_client=client)
        for payload in payloads:
            framed = serializer(payload, ctx)
            assert framed[0] == 0
            schema_id = int.from_bytes(framed[1:5], "big")
            assert client.get_schema(schema_id).schema_str is not None
            assert deserializer(framed, ctx) == payload
            checked += 1
    assert checked >= 3
    assert client.get_versions(f"{topic}-value") == list(range(1, len(chosen) + 1))


def serve_command(db_url: str, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from schemashift.cli import entry; entry()",
            "serve",
            "--db",
            db_url,
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    finally:
        if process.stderr is not None:
            process.stderr.close()


def test_schemashift_serve_persists_across_restarts(tmp_path: Path) -> None:
    """`schemashift serve --db sqlite:///…` answers the client; a restarted server on the
    same file still has the schema, and the next version continues the numbering."""
    db_url = f"sqlite:///{tmp_path / 'served.db'}"
    for round_number in (1, 2):
        port = free_port()
        process = serve_command(db_url, port)
        try:
            assert wait_for_port(port, timeout=30), "schemashift serve did not listen"
            with SchemaRegistryClient({"url": f"http://127.0.0.1:{port}"}) as sr_client:
                sr_client.set_compatibility(level="NONE")
                sr_client.register_schema(
                    "orders", Schema(order_schema(f"v{round_number}"), "JSON")
                )
                assert sr_client.get_versions("orders") == list(range(1, round_number + 1))
        finally:
            stop(process)


def test_serve_refuses_an_unusable_database_url() -> None:
    from schemashift.cli import main

    out, err = io.StringIO(), io.StringIO()
    assert main(["serve", "--db", "mysql://nowhere/x"], out, err) == 1
    assert "unsupported database URL 'mysql'" in err.getvalue()
