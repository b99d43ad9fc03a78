"""ASGI middleware that authenticates every request and enforces per-subject rights.

``install_auth(app, config)`` wraps a FastAPI app. For each request it

1. finds the route that will serve it, using the app's own router, so the subject checked
   is exactly the (percent-decoded) subject the endpoint receives;
2. looks the route up in :mod:`~schemashift.security.policy` for the right it needs;
3. authenticates (HTTP Basic or bearer; 401 with ``WWW-Authenticate`` when that fails);
4. lets the request through, refuses it (403), or — when the caller may not *read* the
   subject — answers exactly as the app answers for a subject that does not exist.

That last answer is produced by the app itself: the request is re-run with the subject (or
schema id) replaced by a name no one can have registered (random per process), and the
placeholder is written back as the caller's subject. Status, headers and body are therefore
byte-for-byte those of a missing subject, whatever shape each route uses for "not found".
List answers are filtered to readable subjects. A record fetched by id (a dead letter) is
shown only if the subject it names is readable, else answered like a missing id; an
operation whose subject is in its JSON body (a replay) is checked against that subject.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import anyio.to_thread
import orjson
from fastapi import FastAPI
from starlette.datastructures import QueryParams
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from schemashift.security.authenticate import Authenticator
from schemashift.security.config import AuthConfig, Principal, Right
from schemashift.security.policy import AUTHENTICATED, READ_GLOBAL, Access, AccessKind, access_for
from schemashift.security.responses import (
    body_field,
    capture,
    empty_receive,
    filter_subjects,
    json_escaped,
    read_body,
    receive_from,
    replay,
    send_json,
)

__all__ = ["AuthMiddleware", "install_auth", "route_templates"]

# An id that is valid as a 32-bit schema id and far above any a registry hands out.
_ABSENT_ID = 2_147_418_113
# A body read to find its subject (a replay's selection) is small; larger ones are refused.
MAX_CHECKED_BODY = 1024 * 1024


def install_auth(app: FastAPI, config: AuthConfig) -> None:
    """Require authentication and rights on every route of ``app`` (call before serving)."""
    for route in _candidates(app.router.routes):
        if not isinstance(getattr(route, "path", None), str):
            raise TypeError(f"install_auth cannot read the path of route {route!r}")
    app.add_middleware(AuthMiddleware, routes_app=app, config=config)


@dataclass(frozen=True, slots=True)
class _Target:
    """The route that will serve a request, as far as authorisation cares."""

    template: str | None
    path_format: str | None
    params: dict[str, Any]
    unknown: bool = False  # matched a route whose template cannot be read


class AuthMiddleware:
    def __init__(self, app: ASGIApp, *, routes_app: FastAPI, config: AuthConfig) -> None:
        self.app = app
        self.routes_app = routes_app
        self.config = config
        self.authenticator = Authenticator(config)
        # Random per process, so no one can register the stand-in for a missing subject.
        self.absent_subject = f"absent-{secrets.token_hex(16)}"
        self._challenges = [
            (b"www-authenticate", f'Basic realm="{config.realm}", charset="UTF-8"'.encode()),
            (b"www-authenticate", f'Bearer realm="{config.realm}"'.encode()),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "GET") if scope["type"] == "http" else "GET"
        target = self._resolve(scope)
        if target.unknown:
            access = READ_GLOBAL  # a route kind we cannot see into: fail closed
        elif target.template is None:
            access = AUTHENTICATED  # no route at all: the app answers 404, nothing to leak
        else:
            access = access_for(method, target.template, public_metrics=self.config.public_metrics)
        if access.kind is AccessKind.PUBLIC:
            await self.app(scope, receive, send)
            return
        principal = await self._authenticate(scope)
        if scope["type"] == "websocket":
            allowed = principal is not None and _websocket_allowed(principal, access, target)
            if not allowed:
                await send({"type": "websocket.close", "code": 1008})
                return
            await self.app(scope, receive, send)
            return
        if principal is None:
            await send_json(
                send,
                401,
                {"error_code": 40101, "message": "authentication required"},
                self._challenges,
            )
            return
        scope = {**scope, "schemashift.principal": principal.name}
        await self._authorize(principal, access, target, scope, receive, send)

    # ------------------------------------------------------------------ decisions

    async def _authorize(
        self,
        principal: Principal,
        access: Access,
        target: _Target,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        kind = access.kind
        if kind is AccessKind.AUTHENTICATED:
            await self.app(scope, receive, send)
        elif kind is AccessKind.GLOBAL:
            if principal.may_globally(access.right):
                await self.app(scope, receive, send)
            else:
                await _forbidden(send, f"'{access.right}' on every subject is required")
        elif kind is AccessKind.FILTERED_LIST:
            await self._filtered(principal, scope, receive, send)
        elif kind is AccessKind.SCHEMA_ID:
            await self._schema_id(principal, access, target, scope, receive, send)
        elif kind is AccessKind.RECORD:
            await self._record(principal, target, scope, send)
        elif kind is AccessKind.BODY_SUBJECT:
            await self._body_subject(principal, access, scope, receive, send)
        elif kind is AccessKind.INGEST:
            subjects = _query_values(scope, access.param)
            if all(principal.may(Right.WRITE, s) for s in subjects) and (
                subjects or principal.may_globally(Right.WRITE)
            ):
                await self.app(scope, receive, send)
            else:
                await _forbidden(send, "'write' on the events' subject is required")
        else:
            await self._subject(principal, access, target, scope, receive, send)

    async def _subject(
        self,
        principal: Principal,
        access: Access,
        target: _Target,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        in_path = access.param in target.params
        subjects = (
            [str(target.params[access.param])] if in_path else _query_values(scope, access.param)
        )
        if not subjects:
            # No subject named (the endpoint will refuse the request, or answer for every
            # subject): only global rights do, or a list filtered to what the caller may read.
            if principal.may_globally(access.right):
                await self.app(scope, receive, send)
            elif access.filter_list and access.right is Right.READ:
                await self._filtered(principal, scope, receive, send)
            else:
                await _forbidden(send, f"'{access.right}' on the subject is required")
            return
        if all(principal.may(access.right, s) for s in subjects):
            await self.app(scope, receive, send)
            return
        unreadable = [s for s in subjects if not principal.may(Right.READ, s)]
        if access.right is Right.READ and unreadable:
            await self._answer_as_missing(scope, receive, send, target, access.param, unreadable[0])
        else:
            # The same answer whether or not the subject exists: nothing leaks.
            await _forbidden(send, f"'{access.right}' on the subject is required")

    async def _schema_id(
        self,
        principal: Principal,
        access: Access,
        target: _Target,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        if principal.may_globally(Right.READ):
            await self.app(scope, receive, send)
            return
        # The route's one path parameter is the id, whatever the route calls it.
        if len(target.params) != 1:
            await _forbidden(send, "'read' on every subject is required")
            return
        (param, schema_id), *_ = target.params.items()
        if not (str(schema_id).isascii() and str(schema_id).isdigit()):
            await self.app(scope, receive, send)  # not an id at all: the app refuses it
            return
        probe = await capture(
            self.app, _get_scope(scope, f"/schemas/ids/{int(schema_id)}/subjects"), empty_receive
        )
        if probe.status == 404:
            await self.app(scope, receive, send)  # a missing id: the app's own answer
            return
        if probe.status != 200:
            await _forbidden(send, "the schema's subjects could not be checked")
            return
        subjects = _json_list(probe.body)
        if not any(isinstance(s, str) and principal.may(Right.READ, s) for s in subjects):
            await self._answer_as_missing(scope, receive, send, target, param, str(schema_id))
        elif access.filter_list:
            await self._filtered(principal, scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _record(
        self, principal: Principal, target: _Target, scope: Scope, send: Send
    ) -> None:
        """A GET of one record by id: shown if its ``subject`` is readable, else missing."""
        if principal.may_globally(Right.READ):
            await self.app(scope, empty_receive, send)
            return
        if len(target.params) != 1:
            await _forbidden(send, "'read' on every subject is required")
            return
        (param, value), *_ = target.params.items()
        answer = await capture(self.app, scope, empty_receive)
        if answer.status != 200:
            await replay(answer, send)  # missing or malformed id: the app's own answer
            return
        subject = body_field(answer.body, "subject") if answer.is_json else None
        if subject is not None and principal.may(Right.READ, subject):
            await replay(answer, send)
        else:  # another subject's record, or one of no known subject (readers of `*` only)
            await self._answer_as_missing(scope, empty_receive, send, target, param, str(value))

    async def _body_subject(
        self, principal: Principal, access: Access, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """The right on ``*``, or on the subject the JSON body names (which bounds the
        operation: the endpoint acts on that subject alone)."""
        if principal.may_globally(access.right):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive, MAX_CHECKED_BODY)
        if body is None:
            limit = f"request body larger than {MAX_CHECKED_BODY} bytes"
            await send_json(send, 413, {"error_code": 413, "message": limit})
            return
        subject = body_field(body, access.param)
        if subject is not None and principal.may(access.right, subject):
            await self.app(scope, receive_from(body, receive), send)
        else:
            await _forbidden(
                send, f"'{access.right}' on every subject, or on the subject the body names"
            )

    async def _filtered(
        self, principal: Principal, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if principal.may_globally(Right.READ):
            await self.app(scope, receive, send)
            return
        answer = await capture(self.app, scope, receive)
        if answer.status != 200 or not answer.is_json:
            await replay(answer, send)
            return
        try:
            document = orjson.loads(answer.body)
        except orjson.JSONDecodeError:
            await replay(answer, send)
            return
        kept = filter_subjects(document, lambda s: principal.may(Right.READ, s))
        await replay(answer, send, orjson.dumps(kept))

    async def _answer_as_missing(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        target: _Target,
        param: str,
        value: str,
    ) -> None:
        """Answer as the app answers when ``param`` names something that does not exist."""
        stand_in = str(_ABSENT_ID) if param != "subject" else self.absent_subject
        if param in target.params and target.path_format is not None:
            params = {**target.params, param: stand_in}
            path = scope.get("root_path", "") + target.path_format.format(
                **{k: str(v) for k, v in params.items()}
            )
            raw = "".join(quote(part, safe="") + "/" for part in path.split("/"))[:-1]
            inner = {**scope, "path": path, "raw_path": raw.encode("ascii")}
        else:
            pairs = [
                (k, stand_in if k == param else v)
                for k, v in QueryParams(scope["query_string"]).multi_items()
            ]
            inner = {**scope, "query_string": urlencode(pairs).encode("ascii")}
        # Some routes answer 2xx for a subject that does not exist (an empty drift history,
        # the inherited config); then so does the hidden one. The stand-in is random per
        # process and never leaves it, so no one can have registered data under it.
        answer = await capture(self.app, inner, receive)
        body = answer.body.replace(stand_in.encode("ascii"), json_escaped(value))
        await replay(answer, send, body)

    # ------------------------------------------------------------------ plumbing

    async def _authenticate(self, scope: Scope) -> Principal | None:
        values = [v for k, v in scope.get("headers", []) if k.lower() == b"authorization"]
        if len(values) != 1:
            return None  # none, or ambiguous
        header = values[0].decode("latin-1")
        decided, principal = self.authenticator.cached(header)
        if decided:
            return principal
        # scrypt takes tens of milliseconds: keep it off the event loop.
        return await anyio.to_thread.run_sync(self.authenticator.authenticate, header)

    def _resolve(self, scope: Scope) -> _Target:
        return _match(self.routes_app.router.routes, scope, "")


def route_templates(app: FastAPI) -> list[tuple[str, frozenset[str]]]:
    """Every (path template, methods) the app serves, hidden routes included (for tests)."""
    found: list[tuple[str, frozenset[str]]] = []
    for route in _candidates(app.router.routes):
        path = getattr(route, "path", None)
        methods = getattr(route, "methods", None) or set()
        if isinstance(path, str):
            found.append((path, frozenset(str(m) for m in methods)))
    return found


def _candidates(routes: Iterable[BaseRoute]) -> Iterator[Any]:
    """The app's routes flattened, in the order the router tries them.

    FastAPI >= 0.16x wraps each included router in one route object that matches for all
    of its routes; its per-route contexts (``effective_route_contexts``) carry the full
    path template, so they are what authorisation must look at.
    """
    late: list[Any] = []
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if callable(contexts):
            yield from contexts()
            low_priority = getattr(route, "effective_low_priority_routes", None)
            if callable(low_priority):
                late.extend(low_priority())
        else:
            yield route
    yield from late


def _match(routes: Iterable[BaseRoute], scope: Scope, prefix: str) -> _Target:
    partial: _Target | None = None
    for route in _candidates(routes):
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        path = getattr(route, "path", None)
        if not isinstance(path, str):
            # A route kind this module does not know: refuse to guess its subject.
            return _Target(None, None, {}, unknown=True)
        template = prefix + path
        params = dict(child.get("path_params", {}))
        if isinstance(route, Mount):
            inner = getattr(route.app, "routes", None)
            if match is Match.FULL and inner is not None:
                return _match(inner, {**scope, **child}, template)
            return _Target(template, None, params)
        found = _Target(template, prefix + str(getattr(route, "path_format", path)), params)
        if match is Match.FULL:
            return found
        partial = partial or found
    return partial or _Target(None, None, {})


def _query_values(scope: Scope, name: str) -> list[str]:
    return QueryParams(scope.get("query_string", b"")).getlist(name)


def _get_scope(scope: Scope, path: str) -> Scope:
    return {
        **scope,
        "method": "GET",
        "path": path,
        "raw_path": path.encode("ascii"),
        "query_string": b"",
    }


def _json_list(body: bytes) -> list[Any]:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return []
    return value if isinstance(value, list) else []


def _websocket_allowed(principal: Principal, access: Access, target: _Target) -> bool:
    if access.kind in (AccessKind.AUTHENTICATED, AccessKind.FILTERED_LIST):
        return True
    subject = target.params.get(access.param)
    if access.kind is AccessKind.SUBJECT and subject is not None:
        return principal.may(access.right, str(subject))
    return principal.may_globally(access.right)


async def _forbidden(send: Send, message: str) -> None:
    await send_json(send, 403, {"error_code": 40301, "message": f"forbidden: {message}"})
