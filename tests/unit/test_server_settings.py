"""ServerSettings: embedded defaults, environment overrides, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemashift.server.settings import ServerSettings


def test_embedded_defaults() -> None:
    """With nothing configured the server runs on SQLite, the memory bus and 127.0.0.1:8081."""
    settings = ServerSettings.from_env({})
    assert settings.db_url == "sqlite:///./schemashift.db"
    assert settings.bus_url == "memory://"
    assert (settings.host, settings.port) == ("127.0.0.1", 8081)
    assert settings.public_url == "http://127.0.0.1:8081"
    assert settings.demo is False


def test_environment_then_flags() -> None:
    """SCHEMASHIFT_* variables override defaults; explicit values override the environment,
    and a flag left as None does not mask the environment."""
    env = {
        "SCHEMASHIFT_DB_URL": "postgresql://u@h/db",
        "SCHEMASHIFT_BUS_URL": "nats://127.0.0.1:4222",
        "SCHEMASHIFT_PORT": "9000",
        "SCHEMASHIFT_DEMO": "yes",
        "SCHEMASHIFT_DEMO_RATE": "12.5",
    }
    settings = ServerSettings.from_env(env, port=9100, bus_url=None)
    assert settings.db_url == "postgresql://u@h/db"
    assert settings.bus_url == "nats://127.0.0.1:4222"
    assert settings.port == 9100
    assert settings.demo is True
    assert settings.demo_rate == 12.5
    secured = ServerSettings.from_env({"SCHEMASHIFT_AUTH_CONFIG": "/etc/schemashift/auth.toml"})
    assert secured.auth_config == Path("/etc/schemashift/auth.toml")


def test_registry_url_is_the_public_address() -> None:
    """Behind a load balancer the public URL is the configured one, without a trailing slash."""
    settings = ServerSettings(registry_url="https://registry.example/")
    assert settings.public_url == "https://registry.example"
    assert ServerSettings(host="::1", port=80).public_url == "http://[::1]:80"


@pytest.mark.parametrize(
    "bad",
    [
        {"port": 70000},
        {"workers": -1},
        {"demo_rate": 0},
        {"db_url": "schemashift.db"},
        {"bus_url": "localhost:4222"},
        {"log_format": "xml"},
        {"demo": True, "auth_config": Path("auth.toml")},
        {"bus_connect_timeout": 0},
    ],
)
def test_invalid_settings_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ServerSettings(**bad)  # type: ignore[arg-type]


def test_a_bad_boolean_in_the_environment_is_refused() -> None:
    with pytest.raises(ValueError, match="SCHEMASHIFT_DEMO"):
        ServerSettings.from_env({"SCHEMASHIFT_DEMO": "maybe"})


def test_json_duplicates_is_checked() -> None:
    """Only the two duplicate-key policies are settings; the limits keep the event bounds."""
    from schemashift.core.jsonparse import DEFAULT_LIMITS, DuplicateKeys

    with pytest.raises(ValueError, match="json_duplicates"):
        ServerSettings.from_env({"SCHEMASHIFT_JSON_DUPLICATES": "first"})
    limits = ServerSettings(json_duplicates="reject").event_limits
    assert limits.duplicate_keys is DuplicateKeys.REJECT
    assert limits.max_bytes == DEFAULT_LIMITS.max_bytes
    assert ServerSettings().event_limits == DEFAULT_LIMITS
