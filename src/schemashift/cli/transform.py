"""`schemashift transform SCHEMA [FILE ...]`: conform JSON Lines payloads to a schema.

Conformed payloads go to stdout, one JSON document a line, in input order. Each rejected line
becomes one JSON line on stderr (or in ``--rejections FILE``):
``{"file": …, "line": n, "reasons": [{"code", "path", "message"}, …]}``.
Exit status: 0 when every payload conformed, 1 when any was rejected, 2 on bad input (an
unreadable or invalid schema, a missing file).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from schemashift.core.jsonparse import DEFAULT_LIMITS, DuplicateKeys
from schemashift.core.transform import (
    Coercion,
    ExtrasPolicy,
    MissingPolicy,
    Rejected,
    TransformOptions,
    compile_transformer,
)
from schemashift.errors import InvalidSchemaError

EXIT_OK, EXIT_REJECTED, EXIT_BAD_INPUT = 0, 1, 2


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("schema", type=Path, help="JSON Schema file to conform to")
    parser.add_argument(
        "files", nargs="*", default=[], help="JSON Lines files (default or '-': stdin)"
    )
    parser.add_argument("--version", type=int, default=1, help="schema version (default 1)")
    parser.add_argument("--subject", default=None, help="subject name (for metadata)")
    parser.add_argument("--schema-id", type=int, default=None, help="global schema id")
    parser.add_argument(
        "--extras",
        choices=[p.value for p in ExtrasPolicy],
        default=ExtrasPolicy.KEEP.value,
        help="undeclared fields of an open schema (default keep)",
    )
    parser.add_argument(
        "--closed-extras",
        choices=[ExtrasPolicy.DROP.value, ExtrasPolicy.REJECT.value],
        default=ExtrasPolicy.DROP.value,
        help="undeclared fields where additionalProperties is false (default drop)",
    )
    parser.add_argument(
        "--missing",
        choices=[p.value for p in MissingPolicy],
        default=MissingPolicy.OMIT.value,
        help="absent declared fields without a default (default omit)",
    )
    parser.add_argument("--no-defaults", action="store_true", help="do not fill schema defaults")
    parser.add_argument("--no-coercion", action="store_true", help="switch every coercion off")
    parser.add_argument(
        "--disable",
        action="append",
        default=[],
        choices=[c.value for c in Coercion],
        metavar="COERCION",
        help=f"switch one coercion off (repeatable): {', '.join(c.value for c in Coercion)}",
    )
    parser.add_argument("--version-field", default="schemaVersion", help="metadata field name")
    parser.add_argument("--schema-id-field", default=None, help="write the schema id here")
    parser.add_argument("--subject-field", default=None, help="write the subject here")
    parser.add_argument("--no-metadata", action="store_true", help="write no metadata fields")
    parser.add_argument(
        "--rejections", type=Path, default=None, help="write rejections here instead of stderr"
    )
    parser.add_argument(
        "--json-duplicates",
        choices=("last_wins", "reject"),
        default="last_wins",
        help="a key repeated in one object: keep the last value, or reject the line "
        "(default: last_wins)",
    )


def options_from(args: argparse.Namespace) -> TransformOptions:
    coercions = (
        frozenset() if args.no_coercion else frozenset(Coercion) - set(map(Coercion, args.disable))
    )
    return TransformOptions(
        coercions=coercions,
        extras=ExtrasPolicy(args.extras),
        closed_extras=ExtrasPolicy(args.closed_extras),
        missing=MissingPolicy(args.missing),
        use_defaults=not args.no_defaults,
        version_field=None if args.no_metadata else args.version_field,
        schema_id_field=None if args.no_metadata else args.schema_id_field,
        subject_field=None if args.no_metadata else args.subject_field,
        limits=replace(DEFAULT_LIMITS, duplicate_keys=DuplicateKeys(args.json_duplicates)),
    )


def run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    try:
        schema = json.loads(args.schema.read_text(encoding="utf-8"))
        transformer = compile_transformer(
            schema,
            version=args.version,
            subject=args.subject,
            schema_id=args.schema_id,
            options=options_from(args),
        )
    except (OSError, UnicodeDecodeError, ValueError, InvalidSchemaError) as exc:
        stderr.write(f"schemashift transform: cannot use schema {args.schema}: {exc}\n")
        return EXIT_BAD_INPUT
    names = args.files or ["-"]
    missing = [n for n in names if n != "-" and not Path(n).is_file()]
    if missing:
        stderr.write(f"schemashift transform: no such file: {', '.join(missing)}\n")
        return EXIT_BAD_INPUT
    rejected = 0
    with ExitStack() as stack:
        sink = (
            stack.enter_context(args.rejections.open("w", encoding="utf-8"))
            if args.rejections is not None
            else stderr
        )
        for name in names:
            source: BinaryIO = (
                sys.stdin.buffer if name == "-" else stack.enter_context(Path(name).open("rb"))
            )
            for number, raw in _lines(source):
                out = transformer.transform_bytes(raw)
                if isinstance(out, Rejected):
                    rejected += 1
                    sink.write(_rejection(name, number, out) + "\n")
                else:
                    stdout.write(out.decode("utf-8") + "\n")
    return EXIT_REJECTED if rejected else EXIT_OK


def _lines(source: BinaryIO) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(source, start=1):
        stripped = line.strip()
        if stripped:
            yield number, stripped


def _rejection(name: str, number: int, rejected: Rejected) -> str:
    record: dict[str, Any] = {
        "file": "<stdin>" if name == "-" else name,
        "line": number,
        "reasons": [r.to_dict() for r in rejected.reasons],
    }
    return json.dumps(record, ensure_ascii=False)
