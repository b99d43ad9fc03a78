"""Subject names ↔ NATS subject tokens, and the bus subjects of the four streams.

A registry subject (``shop/order.created``) may contain characters a NATS token cannot
(``.`` separates tokens, ``*`` and ``>`` are wildcards, whitespace ends a subject). The
mapping is an escape code that is **injective** (two subjects never share a token) and
reversible:

* ASCII letters, digits and ``-`` stand for themselves;
* every other character, ``_`` included, becomes ``_`` followed by the two upper-case hex
  digits of each of its UTF-8 bytes: ``/`` → ``_2F``, ``.`` → ``_2E``, ``_`` → ``_5F``,
  ``é`` → ``_C3_A9``.

So ``shop/order.created`` → ``shop_2Forder_2Ecreated``. Because an encoded ``_`` is always
followed by two hex digits ``[0-9A-F]``, a token such as ``_unknown`` can never be the image
of a subject; it names the dead letters whose subject could not be determined.
"""

from __future__ import annotations

import re

from schemashift.bus.base import DEFAULT_PREFIX, StreamKind

UNKNOWN_SUBJECT_TOKEN = "_unknown"

_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")
_ESCAPE = re.compile(r"_([0-9A-F]{2})")
_VALID_TOKEN = re.compile(r"(?:[A-Za-z0-9-]|_[0-9A-F]{2})+")


def subject_token(subject: str) -> str:
    """The NATS-safe token of a registry subject (see the module docstring)."""
    if not subject:
        raise ValueError("a subject name cannot be empty")
    if all(ch in _SAFE for ch in subject):
        return subject  # the common case costs one scan
    out: list[str] = []
    for ch in subject:
        if ch in _SAFE:
            out.append(ch)
        else:
            out.extend(f"_{byte:02X}" for byte in ch.encode("utf-8", "surrogatepass"))
    return "".join(out)


def token_subject(token: str) -> str:
    """The subject a token was made from; :class:`ValueError` if no subject maps to it."""
    if not _VALID_TOKEN.fullmatch(token):
        raise ValueError(f"{token!r} is not a subject token")
    raw = bytearray()
    pos = 0
    for match in _ESCAPE.finditer(token):
        raw.extend(token[pos : match.start()].encode("ascii"))
        raw.append(int(match.group(1), 16))
        pos = match.end()
    raw.extend(token[pos:].encode("ascii"))
    return raw.decode("utf-8", "surrogatepass")


class BusSubjects:
    """The bus subjects for one prefix (``schemashift`` unless configured)."""

    def __init__(self, prefix: str = DEFAULT_PREFIX) -> None:
        if not prefix or any(c in prefix for c in " *>\t\r\n") or prefix.endswith("."):
            raise ValueError(f"invalid bus prefix {prefix!r}")
        self.prefix = prefix

    def wildcard(self, kind: StreamKind) -> str:
        return f"{self.prefix}.{kind.value}.>"

    def raw(self, subject: str | None = None) -> str:
        """Where raw events are published; by subject when known, else ``<prefix>.raw.in``."""
        return f"{self.prefix}.raw.{subject_token(subject) if subject else 'in'}"

    def events(self, subject: str) -> str:
        return f"{self.prefix}.events.{subject_token(subject)}"

    def dlq(self, subject: str | None) -> str:
        token = subject_token(subject) if subject else UNKNOWN_SUBJECT_TOKEN
        return f"{self.prefix}.dlq.{token}"

    def schemas(self, subject: str) -> str:
        return f"{self.prefix}.schemas.{subject_token(subject)}"

    def parked(self, subject: str) -> str:
        return f"{self.prefix}.parked.{subject_token(subject)}"

    def subject_of(self, bus_subject: str) -> str | None:
        """The registry subject in the last token of a bus subject (None for ``_unknown``)."""
        token = bus_subject.rsplit(".", 1)[-1]
        if token == UNKNOWN_SUBJECT_TOKEN:
            return None
        return token_subject(token)
