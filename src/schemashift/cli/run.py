"""`schemashift run`: the main job, what `make run` starts.

- ``schemashift run`` serves everything on the embedded defaults (SQLite file, in-process bus,
  http://127.0.0.1:8081/) with the demo producer streaming generated events, drift included,
  and prints the URL. Every ``serve`` flag applies (``--port``, ``--db``, ``--no-demo``, …).
- ``schemashift run --file F`` prints an inference report for a JSON Lines file instead.
- ``schemashift run --report-only`` prints that report for generated events (no server).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from schemashift.server import cli_options

REPORT_EVENTS = 2000  # generated events the --report-only report is made from


def configure(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--file",
        type=Path,
        metavar="F",
        help="print an inference report for this JSON Lines file instead of serving",
    )
    mode.add_argument(
        "--report-only",
        action="store_true",
        help=f"print an inference report for {REPORT_EVENTS} generated events instead of serving",
    )
    cli_options.configure(parser)


def run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    if args.file is not None:
        return _report_file(args.file, stdout, stderr)
    if args.report_only:
        return _report_generated(stdout, stderr)
    # the main job: the demo is on unless --no-demo says otherwise
    demo = True if args.demo is None else args.demo
    return cli_options.serve_from_args(args, stdout, stderr, demo=demo)


def _report_file(path: Path, stdout: TextIO, stderr: TextIO) -> int:
    from schemashift.cli import infer

    if not path.is_file():
        stderr.write(f"schemashift run: no such file: {path}\n")
        return 2
    with path.open("rb") as handle:
        return infer.report(handle, stdout, stderr, source=str(path))


def _report_generated(stdout: TextIO, stderr: TextIO) -> int:
    import io
    import random

    import orjson

    from schemashift.cli import infer
    from schemashift.demo import generator

    events = generator.generate(random.Random(7), REPORT_EVENTS)
    data = b"".join(orjson.dumps(payload) + b"\n" for _, payload in events)
    return infer.report(io.BytesIO(data), stdout, stderr, source="generated demo events")
