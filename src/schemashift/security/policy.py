"""Which right each route needs: a pure table from (method, route template) to an Access.

The route is identified by the template of the route that will actually serve the request
(``/subjects/{subject}/versions/{version}``), and the subject by the path parameter that
route will hand its endpoint, so authorisation and the handler always agree on the name.

Rules are tried in order; the first match wins. Routes the table does not name fall to
fail-closed defaults: a route with a ``subject`` parameter needs ``read`` for GET/HEAD,
``write`` for POST and ``admin`` for anything else; a route without one needs ``read`` on
``*`` for GET/HEAD and ``admin`` on ``*`` otherwise. A new route is therefore never open by
accident, only more closed than it might need to be.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from schemashift.security.config import Right

SUBJECT_PARAM = "subject"
_READ_METHODS = frozenset({"GET", "HEAD"})
_CONVERTER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*):[A-Za-z_]+\}")


class AccessKind(StrEnum):
    PUBLIC = "public"  # no credentials: health probes
    AUTHENTICATED = "authenticated"  # any valid principal: metadata that names no subject
    SUBJECT = "subject"  # ``right`` on the subject in ``param`` (path or query)
    GLOBAL = "global"  # ``right`` on ``*``
    SCHEMA_ID = "schema_id"  # read on at least one subject that uses the schema id
    FILTERED_LIST = "filtered_list"  # any principal; the answer lists only readable subjects
    INGEST = "ingest"  # write on ``?subject=``, or write on ``*`` when the events name it
    RECORD = "record"  # read on the subject the answered record names (a dead letter by id)
    BODY_SUBJECT = "body_subject"  # ``right`` on the JSON body's ``subject``, or on ``*``


@dataclass(frozen=True, slots=True)
class Access:
    kind: AccessKind
    right: Right = Right.READ
    param: str = SUBJECT_PARAM
    # SCHEMA_ID routes whose answer is itself a list of subjects, filtered too; SUBJECT routes
    # that, naming no subject, answer a list filtered to readable subjects (instead of 403)
    filter_list: bool = False


PUBLIC = Access(AccessKind.PUBLIC)
AUTHENTICATED = Access(AccessKind.AUTHENTICATED)
FILTERED = Access(AccessKind.FILTERED_LIST)
READ_SUBJECT = Access(AccessKind.SUBJECT, Right.READ)
WRITE_SUBJECT = Access(AccessKind.SUBJECT, Right.WRITE)
ADMIN_SUBJECT = Access(AccessKind.SUBJECT, Right.ADMIN)
READ_GLOBAL = Access(AccessKind.GLOBAL, Right.READ)
WRITE_GLOBAL = Access(AccessKind.GLOBAL, Right.WRITE)
ADMIN_GLOBAL = Access(AccessKind.GLOBAL, Right.ADMIN)

_ANY = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_GET = _READ_METHODS
_POST = frozenset({"POST"})
_CHANGE = frozenset({"PUT", "PATCH", "DELETE"})

# (methods, anchored template regex, access). Templates have converters stripped.
RULES: tuple[tuple[frozenset[str], re.Pattern[str], Access], ...] = tuple(
    (methods, re.compile(template), access)
    for methods, template, access in [
        (_GET, r"/healthz|/readyz", PUBLIC),
        # API documentation and the UI shell are the same for everyone logged in.
        (_GET, r"/openapi\.json|/docs|/docs/oauth2-redirect|/redoc", AUTHENTICATED),
        (_GET, r"/|/ui|/ui/static/\{name\}|/ui/subjects/\{subject\}", AUTHENTICATED),
        (_GET, r"/ui/api/subjects", FILTERED),
        (_GET, r"/ui/api/subject|/ui/api/diff", READ_SUBJECT),  # ?subject=
        (_POST, r"/ui/api/quarantine/.*", WRITE_GLOBAL),
        # Confluent: lists, schema ids, global config and mode.
        (_GET, r"/subjects|/schemas|/v1/subjects", FILTERED),
        (_GET, r"/schemas/types|/config|/mode|/contexts|/v1", AUTHENTICATED),
        (
            _GET,
            r"/schemas/ids/\{\w+\}/(subjects|versions)",
            Access(AccessKind.SCHEMA_ID, filter_list=True),
        ),
        (_GET, r"/schemas/ids/\{\w+\}(/schema)?", Access(AccessKind.SCHEMA_ID)),
        (_CHANGE, r"/config|/mode", ADMIN_GLOBAL),
        (_GET, r"/(config|mode)/\{subject\}", READ_SUBJECT),
        (_CHANGE, r"/(config|mode)/\{subject\}", ADMIN_SUBJECT),
        # Lookups and compatibility checks read; they change nothing.
        (_POST, r"/subjects/\{subject\}", READ_SUBJECT),
        (_POST, r"/compatibility/subjects/\{subject\}/.*", READ_SUBJECT),
        (_POST, r"/v1/subjects/\{subject\}/(check|diff|compatibility|lookup)(/.*)?", READ_SUBJECT),
        (_POST, r"/v1/events", Access(AccessKind.INGEST, Right.WRITE)),
        # Dead letters: ?subject= reads one subject's; without it the list is filtered (rows
        # of no known subject are for readers of `*`), the counts need read on `*`.
        (_GET, r"/v1/dead-letters", Access(AccessKind.SUBJECT, Right.READ, filter_list=True)),
        (_GET, r"/v1/dead-letters/counts", READ_SUBJECT),
        (_GET, r"/v1/dead-letters/\{\w+\}", Access(AccessKind.RECORD)),
        (_POST, r"/v1/dead-letters/replay", Access(AccessKind.BODY_SUBJECT, Right.WRITE)),
        (_ANY, r".*webhook.*", ADMIN_GLOBAL),
    ]
)


def normalize_template(template: str) -> str:
    """``/subjects/{subject:path}`` → ``/subjects/{subject}``."""
    return _CONVERTER.sub(r"{\1}", template)


def access_for(method: str, template: str, *, public_metrics: bool = False) -> Access:
    """The access rule for a request served by the route with this template."""
    method = method.upper()
    path = normalize_template(template)
    if path == "/metrics" and method in _READ_METHODS:
        return PUBLIC if public_metrics else READ_GLOBAL
    for methods, pattern, access in RULES:
        if method in methods and pattern.fullmatch(path):
            return access
    if "{" + SUBJECT_PARAM + "}" in path:
        if method in _READ_METHODS:
            return READ_SUBJECT
        return WRITE_SUBJECT if method == "POST" else ADMIN_SUBJECT
    return READ_GLOBAL if method in _READ_METHODS else ADMIN_GLOBAL


def is_read_method(method: str) -> bool:
    return method.upper() in _READ_METHODS
