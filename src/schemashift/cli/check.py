"""`schemashift check OLD [OLDER…] NEW --mode MODE [--policy P] [--json]`.

Exit 0 when NEW is compatible with the earlier schema(s) under MODE, 1 when it is not (the
findings are listed), 2 on bad input. Several OLD files (oldest first) are for the
``*_TRANSITIVE`` modes. Each side may be a JSON Lines payload file, inferred on the fly; with
``--policy observed`` the profile of the payloads (``--samples``, else the OLD payload file)
judges properties the writer never declared.
"""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from schemashift.cli._inputs import InputError, read_side
from schemashift.core.compat import CompatibilityMode, Policy, check_compatibility
from schemashift.errors import InvalidSchemaError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("schemas", nargs="+", metavar="SCHEMA", help="OLD [OLDER…] NEW")
    parser.add_argument(
        "--mode",
        default="BACKWARD",
        type=str.upper,
        choices=[m.value for m in CompatibilityMode],
        help="compatibility mode (default BACKWARD)",
    )
    parser.add_argument(
        "--policy",
        default="strict",
        type=str.lower,
        choices=[p.value for p in Policy],
        help="strict (default), lenient, or observed (needs payloads)",
    )
    parser.add_argument("--samples", help="JSON Lines payloads for --policy observed")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    if len(args.schemas) < 2:
        stderr.write("schemashift check: give at least OLD and NEW\n")
        return 2
    try:
        sides = [read_side(path) for path in args.schemas]
        profile = None
        if args.policy == "observed":
            source = read_side(args.samples) if args.samples else sides[0]
            profile = source.profile
            if profile is None:
                raise InputError("--policy observed needs payloads (--samples or a .jsonl OLD)")
        result = check_compatibility(
            [s.schema for s in sides[:-1]],
            sides[-1].schema,
            args.mode,
            policy=args.policy,
            profile=profile,
        )
    except (InputError, InvalidSchemaError) as exc:
        stderr.write(f"schemashift check: {exc}\n")
        return 2
    if args.json:
        data = {"mode": args.mode, "policy": args.policy, **result.to_dict()}
        stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
    else:
        verdict = "compatible" if result.compatible else "NOT compatible"
        stdout.write(f"{verdict} under {args.mode} (policy {args.policy})\n")
        for finding in result.findings:
            where = finding.path or "/"
            direction = f" [{finding.direction}]" if finding.direction else ""
            stdout.write(f"  {where}: {finding.code}{direction}: {finding.message}\n")
    return 0 if result.compatible else 1
