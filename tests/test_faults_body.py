"""Faults in the response body, for every provider's wire format, sync and async.

Each stream is a recorded success body (``fixtures/conformance``) cut, stalled, reset, dripped,
compressed or padded by the fault server in :mod:`faults`. Failures after the body began end
the stream with one final chunk carrying a typed error and the partial content (see
``kairos.llm``); failures before it raise from ``chat_stream()``.
"""

from __future__ import annotations

import tracemalloc
from itertools import chain

import pytest

import kairos
from fault_wires import (
    WIRES,
    Wire,
    assert_failed,
    assert_ok,
    content_event,
    line_start,
    modes,
    stream,
    text_of,
    wires,
)
from faults import Fault, FaultServer, Gate, Stall, endless_line
from loopback import Reply, endless

# -- truncation and completeness -----------------------------------------------------------------


@modes
@wires
def test_truncated_with_chunked_terminator_is_incomplete(wire: Wire, mode: str) -> None:
    with FaultServer([wire.reply(wire.head)]) as server:
        run = stream(wire, mode, server.url)
    assert_failed(run, kairos.IncompleteStreamError, text_of(wire, wire.head))


@modes
@wires
def test_truncated_without_chunked_terminator_keeps_partial(wire: Wire, mode: str) -> None:
    with FaultServer([wire.reply([*wire.head, 0.02], drop=True)]) as server:
        run = stream(wire, mode, server.url)
    err = assert_failed(
        run, kairos.StreamInterrupted | kairos.IncompleteStreamError, text_of(wire, wire.head)
    )
    assert not err.retryable


@modes
@wires
def test_missing_end_marker_and_finish_is_incomplete(wire: Wire, mode: str) -> None:
    events = wire.events[: -wire.trailer]
    with FaultServer([wire.reply(events)]) as server:
        run = stream(wire, mode, server.url)
    assert_failed(run, kairos.IncompleteStreamError, text_of(wire, events))


@modes
@wires
def test_duplicated_end_marker_is_ignored(wire: Wire, mode: str) -> None:
    with FaultServer([wire.reply([*wire.events, wire.end, wire.end])]) as server:
        run = stream(wire, mode, server.url)
    assert_ok(run, wire)


@modes
@wires
@pytest.mark.parametrize("where", ["inside-body", "after-body"])
def test_socket_held_open_after_end_marker_returns_at_once(
    wire: Wire, mode: str, where: str
) -> None:
    if where == "inside-body":  # no chunked terminator, no hang-up: only the end marker
        reply = wire.reply([*wire.events, Stall(4.0)])
    else:  # the body ended, the connection stays open
        reply = wire.reply(wire.events, hold_open=4.0)
    with FaultServer([reply]) as server:
        run = stream(wire, mode, server.url)
    assert_ok(run, wire)
    assert run.elapsed < 2.0  # the idle clock (60 s by default) was never involved


# -- resets ----------------------------------------------------------------------------------------


@modes
@wires
def test_reset_during_body_keeps_partial_and_is_not_retried(wire: Wire, mode: str) -> None:
    reset = Fault(headers={"content-type": wire.ctype}, pieces=[*wire.head, 0.02], reset=True)
    with FaultServer([reset, wire.reply(wire.events)]) as server:
        run = stream(wire, mode, server.url, max_retries=2)
    assert_failed(run, kairos.StreamInterrupted, text_of(wire, wire.head))
    assert len(server.requests) == 1


# -- stalls and the clocks -------------------------------------------------------------------------


@modes
@wires
def test_stall_before_the_first_byte_is_first_chunk_timeout(wire: Wire, mode: str) -> None:
    stalled = Fault(headers={"content-type": wire.ctype}, pieces=wire.events, stall_before=4.0)
    with FaultServer([stalled]) as server, pytest.raises(kairos.FirstChunkTimeout) as info:
        stream(wire, mode, server.url, timeout=kairos.Timeouts(first_chunk=0.3))
    assert "\n" not in str(info.value) and info.value.provider == wire.name


@modes
def test_stall_before_the_first_byte_within_a_shorter_total_is_deadline(mode: str) -> None:
    wire = WIRES[0]  # the clocks before the response headers do not depend on the format
    stalled = Fault(headers={"content-type": wire.ctype}, pieces=wire.events, stall_before=4.0)
    with FaultServer([stalled]) as server, pytest.raises(kairos.DeadlineExceeded):
        stream(wire, mode, server.url, timeout=kairos.Timeouts(first_chunk=10.0, total=0.3))


@modes
@wires
def test_keepalives_before_first_event_do_not_stop_first_chunk_clock(wire: Wire, mode: str) -> None:
    with FaultServer([wire.reply(endless(wire.keepalive, 0.05, 3.0))]) as server:
        run = stream(wire, mode, server.url, timeout=kairos.Timeouts(first_chunk=0.3))
    assert_failed(run, kairos.FirstChunkTimeout, "")
    assert run.elapsed < 2.5


@modes
@wires
def test_keepalives_mid_stream_do_not_reset_idle_clock(wire: Wire, mode: str) -> None:
    pieces = chain(wire.head, endless(wire.keepalive, 0.05, 3.0))
    with FaultServer([wire.reply(pieces)]) as server:
        run = stream(wire, mode, server.url, timeout=kairos.Timeouts(idle=0.3))
    err = assert_failed(run, kairos.IdleTimeout, text_of(wire, wire.head))
    assert run.elapsed < 2.5 and run.final.finish_reason == "error"
    assert not isinstance(err, kairos.Cancelled)


@modes
@wires
def test_stall_mid_stream_is_idle_timeout(wire: Wire, mode: str) -> None:
    with FaultServer([wire.reply([*wire.head, Stall(4.0), *wire.events])]) as server:
        run = stream(wire, mode, server.url, timeout=kairos.Timeouts(idle=0.3))
    assert_failed(run, kairos.IdleTimeout, text_of(wire, wire.head))
    assert run.elapsed < 2.5


@modes
@wires
def test_slow_drip_one_byte_at_a_time(wire: Wire, mode: str) -> None:
    drip = Fault(headers={"content-type": wire.ctype}, pieces=wire.events, drip=True)
    with FaultServer([drip]) as server:
        run = stream(wire, mode, server.url)
    assert_ok(run, wire)
    assert sum(drip.sent) == len(b"".join(wire.events)) and set(drip.sent) == {1}


# -- compression -----------------------------------------------------------------------------------


@modes
@wires
@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compressed_stream_decodes_incrementally(wire: Wire, mode: str, encoding: str) -> None:
    gate = Gate()  # the rest of the body waits until the caller has its first chunk
    rest = wire.events[len(wire.head) :]
    reply = Fault(
        headers={"content-type": wire.ctype},
        pieces=[*wire.head, gate, *rest],
        encoding=encoding,  # type: ignore[arg-type]
    )

    def on_chunk(chunk: kairos.StreamChunk) -> None:
        if chunk.content:
            gate.open()

    with FaultServer([reply]) as server:
        run = stream(wire, mode, server.url, on_chunk=on_chunk)
    assert_ok(run, wire)
    assert not gate.timed_out, "the first chunk only arrived once the whole body was sent"
    assert server.requests[0].headers.get("accept-encoding", "").count(encoding) == 1


# -- event size ------------------------------------------------------------------------------------
LIMIT = 64 * 1024


@modes
@wires
def test_event_over_the_size_limit_is_protocol_error(wire: Wire, mode: str) -> None:
    huge = line_start(wire) + b"x" * (4 * LIMIT) + (b'"}\n\n' if wire.sse else b'"}\n')
    pieces = [*wire.head, huge, *wire.events[len(wire.head) :]]
    with FaultServer([wire.reply(pieces)]) as server:
        run = stream(wire, mode, server.url, max_event_bytes=LIMIT)
    err = assert_failed(run, kairos.ProtocolError, text_of(wire, wire.head))
    assert str(LIMIT) in str(err)


@modes
@wires
def test_endless_line_ends_with_protocol_error_in_bounded_memory(wire: Wire, mode: str) -> None:
    reply = Fault(
        headers={"content-type": wire.ctype},
        pieces=chain(wire.head, endless_line(line_start(wire))),
    )
    with FaultServer([reply]) as server:
        run = stream(wire, mode, server.url, max_event_bytes=LIMIT)
        assert server.disconnected.wait(5.0), "the client kept reading the endless line"
    assert_failed(run, kairos.ProtocolError, text_of(wire, wire.head))
    assert run.elapsed < 3.0
    assert sum(reply.sent) < 64 * LIMIT  # the client stopped soon after the limit


@modes
@wires
def test_ten_megabyte_event_within_a_larger_limit(wire: Wire, mode: str) -> None:
    big = "y" * (10 * 1024 * 1024)
    rest = wire.events[len(wire.head) :]
    pieces = [*wire.head, content_event(wire, big), *rest]
    with FaultServer([wire.reply(pieces)]) as server:
        tracemalloc.start()  # traces the in-process server too: the bound is generous
        try:
            run = stream(wire, mode, server.url, max_event_bytes=16 * 1024 * 1024)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert run.error is None, run.error
    assert run.content == text_of(wire, wire.head) + big + text_of(wire, rest)
    assert peak < 8 * len(big), f"peak {peak / 1e6:.0f} MB for a 10 MB event"


# -- a non-stream answer to a stream request -------------------------------------------------------


@modes
@wires
def test_json_answer_to_a_stream_request_is_the_full_answer(wire: Wire, mode: str) -> None:
    with FaultServer([Reply.json(200, wire.answer)]) as server:
        run = stream(wire, mode, server.url)
    assert run.error is None and run.raised is None, run.error
    assert run.content == "Hi there"
    assert run.final.finish_reason == "stop" and run.final.usage is not None
    assert run.final.usage.total_tokens == 5


@modes
@wires
def test_json_that_is_no_answer_is_a_typed_error(wire: Wire, mode: str) -> None:
    with FaultServer([Reply.json(200, {"object": "unexpected"})]) as server:
        run = stream(wire, mode, server.url)
    err = assert_failed(run, kairos.StreamError, "")
    assert run.final.finish_reason == "error" and err.provider == wire.name


@modes
@wires
def test_json_error_body_under_200_is_a_typed_error(wire: Wire, mode: str) -> None:
    with FaultServer([Reply.json(200, wire.status_body(500))]) as server:
        run = stream(wire, mode, server.url)
    assert_failed(run, kairos.ServerError, "")
