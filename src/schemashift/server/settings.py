"""What one ``schemashift serve`` process runs, and where it keeps things.

Every setting has an embedded default (a SQLite file, the in-process bus, 127.0.0.1:8081),
so ``schemashift serve`` needs no set-up; switching ``db_url`` to ``postgresql://…`` and
``bus_url`` to ``nats://…`` gives the distributed set-up without other changes. Settings are
read from command-line flags first, then ``SCHEMASHIFT_*`` environment variables
(:meth:`ServerSettings.from_env`), then these defaults.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from schemashift.core.jsonparse import DEFAULT_LIMITS, DuplicateKeys, ParseLimits

__all__ = ["ENV_PREFIX", "JsonDuplicates", "LogFormat", "ServerSettings"]

ENV_PREFIX = "SCHEMASHIFT_"

LogFormat = Literal["json", "text"]
JsonDuplicates = Literal["last_wins", "reject"]  # the DuplicateKeys values

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class ServerSettings:
    """The configuration of one server process (see docs/readme/serve.md for the reference)."""

    db_url: str = "sqlite:///./schemashift.db"
    bus_url: str = "memory://"
    host: str = "127.0.0.1"
    port: int = 8081
    # The address clients use to reach this registry (put into ``dataschema`` of conformed
    # CloudEvents); behind a load balancer it differs from host:port.
    registry_url: str | None = None
    bus_prefix: str = "schemashift"
    # Which parts this process runs. The all-in-one default runs everything; in the
    # distributed set-up API instances run with workers=0 and worker processes without the UI.
    workers: int = 1
    relay: bool = True
    ui: bool = True
    demo: bool = False
    demo_rate: float = 40.0  # events per second fed by the demo producer
    demo_seed: int = 7
    # the demo's drift schedule repeats every this many seconds of traffic (the forbidden
    # change arrives at 80 % of it: ~32 s after start with the default)
    demo_cycle_seconds: float = 40.0
    auth_config: Path | None = None
    # serving without auth beyond loopback is refused unless this says it is on purpose
    insecure: bool = False
    log_format: LogFormat = "json"
    log_level: str = "INFO"
    # A key repeated in an event payload: keep the last value (what JSON.parse does; real
    # webhooks repeat keys) or refuse the event (duplicate_key). Applies to HTTP ingest and
    # the workers; registry request bodies and schemas always refuse repeated keys.
    json_duplicates: JsonDuplicates = "last_wins"
    # A subscriber (or the raw stream) more than this many messages behind is logged as lagging.
    lag_warning: int = 1000
    monitor_interval: float = 1.0  # seconds between outbox/lag checks of the monitor task
    # seconds to reach the bus at start before giving up (a NATS client alone retries forever)
    bus_connect_timeout: float = 10.0
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be within 0..65535, got {self.port}")
        if self.workers < 0:
            raise ValueError(f"workers must be >= 0, got {self.workers}")
        if self.demo_rate <= 0:
            raise ValueError(f"demo_rate must be > 0 events/s, got {self.demo_rate}")
        if self.demo_cycle_seconds <= 0:
            raise ValueError(f"demo_cycle_seconds must be > 0, got {self.demo_cycle_seconds}")
        if self.bus_connect_timeout <= 0:
            raise ValueError(f"bus_connect_timeout must be > 0 s, got {self.bus_connect_timeout}")
        if self.monitor_interval <= 0:
            raise ValueError(f"monitor_interval must be > 0 s, got {self.monitor_interval}")
        if self.log_format not in ("json", "text"):
            raise ValueError(f"log_format must be 'json' or 'text', got {self.log_format!r}")
        if self.json_duplicates not in tuple(DuplicateKeys):
            raise ValueError(
                f"json_duplicates must be 'last_wins' or 'reject', got {self.json_duplicates!r}"
            )
        if self.demo and self.auth_config is not None:
            # the demo producer posts to /v1/events without credentials
            raise ValueError(
                "the demo cannot run with an auth config; drop --demo or --auth-config"
            )
        if "://" not in self.db_url:
            raise ValueError(f"db_url must be a URL such as sqlite:///./x.db, got {self.db_url!r}")
        if "://" not in self.bus_url:
            raise ValueError(f"bus_url must be a URL such as memory://, got {self.bus_url!r}")

    @property
    def public_url(self) -> str:
        """The registry's address as clients see it (``registry_url``, else host and port)."""
        if self.registry_url:
            return self.registry_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def event_limits(self) -> ParseLimits:
        """The limits event payloads are read with, at HTTP ingest and in the workers."""
        return replace(DEFAULT_LIMITS, duplicate_keys=DuplicateKeys(self.json_duplicates))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ServerSettings:
        """Defaults, overridden by ``SCHEMASHIFT_<FIELD>`` variables, overridden by ``overrides``.

        ``overrides`` whose value is ``None`` are ignored, so argparse results can be passed
        straight through (an absent flag does not mask the environment).
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in fields(cls):
            if spec.name == "extra":
                continue
            raw = env.get(ENV_PREFIX + spec.name.upper())
            if raw is not None:
                values[spec.name] = _parse(spec.name, spec.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_port(self, port: int) -> ServerSettings:
        """A copy listening on ``port`` (used once an ephemeral port 0 is bound)."""
        return replace(self, port=port)


def _parse(name: str, annotation: object, raw: str) -> Any:
    kind = str(annotation)
    if kind.startswith("int"):
        return int(raw)
    if kind.startswith("float"):
        return float(raw)
    if kind.startswith("bool"):
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"{ENV_PREFIX}{name.upper()} must be true or false, got {raw!r}")
    if kind.startswith("Path"):
        return Path(raw) if raw else None
    if kind.startswith("str | None"):
        return raw or None
    return raw
