"""schemathesis over the OpenAPI document with auth on: no server error, for any caller.

Three bounded runs against the ASGI app over a real (in-memory SQLite) registry with
``install_auth``:

* every operation as an admin, with schemathesis' checks (server errors, response shapes);
* every operation as a reader limited to ``orders`` — the hiding and filtering paths of the
  auth middleware meet random paths, queries and bodies;
* the stateful workflow schemathesis infers from the document's links (register, then
  read, look up, check, delete what was registered), as an admin.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from schemashift.api.app import create_app
from schemashift.bus import MemoryBus
from schemashift.registry.dead_letters import DeadLetter
from schemashift.registry.testing import ManualClock, memory_registry
from schemashift.security import install_auth, parse_auth_config
from schemashift.security.hashing import ScryptParameters, hash_password

schemathesis = pytest.importorskip("schemathesis")

pytestmark = pytest.mark.slow

FAST = ScryptParameters(n=16, r=1, p=1)


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


ADMIN = basic("admin", "admin-pw")
READER = basic("reader", "reader-pw")


def dead_letter(n: int, subject: str | None, data: bytes) -> DeadLetter:
    return DeadLetter(
        msg_id=f"SCHEMASHIFT_RAW:{n}",
        subject=subject,
        reason="type_mismatch",
        message="not conformable",
        path="/id",
        details=(),
        quarantine_id=None,
        headers={},
        data=data,
        raw_subject="schemashift.raw.in",
        raw_seq=n,
        time=ManualClock().now,
    )


def _app() -> Any:
    registry = memory_registry()
    registry.register("orders", {"type": "object", "properties": {"id": {"type": "string"}}})
    registry.register("secret", {"type": "object", "properties": {"pin": {"type": "string"}}})
    # dead letters the reader must never see: `secret`'s, and one of no known subject
    registry.record_dead_letters(
        [
            dead_letter(1, "orders", b'{"id": "1"}'),
            dead_letter(2, "secret", b'{"pin": "1234"}'),
            dead_letter(3, None, b'{"pin": "5678"}'),
        ]
    )
    app = create_app(registry, state={"sunset_sweep_seconds": 0, "bus": MemoryBus()})
    install_auth(
        app,
        parse_auth_config(
            {
                "users": [
                    {
                        "name": "admin",
                        "password": hash_password("admin-pw", params=FAST),
                        "grants": [{"subjects": "*", "rights": ["read", "write", "admin"]}],
                    },
                    {
                        "name": "reader",
                        "password": hash_password("reader-pw", params=FAST),
                        "grants": [{"subjects": "orders", "rights": ["read"]}],
                    },
                ]
            }
        ),
    )
    return app


EXCLUDED_CHECKS = [
    schemathesis.checks.positive_data_acceptance,
    schemathesis.checks.unsupported_method,
]
schema = schemathesis.openapi.from_asgi("/openapi.json", _app(), headers=ADMIN)
BOUNDED = settings(
    max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)


@schema.parametrize()
@BOUNDED
def test_no_operation_fails_for_an_admin(case: Any) -> None:
    """As an admin, with schemathesis' checks on (status codes, content types and response
    bodies as documented): no 5xx, and errors keep the Confluent shape. A schema-valid
    request may still be refused (a subject that does not exist, a schema given as text
    that is not JSON Schema), so the "positive data acceptance" check stays off; and since a
    subject name may contain "/" (`POST /subjects/{subject:path}` is Confluent's lookup), a POST
    to any deeper path is a lookup of that name, not an undeclared method."""
    response = case.call_and_validate(headers=ADMIN, excluded_checks=EXCLUDED_CHECKS)
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])
    if response.status_code >= 400:
        assert set(response.json()) == {"error_code", "message"}


@schema.parametrize()
@BOUNDED
def test_no_operation_fails_or_leaks_for_a_reader(case: Any) -> None:
    """As a reader of `orders` only: no 5xx, and `secret`'s schema never shows up."""
    response = case.call(headers=READER)
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])
    assert b'"pin"' not in response.content and b'\\"pin\\"' not in response.content


class AdminWorkflow(schema.as_state_machine()):  # type: ignore[misc]
    def get_call_kwargs(self, case: Any) -> dict[str, Any]:
        return {"headers": ADMIN}

    def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
        assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])
        case.validate_response(response, excluded_checks=EXCLUDED_CHECKS)


TestAdminWorkflow = AdminWorkflow.TestCase
TestAdminWorkflow.settings = settings(
    max_examples=15,
    stateful_step_count=6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
