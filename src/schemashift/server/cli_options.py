"""``schemashift serve`` options and entry: every flag maps to a :class:`ServerSettings` field.

``cli/serve.py`` delegates here (``configure`` / ``serve_from_args``), and ``schemashift run``
reuses the same path with the demo switched on. Flags default to ``None`` so that an absent
flag lets the ``SCHEMASHIFT_*`` environment variable (or the built-in default) apply.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any, TextIO

from schemashift.errors import SchemaShiftError
from schemashift.monitoring.logs import configure_logging
from schemashift.server.settings import ServerSettings

__all__ = ["configure", "serve", "serve_from_args", "settings_from_args"]

# argparse destination -> ServerSettings field
_FIELDS = {
    "db": "db_url",
    "bus": "bus_url",
    "host": "host",
    "port": "port",
    "registry_url": "registry_url",
    "bus_prefix": "bus_prefix",
    "workers": "workers",
    "relay": "relay",
    "ui": "ui",
    "demo": "demo",
    "demo_rate": "demo_rate",
    "auth_config": "auth_config",
    "insecure": "insecure",
    "log_format": "log_format",
    "log_level": "log_level",
    "json_duplicates": "json_duplicates",
}


def configure(parser: argparse.ArgumentParser) -> None:
    d = ServerSettings()
    parser.add_argument("--db", metavar="URL", help=f"registry database URL (default {d.db_url})")
    parser.add_argument(
        "--bus", metavar="URL", help=f"bus URL: memory:// or nats://host:port (default {d.bus_url})"
    )
    parser.add_argument("--host", help=f"address to listen on (default {d.host})")
    parser.add_argument(
        "--port", type=int, help=f"port to listen on, 0 for any free one (default {d.port})"
    )
    parser.add_argument(
        "--registry-url",
        metavar="URL",
        help="this registry's address as clients see it (default http://HOST:PORT)",
    )
    parser.add_argument(
        "--bus-prefix",
        metavar="PREFIX",
        help=f"prefix of the bus subjects and streams (default {d.bus_prefix})",
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help=f"stream workers in this process; 0 for an API-only instance (default {d.workers})",
    )
    parser.add_argument(
        "--no-relay",
        dest="relay",
        action="store_const",
        const=False,
        help="do not relay the outbox to the bus nor dispatch webhooks here",
    )
    parser.add_argument(
        "--no-ui",
        dest="ui",
        action="store_const",
        const=False,
        help="serve the API without the web UI",
    )
    demo = parser.add_mutually_exclusive_group()
    demo.add_argument(
        "--demo",
        dest="demo",
        action="store_const",
        const=True,
        help="feed the demo event generator into the ingest endpoint",
    )
    demo.add_argument(
        "--no-demo",
        dest="demo",
        action="store_const",
        const=False,
        help="no demo producer (the default of serve; run starts the demo unless told so)",
    )
    parser.add_argument(
        "--demo-rate",
        type=float,
        metavar="EVENTS_PER_S",
        help=f"demo events per second (default {d.demo_rate:g})",
    )
    parser.add_argument(
        "--auth-config",
        type=Path,
        metavar="PATH",
        help="users, tokens and rights (see the security docs); default: no authentication",
    )
    parser.add_argument(
        "--insecure",
        action="store_const",
        const=True,
        help="allow serving without --auth-config on a non-loopback address (not recommended)",
    )
    parser.add_argument(
        "--log-format", choices=("json", "text"), help=f"log line format (default {d.log_format})"
    )
    parser.add_argument("--log-level", metavar="LEVEL", help=f"log level (default {d.log_level})")
    parser.add_argument(
        "--json-duplicates",
        choices=("last_wins", "reject"),
        help="a key repeated in an event payload: keep the last value, or refuse the event "
        f"(duplicate_key) at ingest and in the workers (default {d.json_duplicates})",
    )


def settings_from_args(args: argparse.Namespace, **overrides: Any) -> ServerSettings:
    values = {name: getattr(args, dest, None) for dest, name in _FIELDS.items()}
    values.update(overrides)
    return ServerSettings.from_env(**values)


def serve_from_args(
    args: argparse.Namespace,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    **overrides: Any,
) -> int:
    """Run the server until SIGINT/SIGTERM; the exit code says how it ended."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    try:
        settings = settings_from_args(args, **overrides)
    except ValueError as exc:
        err.write(f"schemashift serve: {exc}\n")
        return 2
    return serve(settings, out, err)


def serve(settings: ServerSettings, stdout: TextIO, stderr: TextIO) -> int:
    configure_logging(stderr, level=settings.log_level, fmt=settings.log_format)
    try:
        asyncio.run(_serve(settings, stdout))
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        stderr.write(
            f"schemashift serve: cannot listen on {settings.host}:{settings.port}: {exc}\n"
        )
        return 1
    except SchemaShiftError as exc:
        stderr.write(f"schemashift serve: {type(exc).__name__}: {exc}\n")
        return 1
    return 0


async def _serve(settings: ServerSettings, stdout: TextIO) -> None:
    from schemashift.server.app import SchemaShiftServer

    server = SchemaShiftServer(settings)
    try:
        await server.start()
        server.install_signal_handlers()
        stdout.write(_banner(server))
        stdout.flush()
        await server.wait()
    finally:
        await server.stop()


def _banner(server: Any) -> str:
    s: ServerSettings = server.settings
    lines = [
        f"schemashift is running at {server.url}/",
        f"  store  {s.db_url}",
        f"  bus    {s.bus_url}",
        f"  ingest POST {server.url}/v1/events   metrics {server.url}/metrics",
    ]
    if s.demo:
        lines.append(f"  demo   {s.demo_rate:g} events/s of generated traffic, drift included")
    lines.append("Press Ctrl+C to stop.")
    return "\n".join(lines) + "\n"
