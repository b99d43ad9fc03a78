"""confluent-kafka's Schema Registry client with ``basic.auth.user.info`` against a real
uvicorn server with auth on: it registers, fetches and round-trips events with the right
password, is refused with the wrong one, and cannot see subjects outside its grants.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from schemashift.api.app import create_app
from schemashift.registry.service import Registry
from schemashift.security import install_auth, parse_auth_config
from schemashift.security.hashing import ScryptParameters, hash_password
from tests.support.servers import free_port, wait_for_port

confluent = pytest.importorskip("confluent_kafka.schema_registry")
json_schema = pytest.importorskip("confluent_kafka.schema_registry.json_schema")
serialization = pytest.importorskip("confluent_kafka.serialization")

Schema = confluent.Schema
SchemaRegistryClient = confluent.SchemaRegistryClient
SchemaRegistryError = confluent.error.SchemaRegistryError

FAST = ScryptParameters(n=16, r=1, p=1)
PRODUCER = "producer:pr0ducer-pässword"  # non-ASCII on purpose: UTF-8 in Basic credentials


def auth_config() -> Any:
    return parse_auth_config(
        {
            "users": [
                {
                    "name": "producer",
                    "password": hash_password("pr0ducer-pässword", params=FAST),
                    "grants": [
                        {"subjects": "shop/*", "rights": ["read", "write"]},
                        {"subjects": "shop.*", "rights": ["read", "write"]},  # topic-value subjects
                    ],
                },
                {
                    "name": "admin",
                    "password": hash_password("admin", params=FAST),
                    "grants": [{"subjects": "*", "rights": ["read", "write", "admin"]}],
                },
            ]
        }
    )


@pytest.fixture()
def registry_url(tmp_path: Path) -> Iterator[str]:
    registry = Registry.from_url(f"sqlite:///{tmp_path / 'registry.db'}")
    app = create_app(registry, state={"sunset_sweep_seconds": 0})
    install_auth(app, auth_config())
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        assert wait_for_port(port), "the registry server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        registry.close()


def make_client(url: str, user_info: str | None) -> Any:
    config = {"url": url}
    if user_info is not None:
        config["basic.auth.user.info"] = user_info
    return SchemaRegistryClient(config)


@pytest.fixture()
def producer(registry_url: str) -> Iterator[Any]:
    client = make_client(registry_url, PRODUCER)
    yield client
    client.close()


def order_schema() -> str:
    return json.dumps(
        {
            "type": "object",
            "properties": {"id": {"type": "string"}, "total": {"type": "number"}},
            "required": ["id"],
        }
    )


def test_the_client_works_with_basic_auth(producer: Any) -> None:
    """register, get_schema, get_latest_version and lookup all pass with the right password."""
    schema_id = producer.register_schema("shop/orders", Schema(order_schema(), "JSON"))
    assert json.loads(producer.get_schema(schema_id).schema_str) == json.loads(order_schema())
    latest = producer.get_latest_version("shop/orders")
    assert (latest.schema_id, latest.version) == (schema_id, 1)
    found = producer.lookup_schema("shop/orders", Schema(order_schema(), "JSON"))
    assert found.version == 1
    assert producer.get_subjects() == ["shop/orders"]


def test_the_json_serde_round_trips_through_an_authenticated_registry(producer: Any) -> None:
    """The JSON serializer auto-registers and the deserializer fetches by id, both with auth."""
    serializer = json_schema.JSONSerializer(order_schema(), producer)
    deserializer = json_schema.JSONDeserializer(order_schema(), schema_registry_client=producer)
    context = serialization.SerializationContext("shop.orders", serialization.MessageField.VALUE)
    event = {"id": "o-1", "total": 12.5}
    data = serializer(event, context)
    assert deserializer(data, context) == event


@pytest.mark.parametrize("user_info", [None, "producer:wrong", "nobody:pr0ducer-pässword"])
def test_missing_or_wrong_credentials_are_401(registry_url: str, user_info: str | None) -> None:
    """Without credentials or with a wrong password the client gets HTTP 401."""
    client = make_client(registry_url, user_info)
    try:
        with pytest.raises(SchemaRegistryError) as refused:
            client.get_subjects()
        assert refused.value.http_status_code == 401
    finally:
        client.close()


def test_subjects_outside_the_grant_look_missing_to_the_client(
    registry_url: str, producer: Any
) -> None:
    """The producer cannot register outside `shop/*` (403) and sees `billing` as absent."""
    admin = make_client(registry_url, "admin:admin")
    try:
        admin.register_schema("billing", Schema(order_schema(), "JSON"))
        with pytest.raises(SchemaRegistryError) as forbidden:
            producer.register_schema("billing", Schema(order_schema(), "JSON"))
        assert forbidden.value.http_status_code == 403
        with pytest.raises(SchemaRegistryError) as hidden:
            producer.get_latest_version("billing")
        assert (hidden.value.http_status_code, hidden.value.error_code) == (404, 40401)
        assert producer.get_subjects() == []
    finally:
        admin.close()
