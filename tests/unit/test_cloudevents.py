"""Reading raw events: CloudEvents binary/structured/batch and plain JSON, refusals as values."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemashift.core.canonical import canonical_bytes
from schemashift.core.jsonparse import DEFAULT_LIMITS, DuplicateKeys, ParseCode, ParseLimits
from schemashift.pipeline.cloudevents import (
    EventCode,
    EventFormat,
    RawEvent,
    SubjectExtractor,
    SubjectStrategy,
    Unreadable,
    parse_batch,
    parse_message,
    resolve_pointer,
)

POINTER = SubjectExtractor.parse("/type")
NONE = SubjectExtractor()
REJECT = ParseLimits(duplicate_keys=DuplicateKeys.REJECT)

BINARY_HEADERS = {
    "ce-specversion": "1.0",
    "ce-id": "e-1",
    "ce-source": "shop",
    "ce-type": "order.created",
    "ce-time": "2026-01-01T00:00:00Z",
    "content-type": "application/json",
}


def structured(**extra: object) -> dict[str, object]:
    event: dict[str, object] = {
        "specversion": "1.0",
        "id": "e-2",
        "source": "shop",
        "type": "order.paid",
        "data": {"amount": 3},
    }
    event.update(extra)
    return event


def test_binary_mode_reads_attributes_from_headers() -> None:
    """ce- headers give the attributes; the body is the data; subject is source/type."""
    event = parse_message(b'{"sku":"A1","qty":2}', BINARY_HEADERS, NONE)
    assert isinstance(event, RawEvent)
    assert event.format is EventFormat.BINARY
    assert event.subject == "shop/order.created"
    assert (event.id, event.source, event.type) == ("e-1", "shop", "order.created")
    assert event.time == "2026-01-01T00:00:00Z"
    assert event.payload == {"sku": "A1", "qty": 2}
    assert event.body == b'{"sku":"A1","qty":2}'


def test_header_names_are_case_insensitive() -> None:
    """CE-Type and ce-type are the same header."""
    headers = {k.upper(): v for k, v in BINARY_HEADERS.items()}
    event = parse_message(b"{}", headers, NONE)
    assert isinstance(event, RawEvent) and event.type == "order.created"


def test_binary_mode_missing_required_attribute_is_unreadable() -> None:
    """A binary event without ce-source is refused with invalid_cloudevent."""
    headers = {k: v for k, v in BINARY_HEADERS.items() if k != "ce-source"}
    result = parse_message(b"{}", headers, NONE)
    assert isinstance(result, Unreadable) and result.code == EventCode.INVALID_CLOUDEVENT


def test_binary_mode_refuses_non_json_content() -> None:
    """Binary-mode data that is not JSON is refused, subject still known for the DLQ."""
    headers = {**BINARY_HEADERS, "content-type": "text/plain"}
    result = parse_message(b"hello", headers, NONE)
    assert isinstance(result, Unreadable)
    assert result.code == EventCode.UNSUPPORTED_CONTENT_TYPE
    assert result.subject == "shop/order.created"


def test_wrong_specversion_is_refused() -> None:
    """Only CloudEvents 1.0 is read."""
    result = parse_message(orjson.dumps(structured(specversion="0.3")), {}, NONE)
    assert isinstance(result, Unreadable) and result.code == EventCode.UNSUPPORTED_SPECVERSION


def test_structured_mode_detected_by_specversion_member() -> None:
    """A JSON object with specversion is a structured CloudEvent; data is the payload."""
    event = parse_message(orjson.dumps(structured()), {}, NONE)
    assert isinstance(event, RawEvent)
    assert event.format is EventFormat.STRUCTURED
    assert event.subject == "shop/order.paid"
    assert event.payload == {"amount": 3}
    assert event.body is None


def test_structured_mode_data_base64() -> None:
    """data_base64 is decoded and parsed strictly."""
    raw = b'{"amount": 4}'
    event = parse_message(
        orjson.dumps(
            {k: v for k, v in structured(data_base64=base64.b64encode(raw).decode()).items()}
            | {"data": None}
        ),
        {},
        NONE,
    )
    assert isinstance(event, RawEvent) and event.payload == {"amount": 4}
    bad = structured(data_base64="***")
    del bad["data"]
    result = parse_message(orjson.dumps(bad), {}, NONE)
    assert isinstance(result, Unreadable) and result.code == EventCode.INVALID_CLOUDEVENT


def test_structured_mode_needs_object_data() -> None:
    """Missing data and non-object data are distinct refusals."""
    no_data = structured()
    del no_data["data"]
    missing = parse_message(orjson.dumps(no_data), {}, NONE)
    assert isinstance(missing, Unreadable) and missing.code == EventCode.MISSING_DATA
    scalar = parse_message(orjson.dumps(structured(data=[1])), {}, NONE)
    assert isinstance(scalar, Unreadable) and scalar.code == ParseCode.NOT_AN_OBJECT


def test_type_strategy_names_subject_by_type() -> None:
    """SubjectStrategy.TYPE uses the CloudEvent type alone."""
    extractor = SubjectExtractor(strategy=SubjectStrategy.TYPE)
    event = parse_message(orjson.dumps(structured()), {}, extractor)
    assert isinstance(event, RawEvent) and event.subject == "order.paid"


def test_batch_parses_each_element() -> None:
    """A batch yields one result per element, good and bad side by side."""
    body = orjson.dumps([structured(), {"specversion": "1.0"}, structured(id="e-3")])
    results = parse_batch(body, NONE)
    assert isinstance(results, list) and len(results) == 3
    assert isinstance(results[0], RawEvent) and isinstance(results[2], RawEvent)
    assert isinstance(results[1], Unreadable)
    not_array = parse_batch(b"{}", NONE)
    assert isinstance(not_array, Unreadable)


def test_plain_json_with_pointer_and_fixed_subject() -> None:
    """Plain payloads get their subject from a JSON Pointer or a fixed name."""
    event = parse_message(b'{"type":"click","x":1}', {}, POINTER)
    assert isinstance(event, RawEvent) and event.subject == "click"
    assert event.format is EventFormat.PLAIN
    fixed = parse_message(b'{"x":1}', {}, SubjectExtractor.parse("clicks"))
    assert isinstance(fixed, RawEvent) and fixed.subject == "clicks"
    missing = parse_message(b'{"x":1}', {}, POINTER)
    assert isinstance(missing, Unreadable) and missing.code == EventCode.NO_SUBJECT


def test_subject_header_overrides_every_mode() -> None:
    """schemashift-subject names the subject for plain and CloudEvents alike."""
    plain = parse_message(b'{"x":1}', {"schemashift-subject": "forced"}, NONE)
    assert isinstance(plain, RawEvent) and plain.subject == "forced"
    binary = parse_message(b"{}", {**BINARY_HEADERS, "Schemashift-Subject": "forced"}, NONE)
    assert isinstance(binary, RawEvent) and binary.subject == "forced"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"a":1,"a":2}', ParseCode.DUPLICATE_KEY),
        (b'{"a":NaN}', ParseCode.NAN_OR_INFINITY),
        (b'{"a":"\xff"}', ParseCode.INVALID_UTF8),
        (b"[1,2]", ParseCode.NOT_AN_OBJECT),
        (b"{", ParseCode.MALFORMED),
        (b'{"a":' + b"1" * 5000 + b"}", ParseCode.INTEGER_TOO_LONG),
        (b"[" * 100 + b"]" * 100, ParseCode.TOO_DEEP),
    ],
)
def test_hostile_payloads_become_parse_codes(body: bytes, code: ParseCode) -> None:
    """Strict parsing refusals surface as Unreadable with the ParseCode, in every mode."""
    plain = parse_message(body, {"schemashift-subject": "s"}, NONE, REJECT)
    assert isinstance(plain, Unreadable) and plain.code == code
    binary = parse_message(body, BINARY_HEADERS, NONE, REJECT)
    assert isinstance(binary, Unreadable) and binary.code == code


GITLAB_BUILD = (
    b'{"object_kind":"build","repository":{"name":"r","git_ssh_url":"git@a:r.git",'
    b'"git_http_url":"https://a/r.git","git_ssh_url":"git@b:r.git"},"build_id":1}'
)


def test_repeated_keys_are_kept_last_and_listed_in_every_mode() -> None:
    """By default a repeated key keeps its last value (as JSON.parse does) and the event
    carries the key's JSON Pointer, relative to its payload, in every mode."""
    expected = ("/repository/git_ssh_url",)
    plain = parse_message(GITLAB_BUILD, {"schemashift-subject": "gitlab"}, NONE)
    assert isinstance(plain, RawEvent) and plain.duplicate_keys == expected
    assert plain.payload == json.loads(GITLAB_BUILD)
    assert plain.payload["repository"]["git_ssh_url"] == "git@b:r.git"
    assert plain.body == GITLAB_BUILD  # the bytes as sent: a transformer re-reads them alike

    binary = parse_message(GITLAB_BUILD, BINARY_HEADERS, NONE)
    assert isinstance(binary, RawEvent) and binary.duplicate_keys == expected

    envelope = b'{"specversion":"1.0","id":"1","source":"gitlab","type":"build","data":'
    inline = parse_message(envelope + GITLAB_BUILD + b"}", {}, NONE)
    assert isinstance(inline, RawEvent) and inline.duplicate_keys == expected
    assert inline.payload == json.loads(GITLAB_BUILD)

    encoded = base64.b64encode(GITLAB_BUILD)
    b64 = parse_message(
        b'{"specversion":"1.0","id":"1","source":"g","type":"b","data_base64":"%s"}' % encoded,
        {},
        NONE,
    )
    assert isinstance(b64, RawEvent) and b64.duplicate_keys == expected

    [first, second] = parse_batch(
        b"[" + envelope + b'{"a":1}},' + envelope + GITLAB_BUILD + b"}]", NONE
    )
    assert isinstance(first, RawEvent) and first.duplicate_keys == ()
    assert isinstance(second, RawEvent) and second.duplicate_keys == expected


def test_a_repeated_envelope_attribute_is_not_the_payloads() -> None:
    """A key repeated in a structured event's envelope keeps its last value but is not
    listed: duplicate_keys points into the payload."""
    body = b'{"specversion":"1.0","id":"1","id":"2","source":"s","type":"t","data":{"a":1}}'
    event = parse_message(body, {}, NONE)
    assert isinstance(event, RawEvent)
    assert event.id == "2" and event.duplicate_keys == ()


def test_clean_events_list_no_repeated_keys() -> None:
    """The field is an empty tuple normally."""
    event = parse_message(b'{"type":"click","x":1}', {}, POINTER, DEFAULT_LIMITS)
    assert isinstance(event, RawEvent) and event.duplicate_keys == ()


def test_reject_refuses_a_repeated_key_in_every_mode() -> None:
    """Under reject, the same events are unreadable with duplicate_key."""
    envelope = b'{"specversion":"1.0","id":"1","source":"gitlab","type":"build","data":'
    for body, headers in [
        (GITLAB_BUILD, {"schemashift-subject": "gitlab"}),
        (GITLAB_BUILD, BINARY_HEADERS),
        (envelope + GITLAB_BUILD + b"}", {}),
    ]:
        result = parse_message(body, headers, NONE, REJECT)
        assert isinstance(result, Unreadable) and result.code == ParseCode.DUPLICATE_KEY


def test_size_limit_applies() -> None:
    """Payloads over the byte limit are refused as too_large."""
    result = parse_message(b'{"a":"' + b"x" * 200 + b'"}', {}, POINTER, ParseLimits(max_bytes=100))
    assert isinstance(result, Unreadable) and result.code == ParseCode.TOO_LARGE


def test_resolve_pointer_follows_rfc6901() -> None:
    """Escapes ~0 and ~1, array indexes, and missing paths."""
    doc = {"a/b": {"m~n": [10, 20]}}
    assert resolve_pointer(doc, "/a~1b/m~0n/1") == 20
    assert resolve_pointer(doc, "/nope") is None
    assert resolve_pointer(doc, "/a~1b/m~0n/9") is None
    assert resolve_pointer(doc, "") == doc


def test_extractor_refuses_ambiguous_configuration() -> None:
    """A pointer and a fixed subject together, or a pointer without '/', are misuse."""
    with pytest.raises(ValueError):
        SubjectExtractor(pointer="/a", fixed="b")
    with pytest.raises(ValueError):
        SubjectExtractor(pointer="type")


@settings(max_examples=100)
@given(
    st.dictionaries(
        st.text(max_size=8),
        st.one_of(st.integers(), st.text(max_size=8), st.booleans(), st.none()),
        max_size=6,
    )
)
def test_binary_and_structured_agree(payload: dict[str, object]) -> None:
    """The same event read in binary mode and in structured mode gives the same payload."""
    binary = parse_message(canonical_bytes(payload), BINARY_HEADERS, NONE)
    as_structured = parse_message(
        canonical_bytes(
            {
                "specversion": "1.0",
                "id": "e-1",
                "source": "shop",
                "type": "order.created",
                "data": payload,
            }
        ),
        {},
        NONE,
    )
    assert isinstance(binary, RawEvent) and isinstance(as_structured, RawEvent)
    assert binary.payload == as_structured.payload == payload
    assert binary.subject == as_structured.subject


@pytest.mark.corpus
def test_corpus_payloads_read_as_plain_events(corpus_files: list[Path]) -> None:
    """Every real payload of the shared corpus is a readable plain event (or a clear refusal)."""
    read = 0
    for path in corpus_files[:25]:
        for line in path.read_bytes().splitlines()[:20]:
            if not line.strip():
                continue
            result = parse_message(line, {}, SubjectExtractor.parse(path.stem))
            if isinstance(result, RawEvent):
                assert result.subject == path.stem
                assert result.payload == json.loads(line)
                read += 1
            else:
                assert result.code in {c.value for c in ParseCode}
    assert read > 0
