"""``schemashift serve``: the all-in-one server.

    schemashift serve [--db URL] [--bus URL] [--host H] [--port P] [--demo] …

One process runs the registry's HTTP API (Confluent-compatible and ``/v1``), the ingest
endpoint, the stream worker(s), the outbox relay, the webhook dispatcher and the web UI, on
embedded defaults (SQLite file ``./schemashift.db``, in-process bus). ``--db postgresql://…``
and ``--bus nats://…`` switch to the distributed set-up without other changes. The options
themselves live in :mod:`schemashift.server.cli_options`, shared with ``schemashift run``.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from schemashift.server import cli_options


def configure(parser: argparse.ArgumentParser) -> None:
    cli_options.configure(parser)


def run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    return cli_options.serve_from_args(args, stdout, stderr)
