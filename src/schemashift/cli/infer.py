"""``schemashift infer``: JSON Lines in, the inferred JSON Schema (or Avro, or profile) out.

Bad lines (malformed JSON, NaN, integers over 4,300 digits, non-objects) are reported on
stderr as ``FILE:LINE: code: message`` and counted; they are not fatal unless ``--strict``.
A key repeated in one object keeps its last value, as ``JSON.parse`` does (the lines that
did are counted on stderr); ``--json-duplicates reject`` makes such a line a bad one
(``duplicate_key``). With ``--group-by /type`` one schema is inferred per value of that
JSON Pointer and the output is an object keyed by the value. ``--demo N`` infers from N
events of the built-in generator, grouped by subject.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, TextIO

from schemashift.core.avro import avro_name, to_avro
from schemashift.core.jsonparse import (
    DEFAULT_LIMITS,
    DuplicateKeys,
    ParseLimits,
    loads_object_with_duplicates,
)
from schemashift.core.profile import Profile, ProfileOptions
from schemashift.core.summary import summarize
from schemashift.errors import PayloadError

MISSING_GROUP = "(missing)"
ALL_GROUP = "(all)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", metavar="FILE", help="JSON Lines files ('-' = stdin)")
    parser.add_argument(
        "--group-by", metavar="POINTER", help="infer one schema per value, e.g. /type"
    )
    parser.add_argument("--profile", action="store_true", help="print the profile, not the schema")
    parser.add_argument(
        "--format",
        choices=("json-schema", "avro"),
        default="json-schema",
        help="output format (default: json-schema)",
    )
    parser.add_argument("--name", default="Event", help="Avro record name (default: Event)")
    parser.add_argument("--strict", action="store_true", help="stop at the first bad line")
    parser.add_argument(
        "--json-duplicates",
        choices=("last_wins", "reject"),
        default="last_wins",
        help="a key repeated in one object: keep the last value, or make the line a bad one "
        "(default: last_wins)",
    )
    parser.add_argument("--report", action="store_true", help="print a short summary instead")
    parser.add_argument("--demo", type=int, metavar="N", help="infer from N generated events")
    parser.add_argument("--seed", type=int, default=7, help="seed of --demo (default: 7)")
    parser.add_argument(
        "--required-threshold",
        type=float,
        default=1.0,
        help="share of parent objects a key needs to be required (default: 1.0)",
    )


@dataclass(slots=True)
class _Reading:
    bad: int = 0
    good: int = 0
    repeated: int = 0  # good lines that repeated a key (their last value was kept)


def run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    if args.group_by is not None and args.group_by and not args.group_by.startswith("/"):
        stderr.write("schemashift infer: --group-by must be a JSON Pointer such as /type\n")
        return 2
    try:
        options = ProfileOptions(required_threshold=args.required_threshold)
    except ValueError as exc:
        stderr.write(f"schemashift infer: {exc}\n")
        return 2
    if args.demo is not None:
        from schemashift.demo import generate

        pairs = generate(random.Random(args.seed), max(args.demo, 0))
        if args.report:
            report(pairs, stdout)
            return 0
        profiles = _profile_groups(((s, p) for s, p in pairs), options)
        _emit(profiles, args, stdout, grouped=True)
        return 0
    reading = _Reading()
    try:
        with ExitStack() as stack:
            lines = _read_lines(args.files or ["-"], stack, stderr)
            # event payloads: DEFAULT_LIMITS, with the chosen duplicate-key policy
            limits = replace(DEFAULT_LIMITS, duplicate_keys=DuplicateKeys(args.json_duplicates))
            payloads = _parse(lines, reading, stderr, strict=args.strict, limits=limits)
            if args.report:
                report(payloads, stdout)
                return _finish_reading(reading, stderr)
            keyed = ((_group_of(p, args.group_by), p) for p in payloads)
            profiles = _profile_groups(keyed, options)
    except _StrictStop:
        return 1
    except OSError as exc:
        stderr.write(f"schemashift infer: {exc}\n")
        return 2
    status = _finish_reading(reading, stderr)
    if not reading.good:
        stderr.write("schemashift infer: no valid payloads\n")
        return 1
    _emit(profiles, args, stdout, grouped=args.group_by is not None)
    return status


class _StrictStop(Exception):
    """Raised inside the reading pipeline when --strict meets a bad line."""


def _finish_reading(reading: _Reading, stderr: TextIO) -> int:
    if reading.repeated:
        stderr.write(
            f"schemashift infer: {reading.repeated} line(s) repeated a key; the last value "
            "was kept (--json-duplicates reject refuses them)\n"
        )
    if reading.bad:
        stderr.write(f"schemashift infer: {reading.bad} bad line(s) skipped\n")
    return 0


def _read_lines(
    names: list[str], stack: ExitStack, stderr: TextIO
) -> Iterator[tuple[str, int, bytes]]:
    sizes = [0 if n == "-" else Path(n).stat().st_size for n in names]
    progress = _progress(stderr, sum(sizes), stack)
    for name in names:
        handle: IO[bytes] = (
            sys.stdin.buffer if name == "-" else stack.enter_context(open(name, "rb"))  # noqa: SIM115
        )
        label = "<stdin>" if name == "-" else name
        for number, line in enumerate(handle, start=1):
            if progress is not None:
                progress(len(line))
            if line.strip():
                yield label, number, line


def _progress(stderr: TextIO, total: int, stack: ExitStack) -> Any:
    """A byte-based progress bar on stderr, only when it is a terminal and input is large."""
    if not (hasattr(stderr, "isatty") and stderr.isatty()) or total < 1_000_000:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    bar = stack.enter_context(
        Progress(
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=Console(file=stderr),
            transient=True,
        )
    )
    task = bar.add_task("infer", total=total)

    def advance(n: int) -> None:
        bar.advance(task, n)

    return advance


def _parse(
    lines: Iterable[tuple[str, int, bytes]],
    reading: _Reading,
    stderr: TextIO,
    *,
    strict: bool,
    limits: ParseLimits = DEFAULT_LIMITS,
) -> Iterator[dict[str, Any]]:
    for label, number, line in lines:
        try:
            payload, repeated = loads_object_with_duplicates(line, limits)
        except PayloadError as exc:
            reading.bad += 1
            stderr.write(f"{label}:{number}: {exc.code}: {exc.message}\n")
            if strict:
                raise _StrictStop from None
            continue
        reading.good += 1
        if repeated:
            reading.repeated += 1
        yield payload


def resolve_pointer(document: Any, pointer: str) -> Any:
    """RFC 6901: the value at ``pointer``; raises KeyError when it does not exist."""
    if pointer == "":
        return document
    value = document
    for token in pointer[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict):
            value = value[token]
        elif isinstance(value, list) and token.isdigit():
            try:
                value = value[int(token)]
            except IndexError:
                raise KeyError(pointer) from None
        else:
            raise KeyError(pointer)
    return value


def _group_of(payload: dict[str, Any], pointer: str | None) -> str:
    if pointer is None:
        return ALL_GROUP
    try:
        value = resolve_pointer(payload, pointer)
    except KeyError:
        return MISSING_GROUP
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _profile_groups(
    keyed: Iterable[tuple[str, Mapping[str, Any]]], options: ProfileOptions
) -> dict[str, Profile]:
    profiles: dict[str, Profile] = {}
    for key, payload in keyed:
        profile = profiles.get(key)
        if profile is None:
            profile = profiles[key] = Profile(options)
        profile.add(payload)
    return profiles


def _emit(
    profiles: dict[str, Profile], args: argparse.Namespace, stdout: TextIO, *, grouped: bool
) -> None:
    def render(key: str, profile: Profile) -> Any:
        if args.profile:
            return profile.to_dict()
        schema = profile.finish()
        if args.format == "avro":
            return to_avro(schema, args.name if not grouped else avro_name(key))
        return schema

    if grouped:
        out: Any = {key: render(key, profiles[key]) for key in sorted(profiles)}
    else:
        out = render(ALL_GROUP, profiles.get(ALL_GROUP) or Profile())
    stdout.write(json.dumps(out, indent=2, ensure_ascii=False) + "\n")


def report(pairs_or_payloads: Iterable[Any], stdout: TextIO) -> dict[str, Profile]:
    """Profile (subject, payload) pairs — or bare payloads — and print a short report.

    Returns the profiles per subject so a caller can go on (diff, register) without
    profiling twice.
    """
    profiles: dict[str, Profile] = {}
    for item in pairs_or_payloads:
        if isinstance(item, tuple):
            subject, payload = item
        else:
            subject, payload = ALL_GROUP, item
        profile = profiles.get(subject)
        if profile is None:
            profile = profiles[subject] = Profile()
        profile.add(payload)
    for subject in sorted(profiles):
        _report_one(subject, profiles[subject], stdout)
    return profiles


def _listing(items: list[str], limit: int = 6) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f", … (+{len(items) - limit})" if len(items) > limit else "")


def _report_one(subject: str, profile: Profile, stdout: TextIO) -> None:
    schema = profile.finish()
    summary = summarize(schema)
    paths = len(profile.path_stats()) - 1
    stdout.write(f"{subject}: {profile.count:,} events, {paths} paths\n")
    stdout.write(
        f"  schema: {summary.properties} top-level properties, {summary.required} required\n"
    )
    if summary.maps:
        stdout.write(f"  maps: {_listing(summary.maps)}\n")
    if summary.enums:
        enums = [f"{p} ({len(v)})" for p, v in sorted(summary.enums.items())]
        stdout.write(f"  enums: {_listing(enums)}\n")
    if summary.formats:
        formats = [f"{p} {f}" for p, f in sorted(summary.formats.items())]
        stdout.write(f"  formats: {_listing(formats)}\n")
    if summary.tagged_unions:
        unions = [f"{p} by {t}" for p, t in sorted(summary.tagged_unions.items())]
        stdout.write(f"  tagged unions: {_listing(unions)}\n")
    if summary.tuples:
        stdout.write(f"  tuples: {_listing(summary.tuples)}\n")
