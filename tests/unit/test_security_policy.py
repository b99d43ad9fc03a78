"""The route → right table, its fail-closed defaults, and the loopback rule for serve."""

from __future__ import annotations

import pytest

from schemashift.security.config import Right
from schemashift.security.exposure import (
    InsecureExposureError,
    is_loopback,
    require_auth_for_host,
)
from schemashift.security.policy import AccessKind, access_for, normalize_template


@pytest.mark.parametrize(
    ("method", "template", "kind", "right"),
    [
        ("GET", "/healthz", AccessKind.PUBLIC, Right.READ),
        ("GET", "/readyz", AccessKind.PUBLIC, Right.READ),
        ("GET", "/metrics", AccessKind.GLOBAL, Right.READ),
        ("GET", "/subjects", AccessKind.FILTERED_LIST, Right.READ),
        ("GET", "/subjects/{subject:path}/versions", AccessKind.SUBJECT, Right.READ),
        ("GET", "/subjects/{subject}/versions/{version}/schema", AccessKind.SUBJECT, Right.READ),
        ("POST", "/subjects/{subject}/versions", AccessKind.SUBJECT, Right.WRITE),
        ("POST", "/subjects/{subject}", AccessKind.SUBJECT, Right.READ),
        ("DELETE", "/subjects/{subject}", AccessKind.SUBJECT, Right.ADMIN),
        ("DELETE", "/subjects/{subject}/versions/{version}", AccessKind.SUBJECT, Right.ADMIN),
        ("GET", "/schemas/ids/{id:int}", AccessKind.SCHEMA_ID, Right.READ),
        ("GET", "/schemas/ids/{id}/subjects", AccessKind.SCHEMA_ID, Right.READ),
        ("GET", "/schemas/types", AccessKind.AUTHENTICATED, Right.READ),
        ("GET", "/config", AccessKind.AUTHENTICATED, Right.READ),
        ("PUT", "/config", AccessKind.GLOBAL, Right.ADMIN),
        ("PUT", "/mode", AccessKind.GLOBAL, Right.ADMIN),
        ("GET", "/config/{subject}", AccessKind.SUBJECT, Right.READ),
        ("PUT", "/config/{subject:path}", AccessKind.SUBJECT, Right.ADMIN),
        ("DELETE", "/mode/{subject}", AccessKind.SUBJECT, Right.ADMIN),
        (
            "POST",
            "/compatibility/subjects/{subject}/versions/{version}",
            AccessKind.SUBJECT,
            Right.READ,
        ),
        ("POST", "/v1/events", AccessKind.INGEST, Right.WRITE),
        ("POST", "/v1/subjects/{subject}/observe", AccessKind.SUBJECT, Right.WRITE),
        ("GET", "/v1/webhooks", AccessKind.GLOBAL, Right.ADMIN),
        ("DELETE", "/v1/webhooks/{webhook_id}", AccessKind.GLOBAL, Right.ADMIN),
        ("GET", "/ui/api/subject", AccessKind.SUBJECT, Right.READ),
        ("GET", "/ui/static/{name}", AccessKind.AUTHENTICATED, Right.READ),
        ("GET", "/v1/dead-letters", AccessKind.SUBJECT, Right.READ),  # ?subject=, or filtered
        ("GET", "/v1/dead-letters/counts", AccessKind.SUBJECT, Right.READ),
        ("GET", "/v1/dead-letters/{dead_letter_id}", AccessKind.RECORD, Right.READ),
        ("POST", "/v1/dead-letters/replay", AccessKind.BODY_SUBJECT, Right.WRITE),
        ("DELETE", "/v1/dead-letters/{dead_letter_id}", AccessKind.GLOBAL, Right.ADMIN),
        # defaults for routes the table does not name: closed
        ("GET", "/v1/something/new", AccessKind.GLOBAL, Right.READ),
        ("POST", "/v1/something/new", AccessKind.GLOBAL, Right.ADMIN),
        ("PATCH", "/v1/subjects/{subject}/anything", AccessKind.SUBJECT, Right.ADMIN),
        ("OPTIONS", "/healthz", AccessKind.GLOBAL, Right.ADMIN),
    ],
)
def test_route_table(method: str, template: str, kind: AccessKind, right: Right) -> None:
    """Each known route needs the documented right; unknown ones fail closed."""
    access = access_for(method, template)
    assert (access.kind, access.right) == (kind, right)


def test_only_the_dead_letter_list_answers_filtered_without_a_subject() -> None:
    """Listing dead letters without ?subject= filters; counting them needs read on `*`."""
    assert access_for("GET", "/v1/dead-letters").filter_list
    assert not access_for("GET", "/v1/dead-letters/counts").filter_list
    assert not access_for("GET", "/ui/api/subject").filter_list


def test_metrics_can_be_made_public() -> None:
    """`public_metrics = true` opens /metrics (for a scraper) and nothing else."""
    assert access_for("GET", "/metrics", public_metrics=True).kind is AccessKind.PUBLIC
    assert access_for("GET", "/subjects", public_metrics=True).kind is AccessKind.FILTERED_LIST


def test_converters_are_stripped_from_templates() -> None:
    """`{subject:path}` and `{id:int}` name the same parameters as `{subject}` and `{id}`."""
    assert normalize_template("/s/{subject:path}/v/{id:int}") == "/s/{subject}/v/{id}"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("10.0.0.5", False),
        ("example.com", False),
        ("localhost.example.com", False),
        ("::ffff:10.0.0.1", False),
    ],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    """Only literal loopback addresses and `localhost` count; no DNS is consulted."""
    assert is_loopback(host) is loopback


def test_serving_without_auth_beyond_loopback_is_refused() -> None:
    """No auth on 0.0.0.0 raises unless --insecure; loopback or auth config is fine."""
    with pytest.raises(InsecureExposureError, match="--insecure"):
        require_auth_for_host("0.0.0.0", None, insecure=False)
    require_auth_for_host("0.0.0.0", None, insecure=True)
    require_auth_for_host("127.0.0.1", None, insecure=False)


def test_an_auth_config_makes_any_address_acceptable() -> None:
    """With auth configured, serving on 0.0.0.0 needs no --insecure."""
    from schemashift.security.config import parse_auth_config
    from schemashift.security.hashing import ScryptParameters, hash_password

    config = parse_auth_config(
        {
            "users": [
                {
                    "name": "a",
                    "password": hash_password("p", params=ScryptParameters(n=16, r=1, p=1)),
                }
            ]
        }
    )
    require_auth_for_host("0.0.0.0", config, insecure=False)
    require_auth_for_host("::", config, insecure=False)
