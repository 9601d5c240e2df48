"""NDJSONDecoder: line rules, limits, flush, and split-invariance on recorded Ollama bodies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kairos
from cases import conformance
from kairos._ndjson import NDJSONDecoder

BODIES = sorted(conformance("ollama-chat").glob("*/response.ndjson"))


def decode(*feeds: bytes, max_line_bytes: int | None = None) -> list[bytes]:
    dec = NDJSONDecoder() if max_line_bytes is None else NDJSONDecoder(max_line_bytes)
    out: list[bytes] = []
    for f in feeds:
        out += dec.feed(f)
    return out + dec.flush()


def test_lines_split_at_lf() -> None:
    assert decode(b'{"a":1}\n{"b":2}\n') == [b'{"a":1}', b'{"b":2}']


def test_crlf_is_one_line_end() -> None:
    assert decode(b'{"a":1}\r\n{"b":2}\r\n') == [b'{"a":1}', b'{"b":2}']
    assert decode(b'{"a":1}\r', b'\n{"b":2}\r', b"\n") == [b'{"a":1}', b'{"b":2}']


def test_blank_lines_are_skipped() -> None:
    assert decode(b'\n\n{"a":1}\n\r\n  \n\t\n{"b":2}\n\n') == [b'{"a":1}', b'{"b":2}']


def test_missing_final_newline_is_flushed() -> None:
    dec = NDJSONDecoder()
    assert dec.feed(b'{"a":1}\n{"b":') == [b'{"a":1}']
    assert dec.feed(b"2}") == []
    assert dec.flush() == [b'{"b":2}']
    assert dec.flush() == []


def test_flush_of_whitespace_tail_is_empty() -> None:
    assert decode(b'{"a":1}\n  \r') == [b'{"a":1}']


def test_utf8_split_across_feeds_comes_out_whole() -> None:
    body = '{"t":"a°中😀b"}\n'.encode()
    for cut in range(len(body) + 1):
        lines = decode(body[:cut], body[cut:])
        assert [json.loads(x) for x in lines] == [{"t": "a°中😀b"}], cut


def test_max_line_size_raises_protocol_error() -> None:
    with pytest.raises(kairos.ProtocolError):
        decode(b'{"a":"' + b"x" * 200, max_line_bytes=100)
    dec = NDJSONDecoder(100)  # growing across feeds with no newline
    with pytest.raises(kairos.ProtocolError):
        for _ in range(20):
            dec.feed(b"x" * 10)
    with pytest.raises(kairos.ProtocolError):  # a long tail after a newline in the same read
        decode(b'{"a":1}\n' + b"x" * 200, max_line_bytes=100)
    assert decode(b"x" * 90 + b"\n", max_line_bytes=100) == [b"x" * 90]
    assert len(decode((b"y" * 90 + b"\n") * 5, max_line_bytes=100)) == 5


def _id(p: Path) -> str:
    return p.parent.name


@pytest.mark.parametrize("path", BODIES, ids=[_id(p) for p in BODIES])
def test_recorded_body_split_anywhere_gives_same_lines(path: Path) -> None:
    body = path.read_bytes()
    whole = decode(body)
    assert whole and all(isinstance(json.loads(x), dict) for x in whole)
    for cut in range(len(body) + 1):
        assert decode(body[:cut], body[cut:]) == whole, cut
    assert decode(*[body[i : i + 1] for i in range(len(body))]) == whole
    crlf = body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    for cut in range(len(crlf) + 1):
        assert decode(crlf[:cut], crlf[cut:]) == whole, cut


@pytest.mark.parametrize("path", BODIES, ids=[_id(p) for p in BODIES])
def test_recorded_body_without_final_newline(path: Path) -> None:
    body = path.read_bytes()
    assert decode(body.rstrip(b"\r\n")) == decode(body)


_ALPHABET = st.sampled_from([b"\n", b"\r", b"\r\n", b" ", b"{", b"}", b"x", b"\xc3", b"\xa9"])
_BODIES = st.one_of(st.binary(max_size=300), st.lists(_ALPHABET, max_size=80).map(b"".join))


@settings(max_examples=300, deadline=None)
@given(body=_BODIES, cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=6))
def test_property_any_split_same_lines(body: bytes, cuts: list[int]) -> None:
    points = sorted({min(c, len(body)) for c in cuts})
    pieces = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    assert decode(*pieces) == decode(body)
    try:
        limited = decode(*pieces, max_line_bytes=16)
    except kairos.KairosError:
        return
    assert limited == decode(body)
