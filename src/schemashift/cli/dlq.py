"""`schemashift dlq`: list, show and re-drive dead letters through the HTTP API.

    schemashift dlq list --subject shop/order.created --reason too_deep
    schemashift dlq show 42                       (the record and the original payload)
    schemashift dlq replay --subject shop/order.created --reason type_mismatch
    schemashift dlq replay --id 42 --id 43        (or --quarantine 7, or --all)

Talks to a running server (``--registry``, default ``$SCHEMASHIFT_URL`` or
http://127.0.0.1:8081); ``--token`` (or ``$SCHEMASHIFT_TOKEN``) is sent as a bearer token.
``--json`` prints the API's answers: one JSON object per line for ``list``.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any, TextIO

import httpx
import orjson
from rich.console import Console
from rich.table import Table

from schemashift.cli._http import ApiError, call, fail, open_client

DEFAULT_URL = "http://127.0.0.1:8081"
TIMEOUT = 60.0  # a replay of 10,000 dead letters answers when they are all published
STATES = ("dead", "parked", "replayed")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--registry",
        "--url",
        dest="registry",
        default=os.environ.get("SCHEMASHIFT_URL", DEFAULT_URL),
        metavar="URL",
        help="the schemashift server (default: $SCHEMASHIFT_URL or %(default)s)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("SCHEMASHIFT_TOKEN"),
        help="bearer token for a server with authentication (default: $SCHEMASHIFT_TOKEN)",
    )
    parser.add_argument("--json", action="store_true", help="print the API's JSON answers")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="list dead letters, newest first")
    listing.add_argument("--subject", help="only this subject's")
    listing.add_argument("--reason", help="only with this reason code")
    listing.add_argument("--state", choices=STATES, default="dead", help="default: %(default)s")
    listing.add_argument("--quarantine", type=int, metavar="ID", help="only held by this one")
    listing.add_argument("--limit", type=int, default=50, help="at most (default %(default)s)")
    listing.add_argument("--cursor", type=int, help="continue after a previous page")

    show = actions.add_parser("show", help="one dead letter with its original payload")
    show.add_argument("id", type=int, metavar="ID")

    replay = actions.add_parser(
        "replay", help="publish dead letters to the raw stream again (then mark them replayed)"
    )
    replay.add_argument("--subject", help="only this subject's")
    replay.add_argument("--reason", help="only with this reason code")
    replay.add_argument(
        "--id", type=int, action="append", dest="ids", metavar="ID", help="repeatable"
    )
    replay.add_argument("--quarantine", type=int, metavar="ID", help="those of this quarantine")
    replay.add_argument("--all", action="store_true", help="every dead letter (no selector)")


def _console(out: TextIO) -> Console:
    # a pipe or a file gets plain text wide enough not to wrap the message column
    terminal = out.isatty() if hasattr(out, "isatty") else False
    return Console(file=out, width=None if terminal else 200, highlight=False, soft_wrap=False)


def _list(args: argparse.Namespace, client: httpx.Client, out: TextIO, err: TextIO) -> int:
    params = {
        "subject": args.subject,
        "reason": args.reason,
        "state": args.state,
        "quarantine_id": args.quarantine,
        "limit": args.limit,
        "cursor": args.cursor,
    }
    page = call(
        client, "GET", "/v1/dead-letters", params={k: v for k, v in params.items() if v is not None}
    )
    items: list[dict[str, Any]] = page["items"]
    if args.json:
        for item in items:
            out.write(orjson.dumps(item, default=str).decode() + "\n")
    elif not items:
        out.write(f"no dead letters in state {args.state}\n")
    else:
        table = Table(box=None, pad_edge=False, header_style="bold")
        for column in ("ID", "TIME", "SUBJECT", "REASON", "PATH", "STATE", "MESSAGE"):
            table.add_column(column, no_wrap=column != "MESSAGE", overflow="fold")
        for item in items:
            table.add_row(
                str(item["id"]),
                item["time"][:19] + "Z",
                item["subject"] or "-",
                item["reason"],
                item["path"] or "-",
                item["state"],
                item["message"],
            )
        _console(out).print(table)
    if page.get("next_cursor") is not None:
        err.write(f"more: add --cursor {page['next_cursor']}\n")
    return 0


def _show(args: argparse.Namespace, client: httpx.Client, out: TextIO) -> int:
    item = call(client, "GET", f"/v1/dead-letters/{args.id}")
    if args.json:
        out.write(orjson.dumps(item, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")
        return 0
    for name in ("id", "subject", "reason", "message", "path", "state", "time", "replayed_at"):
        out.write(f"{name + ':':13} {'-' if item[name] is None else item[name]}\n")
    out.write(f"{'quarantine:':13} {item['quarantine_id'] or '-'}\n")
    out.write(f"{'raw:':13} {item['raw_subject']} seq {item['raw_seq']}\n")
    for detail in item["details"]:
        out.write(f"{'detail:':13} {json.dumps(detail, ensure_ascii=False)}\n")
    for key, value in item["headers"].items():
        out.write(f"{'header:':13} {key}: {value}\n")
    out.write("payload:\n")
    if item["data"] is not None:
        out.write(json.dumps(item["data"], indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(f"(not JSON; base64) {item['data_base64']}\n")
    return 0


def _replay(args: argparse.Namespace, client: httpx.Client, out: TextIO) -> int:
    body: dict[str, Any] = {}
    if args.subject is not None:
        body["subject"] = args.subject
    if args.reason is not None:
        body["reason"] = args.reason
    if args.ids:
        body["ids"] = args.ids
    if args.quarantine is not None:
        body["quarantine_id"] = args.quarantine
    if not body and not args.all:
        raise ApiError(0, "say what to replay: --subject, --reason, --id, --quarantine or --all")
    if args.all:
        body["all"] = True
    answer = call(client, "POST", "/v1/dead-letters/replay", json=body)
    if args.json:
        out.write(orjson.dumps(answer).decode() + "\n")
    else:
        count = answer["replayed"]
        out.write(f"replayed {count} dead letter{'' if count == 1 else 's'}\n")
    return 0


def run(
    args: argparse.Namespace,
    stdout: TextIO,
    stderr: TextIO,
    *,
    transport: httpx.BaseTransport | None = None,
) -> int:
    try:
        with open_client(args.registry, args.token, timeout=TIMEOUT, transport=transport) as client:
            if args.action == "list":
                return _list(args, client, stdout, stderr)
            if args.action == "show":
                return _show(args, client, stdout)
            return _replay(args, client, stdout)
    except (ApiError, httpx.HTTPError) as exc:
        return fail("dlq", exc, args.registry, stderr)
