"""``schemashift serve``: run the registry's HTTP API (Confluent-compatible and ``/v1``).

    schemashift serve [--db URL] [--host H] [--port P]

The database defaults to the SQLite file ``./schemashift.db`` (created on first use);
``--db postgresql://user@host/db`` lets several registry processes share one database.
"""

from __future__ import annotations

import argparse
from typing import TextIO

DEFAULT_DB = "sqlite:///./schemashift.db"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8081


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        default=DEFAULT_DB,
        metavar="URL",
        help=f"registry database URL (default {DEFAULT_DB})",
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )


def run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    import uvicorn

    from schemashift.api.app import create_app
    from schemashift.errors import StoreError
    from schemashift.registry.service import Registry

    try:
        registry = Registry.from_url(args.db)
    except StoreError as exc:
        stderr.write(f"schemashift serve: cannot open the registry database: {exc}\n")
        return 1
    stdout.write(f"schemashift registry on http://{args.host}:{args.port} (database {args.db})\n")
    stdout.flush()
    try:
        uvicorn.run(create_app(registry), host=args.host, port=args.port, log_level=args.log_level)
    finally:
        registry.close()
    return 0
