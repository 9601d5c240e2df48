"""SSEDecoder: the WHATWG event-stream parsing rules, and split-invariance on recorded bodies.

Spec: https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kairos
from cases import all_bodies, conformance
from kairos._sse import ServerSentEvent, SSEDecoder

SSE_BODIES = all_bodies("sse")
BIG = 20 * 1024


def ev(
    data: str, event: str = "message", id: str = "", retry: int | None = None
) -> ServerSentEvent:
    return ServerSentEvent(event, data, id, retry)


def decode(*feeds: bytes, max_event_bytes: int | None = None) -> list[ServerSentEvent]:
    dec = SSEDecoder() if max_event_bytes is None else SSEDecoder(max_event_bytes)
    out: list[ServerSentEvent] = []
    for f in feeds:
        out += dec.feed(f)
    return out + dec.flush()


# -- line endings ------------------------------------------------------------------------------
@pytest.mark.parametrize("nl", [b"\n", b"\r", b"\r\n"], ids=["LF", "CR", "CRLF"])
def test_line_endings(nl: bytes) -> None:
    body = b"data: a" + nl + nl + b"data: b" + nl + b"data: c" + nl + nl
    assert decode(body) == [ev("a"), ev("b\nc")]


def test_mixed_line_endings() -> None:
    assert decode(b"data: a\rdata: b\ndata: c\r\n\r\n") == [ev("a\nb\nc")]


def test_cr_then_lf_across_feeds_is_one_line_end() -> None:
    # "data: x\r" | "\n" | "\n": CRLF split across reads is one line end; the next LF dispatches
    dec = SSEDecoder()
    assert dec.feed(b"data: x\r") == []
    assert dec.feed(b"\n") == []  # not a blank line: the CR and LF are one line end
    assert dec.feed(b"\n") == [ev("x")]
    # and CR | CR is two line ends (a dispatch)
    dec = SSEDecoder()
    assert dec.feed(b"data: y\r") == []
    assert dec.feed(b"\r") == [ev("y")]


def test_cr_at_end_then_lf_then_data_across_feeds() -> None:
    assert decode(b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n") == [ev("a\nb")]


# -- fields --------------------------------------------------------------------------------------
def test_comments_are_ignored() -> None:
    assert decode(b": ping\n\n:\ndata: a\n: inside\n\n") == [ev("a")]


def test_data_space_handling() -> None:
    assert decode(b"data:a\n\n") == [ev("a")]
    assert decode(b"data: a\n\n") == [ev("a")]
    assert decode(b"data:  a\n\n") == [ev(" a")]  # only one space removed
    assert decode(b"data\n\n") == [ev("")]  # no colon: the whole line is the name
    assert decode(b"data:\ndata:\n\n") == [ev("\n")]


def test_multiline_data_joined_with_lf() -> None:
    assert decode(b"data: {\ndata: 1\ndata: }\n\n") == [ev("{\n1\n}")]


def test_event_names() -> None:
    body = b"event: ping\ndata: 1\n\ndata: 2\n\nevent:delta\ndata: 3\n\n"
    assert decode(body) == [ev("1", "ping"), ev("2"), ev("3", "delta")]


def test_event_name_is_reset_even_without_dispatch() -> None:
    assert decode(b"event: x\n\ndata: 1\n\n") == [ev("1")]


def test_unknown_fields_ignored() -> None:
    assert decode(b"foo: bar\ndata: 1\nbaz\n\n") == [ev("1")]


def test_id_persists_and_nul_is_ignored() -> None:
    body = b"id: 7\ndata: a\n\ndata: b\n\nid: 8\x009\ndata: c\n\nid\ndata: d\n\n"
    got = decode(body)
    assert [e.id for e in got] == ["7", "7", "7", ""]
    assert [e.data for e in got] == ["a", "b", "c", "d"]


def test_retry_digits_only() -> None:
    assert decode(b"retry: 1500\ndata: a\n\n")[0].retry == 1500
    assert decode(b"retry: 15x\ndata: a\n\n")[0].retry is None
    assert decode(b"retry: -1\ndata: a\n\n")[0].retry is None
    assert decode(b"retry:\ndata: a\n\n")[0].retry is None


def test_event_without_data_is_not_dispatched() -> None:
    assert decode(b"event: ping\n\n") == []
    assert decode(b"id: 1\n\n") == []
    assert decode(b"retry: 10\n\n") == []
    assert decode(b"\n\n\n") == []


# -- encoding --------------------------------------------------------------------------------------
def test_leading_bom_is_dropped() -> None:
    assert decode(b"\xef\xbb\xbfdata: a\n\n") == [ev("a")]


@pytest.mark.parametrize("cut", [1, 2, 3])
def test_leading_bom_split_across_feeds(cut: int) -> None:
    body = b"\xef\xbb\xbfdata: a\n\n"
    assert decode(body[:cut], body[cut:]) == [ev("a")]
    assert decode(*[body[i : i + 1] for i in range(len(body))]) == [ev("a")]


def test_only_the_first_bom_is_dropped() -> None:
    assert decode(b"\xef\xbb\xbfdata: a\n\n\xef\xbb\xbfdata: b\n\n") == [ev("a")]
    assert decode(b"data: \xef\xbb\xbfb\n\n") == [ev("\ufeffb")]


def test_partial_bom_that_is_not_a_bom() -> None:
    assert decode(b"\xef", b"\xbbdata: a\n\n") == []  # field name "\xef\xbbdata"
    assert decode(b"\xef\xbb", b"x\n\ndata: a\n\n") == [ev("a")]


@pytest.mark.parametrize("char", ["é", "°", "中", "😀"])
def test_utf8_split_across_feeds_comes_out_whole(char: str) -> None:
    body = f"data: a{char}b\n\n".encode()
    for cut in range(len(body)):
        assert decode(body[:cut], body[cut:]) == [ev(f"a{char}b")], cut


def test_invalid_utf8_becomes_replacement_char() -> None:
    assert decode(b"data: a\xffb\n\n") == [ev("a\ufffdb")]
    assert decode(b"event: \xc3\n", b"data: \xe4\xb8\n\n") == [ev("\ufffd", "\ufffd")]


# -- limits and end of body ---------------------------------------------------------------
def test_max_event_size_raises_protocol_error() -> None:
    with pytest.raises(kairos.ProtocolError):
        decode(b"data: " + b"x" * 200 + b"\n\n", max_event_bytes=100)
    with pytest.raises(kairos.ProtocolError):  # many small lines add up
        decode(b"data: xxxxxxxxxx\n" * 20 + b"\n", max_event_bytes=100)
    dec = SSEDecoder(100)  # an unterminated line growing across feeds
    with pytest.raises(kairos.ProtocolError):
        for _ in range(20):
            dec.feed(b"data: xxxxxxxxxxxxxxx")
    assert decode(b"data: " + b"x" * 50 + b"\n\n", max_event_bytes=100) == [ev("x" * 50)]


def test_size_limit_counts_per_event() -> None:
    body = (b"data: " + b"x" * 60 + b"\n\n") * 10
    assert len(decode(body, max_event_bytes=100)) == 10


def test_flush_dispatches_pending_complete_event() -> None:
    # the documented leniency: the lines ended but the blank dispatch line never came
    assert decode(b"data: a\n") == [ev("a")]
    assert decode(b"data: a\r\n") == [ev("a")]
    assert decode(b"data: a\r") == [ev("a")]


def test_flush_drops_unterminated_line() -> None:
    assert decode(b"data: a") == []
    assert decode(b'data: a\n\ndata: {"trunc') == [ev("a")]
    assert decode(b"data: a\ndata: b") == [ev("a")]


def test_flush_is_idempotent_and_feed_returns_only_new_events() -> None:
    dec = SSEDecoder()
    assert dec.feed(b"data: a\n\ndata: b") == [ev("a")]
    assert dec.feed(b"\n\n") == [ev("b")]
    assert dec.flush() == []
    assert dec.flush() == []


# -- split invariance on recorded bodies --------------------------------------------------
def offsets(n: int) -> list[int]:
    if n <= BIG:
        return list(range(n + 1))
    return sorted(set(range(201)) | set(range(0, n, 97)) | set(range(n - 200, n + 1)))


def _id(p: Path) -> str:
    return f"{p.parent.parent.name}/{p.parent.name}"


@pytest.mark.parametrize("path", SSE_BODIES, ids=[_id(p) for p in SSE_BODIES])
def test_recorded_body_split_anywhere_gives_same_events(path: Path) -> None:
    body = path.read_bytes()
    whole = decode(body)
    assert whole, "a recorded body has events"
    for cut in offsets(len(body)):
        assert decode(body[:cut], body[cut:]) == whole, cut


@pytest.mark.parametrize("path", SSE_BODIES, ids=[_id(p) for p in SSE_BODIES])
def test_recorded_body_one_byte_at_a_time(path: Path) -> None:
    body = path.read_bytes()
    assert decode(*[body[i : i + 1] for i in range(len(body))]) == decode(body)


@pytest.mark.parametrize("nl", [b"\r\n", b"\r"], ids=["CRLF", "CR"])
def test_recorded_body_with_other_line_endings(nl: bytes) -> None:
    path = conformance("openai-chat") / "oai-tool-single" / "response.sse"
    body = path.read_bytes()
    other = body.replace(b"\r\n", b"\n").replace(b"\n", nl)
    whole = decode(body)
    for cut in range(len(other) + 1):
        assert decode(other[:cut], other[cut:]) == whole, cut


# -- property ------------------------------------------------------------------------------------
_TOKENS = [b"\n", b"\r", b"\r\n", b":", b" ", b"data", b"event", b"id", b"retry", b"x", b"1"]
_ALPHABET = st.sampled_from(
    [*_TOKENS, b"\0", b"\xef\xbb\xbf", b"\xc3", b"\xa9", b"\xff", b"\xe4\xb8\xad"]
)
_BODIES = st.one_of(st.binary(max_size=300), st.lists(_ALPHABET, max_size=80).map(b"".join))


@settings(max_examples=300, deadline=None)
@given(body=_BODIES, cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=6))
def test_property_any_split_same_events(body: bytes, cuts: list[int]) -> None:
    points = sorted({min(c, len(body)) for c in cuts})
    pieces = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    for limit in (None, 64):
        try:
            whole = decode(body, max_event_bytes=limit)
        except kairos.KairosError:
            whole = None
        try:
            split = decode(*pieces, max_event_bytes=limit)
        except kairos.KairosError:
            split = None
        if limit is None:
            assert whole is not None and split == whole
        elif whole is not None and split is not None:
            assert split == whole


# -- one event per read (the decoder's fast path) agrees with the line-by-line path ---------------
_ONE_EVENT_READS = [
    b"data: x\n\n",
    b"data: x\r\n\r\n",
    b"event: e\ndata: x\n\n",
    b"event: e\r\ndata: x\r\n\r\n",
    b"event: \ndata: \n\n",
    b"event: e\rdata: x\r\n\r\n",  # CR alone ends the event line
    b"event: e\r\ndata: x\n\n",  # mixed line ends
    b"data: x\ry\n\n",
    b"data: x\ndata: y\n\n",
    b"data:x\n\n",
    b"data: x\r\n\n",
    b"event: e\n\n",
    b"\n\n",
    b"id: 7\ndata: x\n\n",
    b": comment\n\n",
    b"data: \xc3\xa9\xff\r\n\r\n",
]


@pytest.mark.parametrize("read", _ONE_EVENT_READS)
def test_one_event_per_read_same_as_byte_at_a_time(read: bytes) -> None:
    reads = [b"data: first\n\n", read, read, b"event: last\ndata: y\n\n"]
    body = b"".join(reads)
    assert decode(*reads) == decode(*[body[i : i + 1] for i in range(len(body))])


@settings(max_examples=300, deadline=None)
@given(
    reads=st.lists(
        st.tuples(st.lists(_ALPHABET, max_size=12).map(b"".join), st.sampled_from(_TOKENS[:3])),
        max_size=6,
    )
)
def test_property_reads_ending_in_blank_line_same_events(reads: list[tuple[bytes, bytes]]) -> None:
    pieces = [b"data: " + text + nl + nl for text, nl in reads]
    pieces += [b"event: " + text + nl + b"data: x" + nl + nl for text, nl in reads]
    body = b"".join(pieces)
    for limit in (None, 8):
        try:
            per_read = decode(*pieces, max_event_bytes=limit)
        except kairos.KairosError:
            per_read = None
        try:
            whole = decode(*[body[i : i + 1] for i in range(len(body))], max_event_bytes=limit)
        except kairos.KairosError:
            whole = None
        if limit is None:  # a line still arriving counts against the limit: compare when both pass
            assert per_read is not None and per_read == whole
        elif per_read is not None and whole is not None:
            assert per_read == whole
