"""`schemashift webhooks`: manage webhook subscriptions and deliveries through the HTTP API.

    schemashift webhooks add https://hooks.example/schemas --subject 'orders/*'
    schemashift webhooks list
    schemashift webhooks deliveries --status dead
    schemashift webhooks resend 42            (or: resend --dead [--subscription 3])
    schemashift webhooks remove 3

Talks to a running server (``--url``, default ``$SCHEMASHIFT_URL`` or
http://127.0.0.1:8081); ``--token`` (or ``$SCHEMASHIFT_TOKEN``) is sent as a bearer token.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
from collections.abc import Sequence
from typing import Any, TextIO

import httpx
import orjson

from schemashift.cli._http import ApiError, call, fail, open_client
from schemashift.webhooks.model import DeliveryStatus, EventKind

DEFAULT_URL = "http://127.0.0.1:8081"
TIMEOUT = 30.0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        default=os.environ.get("SCHEMASHIFT_URL", DEFAULT_URL),
        help="the schemashift server (default: $SCHEMASHIFT_URL or %(default)s)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("SCHEMASHIFT_TOKEN"),
        help="bearer token for a server with authentication (default: $SCHEMASHIFT_TOKEN)",
    )
    parser.add_argument("--json", action="store_true", help="print the API's JSON answers")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="subscribe a URL to schema events")
    add.add_argument("target", help="the http(s) URL events are POSTed to")
    add.add_argument(
        "--subject",
        action="append",
        dest="subjects",
        metavar="PATTERN",
        help=(
            "subject name, glob (orders/*) or re:<regex>, matched against the whole subject"
            " (repeatable; default: *)"
        ),
    )
    add.add_argument(
        "--kind",
        action="append",
        dest="kinds",
        choices=[k.value for k in EventKind],
        help="event kind to deliver (repeatable; default: all)",
    )
    add.add_argument("--secret", help="signing secret (default: generated and printed once)")
    add.add_argument("--description", default="", help="a note for people")
    add.add_argument("--disabled", action="store_true", help="create it paused")

    actions.add_parser("list", help="list subscriptions with pending and dead counts")

    remove = actions.add_parser("remove", help="delete a subscription and its deliveries")
    remove.add_argument("id", type=int)

    deliveries = actions.add_parser("deliveries", help="list deliveries, newest first")
    deliveries.add_argument("--subscription", type=int, help="only this subscription's")
    deliveries.add_argument(
        "--status", choices=[s.value for s in DeliveryStatus], help="only in this status"
    )
    deliveries.add_argument("--limit", type=int, default=50)

    resend = actions.add_parser("resend", help="queue deliveries again")
    resend.add_argument("ids", type=int, nargs="*", metavar="DELIVERY_ID")
    resend.add_argument("--dead", action="store_true", help="re-send every dead letter")
    resend.add_argument("--subscription", type=int, help="with --dead: only this one's")


class _Api:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        return call(self.client, method, path, **kwargs)


def _when(value: float | None) -> str:
    if value is None:
        return "-"
    moment = dt.datetime.fromtimestamp(value, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        out.write("\n")


def _print_subscriptions(views: list[dict[str, Any]], out: TextIO) -> None:
    if not views:
        out.write("no webhook subscriptions\n")
        return
    rows = [["ID", "URL", "SUBJECTS", "KINDS", "ENABLED", "PENDING", "DEAD"]]
    for v in views:
        rows.append(
            [
                str(v["id"]),
                v["url"],
                ",".join(v["subjects"]),
                "all" if len(v["kinds"]) == len(EventKind) else ",".join(v["kinds"]),
                "yes" if v["enabled"] else "no",
                str(v.get("pending", "")),
                str(v.get("dead", "")),
            ]
        )
    _table(rows, out)


def _print_deliveries(views: list[dict[str, Any]], out: TextIO) -> None:
    if not views:
        out.write("no deliveries\n")
        return
    rows = [["ID", "SUB", "EVENT", "KIND", "SUBJECT", "STATUS", "TRIES", "LAST", "UPDATED"]]
    for v in views:
        last = v["last_error"] or (str(v["last_status_code"]) if v["last_status_code"] else "-")
        rows.append(
            [
                str(v["id"]),
                str(v["subscription_id"]),
                v["event_id"],
                v["kind"],
                v["subject"],
                v["status"],
                str(v["attempts"]),
                last,
                _when(v["updated_at"]),
            ]
        )
    _table(rows, out)


def _dispatch(args: argparse.Namespace, api: _Api, out: TextIO) -> Any:
    """Do the action; returns the JSON answer (printed as is with --json)."""
    if args.action == "add":
        body: dict[str, Any] = {
            "url": args.target,
            "enabled": not args.disabled,
            "description": args.description,
        }
        if args.subjects:
            body["subjects"] = args.subjects
        if args.kinds:
            body["kinds"] = args.kinds
        if args.secret:
            body["secret"] = args.secret
        created = api.call("POST", "/v1/webhooks", json=body)
        if not args.json:
            out.write(f"created subscription {created['id']} → {created['url']}\n")
            out.write(f"signing secret (shown once): {created['secret']}\n")
        return created
    if args.action == "list":
        views = api.call("GET", "/v1/webhooks")
        if not args.json:
            _print_subscriptions(views, out)
        return views
    if args.action == "remove":
        api.call("DELETE", f"/v1/webhooks/{args.id}")
        if not args.json:
            out.write(f"removed subscription {args.id}\n")
        return {"removed": args.id}
    if args.action == "deliveries":
        params = {"limit": args.limit, "subscription": args.subscription, "status": args.status}
        query = {k: v for k, v in params.items() if v is not None}
        views = api.call("GET", "/v1/webhooks/deliveries", params=query)
        if not args.json:
            _print_deliveries(views, out)
        return views
    return _resend(args, api, out)


def _resend(args: argparse.Namespace, api: _Api, out: TextIO) -> Any:
    if args.dead == bool(args.ids):
        raise ApiError(0, "give delivery ids or --dead (not both)")
    if args.dead:
        query = {} if args.subscription is None else {"subscription": args.subscription}
        answer = api.call("POST", "/v1/webhooks/dead-letters/resend", params=query)
        if not args.json:
            out.write(f"re-queued {answer['requeued']} dead letter(s)\n")
        return answer
    queued = [api.call("POST", f"/v1/webhooks/deliveries/{i}/resend") for i in args.ids]
    if not args.json:
        for view in queued:
            out.write(f"re-queued delivery {view['id']} (event {view['event_id']})\n")
    return queued


def run(
    args: argparse.Namespace,
    stdout: TextIO,
    stderr: TextIO,
    *,
    transport: httpx.BaseTransport | None = None,
) -> int:
    try:
        with open_client(args.url, args.token, timeout=TIMEOUT, transport=transport) as client:
            answer = _dispatch(args, _Api(client), stdout)
    except (ApiError, httpx.HTTPError) as exc:
        return fail("webhooks", exc, args.url, stderr)
    if args.json:
        stdout.write(orjson.dumps(answer, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0
