"""Version casting: an event of version ``a`` made into an event of version ``b``.

A consumer pinned to v1 keeps getting v1-shaped events while producers emit v3: the event is
conformed to each version in between, one step at a time, up or down. Before a step, the
renames accepted for it are applied — ``aliases[n]`` maps an old JSON Pointer (as in version
``n - 1``) to its new one (as in version ``n``); going down the same map is used backwards.
``*`` in a pointer stands for every array item or map value, in both paths at the same place:
``{"/lines/*/sku": "/lines/*/product_code"}``.

Intermediate steps drop what the next version does not declare (an event of version ``n``
has version ``n``'s shape); the last step uses the caller's options, which by default also
drop undeclared fields and write the target version's metadata.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from schemashift.core.transform.cache import TransformerCache
from schemashift.core.transform.context import FAIL, Ctx, copy_json
from schemashift.core.transform.options import ExtrasPolicy, TransformOptions
from schemashift.core.transform.result import Conformed, Rejected
from schemashift.core.transform.transformer import Transformer

CAST_OPTIONS = TransformOptions(extras=ExtrasPolicy.DROP)


def cast(
    payload: Any,
    *,
    from_version: int,
    to_version: int,
    versions: Mapping[int, Mapping[str, Any]],
    aliases: Mapping[int, Mapping[str, str]] | None = None,
    options: TransformOptions | None = None,
    subject: str | None = None,
    schema_id: int | None = None,
    cache: TransformerCache | None = None,
) -> Conformed | Rejected:
    """Cast ``payload`` from ``from_version`` to ``to_version`` through every version between.

    ``versions`` maps each version number to its schema; every version from one end to the
    other must be there (``ValueError`` otherwise — that is misuse, not bad data). Pass a
    ``cache`` when casting many events: each step's transformer is then compiled once.
    Metadata fields of the input (from its own version) are removed before the first step.
    """
    final = options if options is not None else CAST_OPTIONS
    renames = aliases or {}
    step = 1 if to_version >= from_version else -1
    path = list(range(from_version + step, to_version + step, step)) or [to_version]
    missing = [v for v in {from_version, *path} if v not in versions]
    if missing:
        raise ValueError(f"cannot cast {from_version} -> {to_version}: no schema for {missing}")
    if not isinstance(payload, dict):
        return _compile(versions[to_version], to_version, final, subject, schema_id, cache)(payload)
    ctx = Ctx()
    current = copy_json(payload, ctx)
    if current is FAIL:
        return Rejected(ctx.finish(), to_version)
    for name in final.metadata_fields:
        if name is not None:
            current.pop(name, None)
    intermediate = dataclasses.replace(
        final,
        extras=ExtrasPolicy.DROP,
        version_field=None,
        schema_id_field=None,
        subject_field=None,
    )
    previous = from_version
    for version in path:
        if version != previous:
            moves = renames.get(max(version, previous), {})
            for old, new in moves.items():
                source, target = (old, new) if step > 0 else (new, old)
                move(current, source, target)
        last = version == path[-1]
        transformer = _compile(
            versions[version],
            version,
            final if last else intermediate,
            subject if last else None,
            schema_id if last else None,
            cache,
        )
        result = transformer(current)
        if isinstance(result, Rejected) or last:
            return result
        current = result.payload
        previous = version
    raise AssertionError("unreachable: the path is never empty")  # pragma: no cover


def _compile(
    schema: Mapping[str, Any],
    version: int,
    options: TransformOptions,
    subject: str | None,
    schema_id: int | None,
    cache: TransformerCache | None,
) -> Transformer:
    if cache is not None:
        return cache.get(
            schema, version=version, subject=subject, schema_id=schema_id, options=options
        )
    return Transformer(
        schema, version=version, subject=subject, schema_id=schema_id, options=options
    )


def parse_pointer(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"{pointer!r} is not a JSON Pointer")
    return [s.replace("~1", "/").replace("~0", "~") for s in pointer[1:].split("/")]


def move(document: dict[str, Any], source: str, target: str) -> None:
    """Move the value(s) at ``source`` to ``target`` in place; a value already there wins."""
    old, new = parse_pointer(source), parse_pointer(target)
    if not old or not new:
        raise ValueError("a rename cannot move the whole document")
    common = 0
    while common < min(len(old), len(new)) - 1 and old[common] == new[common]:
        common += 1
    if "*" in old[common:] or "*" in new[common:]:
        raise ValueError(f"{source} -> {target}: '*' must sit in the shared leading part")
    for parent in _select(document, old[:common]):
        if not isinstance(parent, dict):
            continue
        holder = _walk(parent, old[common:-1], create=False)
        if not isinstance(holder, dict) or old[-1] not in holder:
            continue
        value = holder.pop(old[-1])
        destination = _walk(parent, new[common:-1], create=True)
        if isinstance(destination, dict):
            destination.setdefault(new[-1], value)


def _select(node: Any, segments: list[str]) -> list[Any]:
    nodes = [node]
    for segment in segments:
        following: list[Any] = []
        for current in nodes:
            if segment == "*":
                if isinstance(current, dict):
                    following.extend(current.values())
                elif isinstance(current, list):
                    following.extend(current)
            elif isinstance(current, dict) and segment in current:
                following.append(current[segment])
            elif isinstance(current, list) and segment.isdigit() and int(segment) < len(current):
                following.append(current[int(segment)])
        nodes = following
    return nodes


def _walk(node: Any, segments: list[str], *, create: bool) -> Any:
    for segment in segments:
        if not isinstance(node, dict):
            return None
        if segment not in node:
            if not create:
                return None
            node[segment] = {}
        node = node[segment]
    return node
