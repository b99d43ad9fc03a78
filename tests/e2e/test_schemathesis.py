"""Property-based fuzzing of the whole OpenAPI document: no request gets a server error.

schemathesis generates requests for every documented operation (path parameters, query
strings, bodies — valid and invalid) and sends them to the ASGI app over a real registry.
A bounded run: a few examples per operation, so the suite stays fast.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from schemashift.api.app import create_app
from schemashift.registry.testing import memory_registry

schemathesis = pytest.importorskip("schemathesis")

pytestmark = pytest.mark.slow


def _app() -> Any:
    registry = memory_registry()
    registry.register("orders", {"type": "object", "properties": {"id": {"type": "string"}}})
    registry.register("shop/orders", {"type": "object"})
    return create_app(registry, state={"sunset_sweep_seconds": 0})


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_operation_answers_a_server_error(case: Any) -> None:
    """Every generated request gets a 2xx/4xx answer in the Confluent error shape."""
    response = case.call()
    assert response.status_code < 500, (case.method, case.formatted_path, response.text)
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error_code", "message"}, body
