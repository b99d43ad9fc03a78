"""The command line: ``schemashift <command> …``.

Each command lives in its own module with ``configure(parser)`` and
``run(args, stdout, stderr) -> int``; this module only dispatches. Entry points take their
streams as arguments so tests drive them without a subprocess.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import TextIO

# command -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "infer": ("schemashift.cli.infer", "infer a JSON Schema from JSON Lines payloads"),
    "diff": ("schemashift.cli.diff", "list the changes between two schemas and the drift score"),
    "check": ("schemashift.cli.check", "check two schemas for compatibility under a mode"),
    "transform": ("schemashift.cli.transform", "conform JSON Lines payloads to a schema"),
    "serve": ("schemashift.cli.serve", "run the registry HTTP API (and, by default, everything)"),
    "worker": ("schemashift.cli.worker", "run a stream worker on a bus"),
    "subscribe": ("schemashift.cli.subscribe", "follow schema.updated events"),
    "webhooks": ("schemashift.cli.webhooks", "manage webhook subscriptions for schema events"),
    "dlq": ("schemashift.cli.dlq", "list, show and replay dead letters"),
    "run": ("schemashift.cli.run", "the main job: what `make run` starts"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="schemashift", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.configure(command_parser)
    return parser


def main(
    argv: list[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(out)
        return 2
    module = importlib.import_module(COMMANDS[args.command][0])
    code: int = module.run(args, out, err)
    return code


def entry() -> None:
    """Console-script entry point."""
    raise SystemExit(main())
