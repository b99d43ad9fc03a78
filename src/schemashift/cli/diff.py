"""`schemashift diff OLD NEW [--json]`: the changes between two schemas and the drift score.

Each side is a JSON Schema file or a JSON Lines file of payloads (``.jsonl``/``.ndjson``, or
any file that is not one JSON document), whose schema is inferred on the fly. With payloads on
both sides the report also carries rename hints. Exit 0 on success, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from typing import Any, TextIO

from schemashift.cli._inputs import InputError, read_side
from schemashift.errors import InvalidSchemaError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", metavar="OLD", help="old schema (.json) or payloads (.jsonl)")
    parser.add_argument("new", metavar="NEW", help="new schema (.json) or payloads (.jsonl)")
    parser.add_argument("--json", action="store_true", help="print the drift report as JSON")


def _show(value: Any) -> str:
    text = "-" if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def render_table(report: Any) -> str:
    rows = [("PATH", "CHANGE", "CLASS", "SEVERITY", "BEFORE", "AFTER", "SHARE")]
    for change in report.changes:
        rows.append(
            (
                change.path or "/",
                str(change.code),
                str(change.change_class),
                str(change.severity),
                _show(change.before),
                _show(change.after),
                f"{change.contribution:.3f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    if not report.changes:
        lines = ["no structural change"]
    for hint in report.rename_hints:
        lines.append(
            f"probable rename at {hint.parent or '/'}: {hint.old_name} -> {hint.new_name} "
            f"(similarity {hint.similarity:.2f}: {hint.reason})"
        )
    lines.append(f"drift score: {report.score:.4f} ({len(report.changes)} change(s))")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from schemashift.core.diff import diff

    try:
        old, new = read_side(args.old), read_side(args.new)
        report = diff(old.schema, new.schema, old_profile=old.profile, new_profile=new.profile)
    except (InputError, InvalidSchemaError) as exc:
        stderr.write(f"schemashift diff: {exc}\n")
        return 2
    if new.profile is not None:  # NEW was payloads: the report carries what was inferred
        report = replace(report, inferred_schema=new.schema, sample_count=new.count)
    if args.json:
        data = report.to_dict()
        stdout.write(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    else:
        stdout.write(render_table(report))
    return 0
