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
from typing import BinaryIO, TextIO

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


def _report(data: BinaryIO, stdout: TextIO, stderr: TextIO, *, source: str) -> int:
    from schemashift.cli import infer

    report = getattr(infer, "report", None)
    if report is None:  # an Analyzer without its report: print the inferred schema instead
        return _schema_only(data, stdout, stderr, source=source)
    code: int = report(data, stdout, stderr, source=source)
    return code


def _schema_only(data: BinaryIO, stdout: TextIO, stderr: TextIO, *, source: str) -> int:
    import json

    from schemashift.core.jsonparse import loads_object
    from schemashift.core.profile import Profile
    from schemashift.errors import PayloadError

    profile, bad = Profile(), 0
    for number, line in enumerate(data, 1):
        if not line.strip():
            continue
        try:
            profile.add(loads_object(line))
        except PayloadError as exc:
            bad += 1
            stderr.write(f"{source}:{number}: {exc.code}: {exc.message}\n")
    stdout.write(f"{source}: {profile.count} payloads, {bad} unreadable\n")
    stdout.write(json.dumps(profile.finish(), indent=2) + "\n")
    return 0 if profile.count else 1


def _report_file(path: Path, stdout: TextIO, stderr: TextIO) -> int:
    if not path.is_file():
        stderr.write(f"schemashift run: no such file: {path}\n")
        return 2
    with path.open("rb") as handle:
        return _report(handle, stdout, stderr, source=str(path))


def _report_generated(stdout: TextIO, stderr: TextIO) -> int:
    import io
    import random

    import orjson

    from schemashift.demo import generator

    by_subject: dict[str, list[bytes]] = {}
    for subject, payload in generator.generate(random.Random(7), REPORT_EVENTS):
        by_subject.setdefault(subject, []).append(orjson.dumps(payload) + b"\n")
    code = 0
    for subject, lines in sorted(by_subject.items()):
        data = io.BytesIO(b"".join(lines))
        code = max(code, _report(data, stdout, stderr, source=f"generated {subject} events"))
    return code
