"""`schemashift run`: the main job, what `make run` starts.

- ``schemashift run`` serves everything on the embedded defaults (SQLite file, in-process bus,
  http://127.0.0.1:8081/) with the demo producer streaming generated events, drift included,
  and prints the URL. Every ``serve`` flag applies (``--port``, ``--db``, ``--no-demo``, …).
- ``schemashift run --file F`` prints an inference report for a JSON Lines file instead.
- ``schemashift run --report-only`` prints that report for generated events (no server).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

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


def _read_payloads(path: Path, stderr: TextIO) -> Iterator[tuple[str, dict[str, Any]]]:
    """(file name, payload) per readable line; unreadable lines reported as FILE:LINE: code."""
    from schemashift.core.jsonparse import loads_object
    from schemashift.errors import PayloadError

    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield path.name, loads_object(line)
            except PayloadError as exc:
                stderr.write(f"{path}:{number}: {exc.code}: {exc.message}\n")


def _report_file(path: Path, stdout: TextIO, stderr: TextIO) -> int:
    from schemashift.cli import infer

    if not path.is_file():
        stderr.write(f"schemashift run: no such file: {path}\n")
        return 2
    profiles = infer.report(_read_payloads(path, stderr), stdout)
    if not profiles:
        stderr.write(f"schemashift run: no readable JSON object in {path}\n")
        return 1
    return 0


def _report_generated(stdout: TextIO, stderr: TextIO) -> int:
    import random

    from schemashift.cli import infer
    from schemashift.demo import generator

    del stderr
    infer.report(generator.generate(random.Random(7), REPORT_EVENTS), stdout)
    return 0
