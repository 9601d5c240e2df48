"""Property tests for the framing decoders and for error mapping.

Decoders (``_sse``, ``_ndjson``): hypothesis builds arbitrary well-formed streams from a model
(arbitrary Unicode data, event names, ids, retry values, comments, mixed line endings, an
optional BOM, a missing final blank line; arbitrary JSON values one per line) and checks that
any split of the bytes decodes to exactly the model's events. Arbitrary bytes with tiny size
limits only ever raise :class:`kairos.ProtocolError`, and no dispatched event exceeds the limit.
(``test_sse.py`` / ``test_ndjson.py`` already check whole-versus-split on arbitrary bytes.)

Error mapping: every codec's ``parse_error`` turns any status, any headers and any body (bytes,
non-UTF-8, HTML, JSON of any shape, near-valid error objects) into a typed
:class:`kairos.APIStatusError` with a one-line message; the public path (an HTTP error through
``httpx.MockTransport``) raises the same kind of error from ``chat_stream``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import kairos
from kairos._ndjson import NDJSONDecoder
from kairos._sse import ServerSentEvent, SSEDecoder
from kairos.providers import make_codec

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PRESETS = ["openai", "qwen", "anthropic", "gemini", "ollama"]
URL = "http://mock.test"


def split(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(body)) for c in cuts})
    return [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]


CUTS = st.lists(st.integers(0, 2000), max_size=8)

# -- SSE: a model of events, serialised, split anywhere --------------------------------------------
LINE_TEXT = st.text(max_size=12).filter(lambda s: "\n" not in s and "\r" not in s)
NL = st.sampled_from(["\n", "\r", "\r\n"])


@st.composite
def sse_event(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "event": draw(st.none() | LINE_TEXT),
        "data": draw(st.lists(LINE_TEXT, min_size=1, max_size=3)),
        "id": draw(st.none() | LINE_TEXT.filter(lambda s: "\0" not in s)),
        "retry": draw(st.none() | st.integers(0, 10**12)),
        "comment": draw(st.none() | LINE_TEXT),
        "nl": draw(NL),
        "space": draw(st.booleans()),  # "data: x" or "data:x"
    }


def sse_serialise(events: list[dict[str, Any]], bom: bool, last_blank: bool) -> bytes:
    out = ["\ufeff"] if bom else []
    for i, e in enumerate(events):
        nl, lines = e["nl"], []
        if e["comment"] is not None:
            lines.append(":" + e["comment"])
        if e["event"] is not None:
            lines.append("event: " + e["event"])
        for d in e["data"]:
            sep = ": " if e["space"] or d.startswith(" ") else ":"
            lines.append("data" + sep + d)
        if e["id"] is not None:
            lines.append("id: " + e["id"])
        if e["retry"] is not None:
            lines.append(f"retry: {e['retry']}")
        out.append("".join(line + nl for line in lines))
        if last_blank or i < len(events) - 1:
            out.append(nl)  # the blank line that dispatches (same line ending as the event)
    return "".join(out).encode()


def sse_expected(events: list[dict[str, Any]]) -> list[ServerSentEvent]:
    out, last_id, retry = [], "", None
    for e in events:
        last_id = e["id"] if e["id"] is not None else last_id
        retry = e["retry"] if e["retry"] is not None else retry
        out.append(ServerSentEvent(e["event"] or "message", "\n".join(e["data"]), last_id, retry))
    return out


def sse_decode(pieces: list[bytes], limit: int | None = None) -> list[ServerSentEvent]:
    dec = SSEDecoder() if limit is None else SSEDecoder(limit)
    out: list[ServerSentEvent] = []
    for piece in pieces:
        out += dec.feed(piece)
    return out + dec.flush()


@SETTINGS
@given(
    events=st.lists(sse_event(), max_size=6),
    bom=st.booleans(),
    last_blank=st.booleans(),
    cuts=CUTS,
)
def test_sse_model_round_trip_any_split(
    events: list[dict[str, Any]], bom: bool, last_blank: bool, cuts: list[int]
) -> None:
    body = sse_serialise(events, bom, last_blank)
    assert sse_decode(split(body, cuts)) == sse_expected(events)
    # one byte at a time is the worst split
    assert sse_decode([body[i : i + 1] for i in range(len(body))]) == sse_expected(events)


@SETTINGS
@given(body=st.binary(max_size=600), cuts=CUTS, limit=st.integers(1, 64))
def test_sse_arbitrary_bytes_tiny_limit_only_protocol_error(
    body: bytes, cuts: list[int], limit: int
) -> None:
    dec = SSEDecoder(limit)
    events: list[ServerSentEvent] = []
    try:
        for piece in split(body, cuts):
            events += dec.feed(piece)
        events += dec.flush()
    except kairos.ProtocolError as err:
        assert len(str(err).splitlines()) == 1
    # bounded memory: nothing larger than the limit is ever handed on
    assert all(len(e.data) <= limit for e in events)


# -- NDJSON: arbitrary JSON values, one per line ---------------------------------------------------
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=12,
)
BLANK = st.sampled_from(["", " ", "\t", "\r", "  \r"])


@SETTINGS
@given(
    values=st.lists(JSON, max_size=8),
    ends=st.lists(st.sampled_from(["\n", "\r\n"]), min_size=8, max_size=8),
    blanks=st.lists(BLANK, min_size=8, max_size=8),
    final_newline=st.booleans(),
    cuts=CUTS,
)
def test_ndjson_model_round_trip_any_split(
    values: list[Any], ends: list[str], blanks: list[str], final_newline: bool, cuts: list[int]
) -> None:
    text = ""
    for value, end, blank in zip(values, ends, blanks, strict=False):
        text += blank + end + json.dumps(value, ensure_ascii=False) + end
    if values and not final_newline:
        text = text.rstrip("\r\n")
    body = text.encode()
    dec = NDJSONDecoder()
    lines: list[bytes] = []
    for piece in split(body, cuts):
        lines += dec.feed(piece)
    lines += dec.flush()
    assert [json.loads(line) for line in lines] == values


@SETTINGS
@given(body=st.binary(max_size=600), cuts=CUTS, limit=st.integers(1, 64))
@example(body=b"\x00\x00\x00\n", cuts=[], limit=1)  # a whole line in one read skipped the limit
def test_ndjson_arbitrary_bytes_tiny_limit_only_protocol_error(
    body: bytes, cuts: list[int], limit: int
) -> None:
    dec = NDJSONDecoder(limit)
    lines: list[bytes] = []
    try:
        for piece in split(body, cuts):
            lines += dec.feed(piece)
        lines += dec.flush()
    except kairos.ProtocolError as err:
        assert len(str(err).splitlines()) == 1
    assert all(len(line) <= limit for line in lines)


# -- error mapping ---------------------------------------------------------------------------------
ERROR_KEYS = [
    "error", "message", "type", "code", "status", "status_code", "details", "param", "@type",
    "reason", "retryDelay", "request_id", "detail", "msg", "metadata",
]  # fmt: skip
WEIRD = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([-1, 0, 400, 429, 529, 2**64, -(10**30)]),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["RESOURCE_EXHAUSTED", "overloaded_error", "rate_limit_exceeded", "37s"]),
)
ERROR_JSON = st.recursive(
    WEIRD,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(ERROR_KEYS) | st.text(max_size=4), inner, max_size=5)
    ),
    max_leaves=15,
)
HTML = st.builds(
    lambda title, text: (
        f"<html><head><title>{title}</title></head><body>\n<h1>{text}</h1>\n"
        f"<p>{text}\r\n{title}</p></body></html>".encode()
    ),
    st.text(max_size=20),
    st.text(max_size=60),
)
ERROR_OBJ = st.fixed_dictionaries({}, optional=dict.fromkeys(ERROR_KEYS, ERROR_JSON))
NEAR_VALID = st.one_of(  # the documented envelopes around an error object of any field types
    ERROR_OBJ,
    st.builds(lambda e: {"error": e}, ERROR_OBJ),
    st.builds(lambda e: [{"error": e}], ERROR_OBJ),
    st.builds(lambda e: {"type": "error", "error": e}, ERROR_OBJ),
    st.builds(lambda d: {"error": {"status": "RESOURCE_EXHAUSTED", "details": d}}, ERROR_JSON),
)
BODY = st.one_of(
    NEAR_VALID.map(lambda v: json.dumps(v).encode()),
    NEAR_VALID.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=300),
    st.sampled_from([b"", b"\xff\xfe\x00", b"\x80abc\n\xc3", b"null", b"[]", b"{"]),
    HTML,
    ERROR_JSON.map(lambda v: json.dumps(v).encode()),
    st.text(max_size=200).map(lambda s: s.encode("utf-16")),
)
HEADER_NAMES = [
    "content-type", "retry-after", "retry-after-ms", "x-request-id", "request-id",
]  # fmt: skip
HEADER_VALUE = st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
    st.sampled_from(
        ["text/html", "application/json", "-5", "1e400", "nan", "inf", "99999999999999999999"]
    ),
    st.sampled_from(["Wed, 21 Oct 2015 07:28:00 GMT", "Mon, 99 Foo 99999 99:99:99 GMT", "0"]),
)
HEADERS = st.dictionaries(st.sampled_from(HEADER_NAMES), HEADER_VALUE, max_size=5)
STATUS = st.one_of(st.integers(400, 599), st.integers(0, 999), st.sampled_from([429, 503, 529]))


def check_error(err: BaseException, provider: str) -> None:
    assert isinstance(err, kairos.APIStatusError), repr(err)
    text = str(err)
    assert text and len(text.splitlines()) == 1 and text == text.strip(), text
    assert repr(err)
    assert err.provider == provider
    retry_after = getattr(err, "retry_after", None)
    assert retry_after is None or retry_after >= 0, retry_after


@SETTINGS
@given(preset=st.sampled_from(PRESETS), status=STATUS, headers=HEADERS, body=BODY)
@example(preset="gemini", status=429, headers={}, body=b'{"error":{"details":5}}')  # TypeError
@example(  # RecursionError in error_text()
    preset="openai", status=500, headers={}, body=b'{"error":%s1%s}' % (b"[" * 450, b"]" * 450)
)
def test_parse_error_always_typed_one_line(
    preset: str, status: int, headers: dict[str, str], body: bytes
) -> None:
    codec = make_codec(preset, api_key="sk-test-0123456789", base_url=URL)
    err = codec.parse_error(status, httpx.Headers(headers), body)
    check_error(err, preset)
    assert err.status == status


@settings(SETTINGS, max_examples=80)
@given(preset=st.sampled_from(PRESETS), status=st.integers(400, 599), headers=HEADERS, body=BODY)
def test_http_error_through_public_path_is_typed(
    preset: str, status: int, headers: dict[str, str], body: bytes
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=headers, content=body)

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        p = kairos.provider(
            preset, api_key="sk-test-0123456789", base_url=URL, http_client=client, max_retries=0
        )
        req = kairos.ChatRequest([kairos.Message.user("hi")], model="m")
        try:
            p.chat_stream(req)
        except kairos.KairosError as err:
            check_error(err, preset)
        else:
            raise AssertionError("an HTTP error status must raise from chat_stream")
