"""Retries and HTTP / in-band errors, for every provider's wire format, sync and async.

A request is retried only while nothing has reached the caller (``kairos._retry``): resets
before the response, retryable statuses, and in-band overload / rate-limit / server errors
before the first content. Backoff is made tiny through the public ``RetryPolicy`` knob
(``max_retries=RetryPolicy(...)``), so persistent failures stay bounded in attempts and time.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

import kairos
from fault_wires import FAST, Wire, assert_failed, assert_ok, modes, stream, text_of, wires
from faults import Fault, FaultServer
from loopback import Reply, Seen

SLOW = kairos.RetryPolicy(max_retries=2, base_delay=10.0, max_delay=10.0)  # backoff never used


def status_reply(wire: Wire, status: int, **headers: str) -> Reply:
    return Reply.json(status, wire.status_body(status), headers=headers)


# -- resets before the response --------------------------------------------------------------------


@modes
@wires
def test_reset_before_response_is_retried(wire: Wire, mode: str) -> None:
    with FaultServer([Fault(reset_before=True), wire.reply(wire.events)]) as server:
        run = stream(wire, mode, server.url, max_retries=FAST)
    assert_ok(run, wire)
    assert len(server.requests) == 2


@modes
@wires
def test_persistent_reset_before_response_is_connect_error(wire: Wire, mode: str) -> None:
    with FaultServer(lambda seen: Fault(reset_before=True)) as server:
        with pytest.raises(kairos.ConnectError) as info:
            stream(wire, mode, server.url, max_retries=FAST)
        assert len(server.requests) == FAST.max_retries + 1
    assert "\n" not in str(info.value) and info.value.provider == wire.name


# -- HTTP statuses ---------------------------------------------------------------------------------


@modes
@wires
def test_429_retry_after_then_success_retries_before_any_output(wire: Wire, mode: str) -> None:
    replies = [status_reply(wire, 429, **{"retry-after": "0"}), wire.reply(wire.events)]
    with FaultServer(replies) as server:
        seen_at_first_chunk: list[int] = []

        def on_chunk(chunk: kairos.StreamChunk) -> None:
            if not seen_at_first_chunk:
                seen_at_first_chunk.append(len(server.requests))

        run = stream(wire, mode, server.url, max_retries=SLOW, on_chunk=on_chunk)
    assert_ok(run, wire)  # every chunk the caller saw belongs to the successful attempt
    assert len(server.requests) == 2 and seen_at_first_chunk == [2]
    assert run.elapsed < 5.0  # Retry-After: 0 was honoured instead of the 10 s backoff


@modes
@wires
def test_retry_after_ms_is_honoured(wire: Wire, mode: str) -> None:
    replies = [status_reply(wire, 429, **{"retry-after-ms": "150"}), wire.reply(wire.events)]
    with FaultServer(replies) as server:
        run = stream(wire, mode, server.url, max_retries=SLOW)
    assert_ok(run, wire)
    assert len(server.requests) == 2
    assert 0.15 <= run.elapsed < 5.0


@modes
@wires
def test_retry_after_is_capped_by_max_wait(wire: Wire, mode: str) -> None:
    policy = kairos.RetryPolicy(max_retries=2, base_delay=10.0, max_wait=0.05)
    replies = [status_reply(wire, 429, **{"retry-after": "3600"}), wire.reply(wire.events)]
    with FaultServer(replies) as server:
        run = stream(wire, mode, server.url, max_retries=policy)
    assert_ok(run, wire)
    assert len(server.requests) == 2 and run.elapsed < 5.0


PERSISTENT = [
    (429, kairos.RateLimitError),
    (500, kairos.ServerError),
    (503, kairos.OverloadedError),
    (529, kairos.OverloadedError),
]


@modes
@wires
@pytest.mark.parametrize(("status", "cls"), PERSISTENT, ids=[str(s) for s, _ in PERSISTENT])
def test_persistent_retryable_status_is_bounded(
    wire: Wire, mode: str, status: int, cls: type[kairos.APIStatusError]
) -> None:
    t0 = time.monotonic()
    with FaultServer(lambda seen: status_reply(wire, status, **{"retry-after": "0"})) as server:
        with pytest.raises(cls) as info:
            stream(wire, mode, server.url, max_retries=FAST)
        assert len(server.requests) == FAST.max_retries + 1
    assert time.monotonic() - t0 < 5.0
    err = info.value
    assert err.status == status and err.provider == wire.name and "\n" not in str(err)
    if isinstance(err, kairos.RateLimitError | kairos.OverloadedError):
        assert err.retry_after == 0.0


@modes
@wires
def test_persistent_errors_take_bounded_time_with_default_policy_count(
    wire: Wire, mode: str
) -> None:
    policy = kairos.RetryPolicy(base_delay=0.01, max_delay=0.02)  # default max_retries (2)
    with FaultServer(lambda seen: status_reply(wire, 500)) as server:
        with pytest.raises(kairos.ServerError):
            stream(wire, mode, server.url, max_retries=policy)
        assert len(server.requests) == 3


@modes
@wires
def test_401_is_authentication_error_without_retry(wire: Wire, mode: str) -> None:
    with FaultServer(lambda seen: status_reply(wire, 401)) as server:
        with pytest.raises(kairos.AuthenticationError) as info:
            stream(wire, mode, server.url, max_retries=FAST)
        assert len(server.requests) == 1
    assert info.value.status == 401


@modes
@wires
def test_400_context_length_is_typed_from_structured_fields(wire: Wire, mode: str) -> None:
    with FaultServer(lambda seen: Reply.json(400, wire.context_body)) as server:
        with pytest.raises(kairos.BadRequestError) as info:
            stream(wire, mode, server.url, max_retries=FAST)
        assert len(server.requests) == 1
    # only OpenAI's body names the cause in a structured field (code=context_length_exceeded);
    # the others say it in the message text alone, which kairos never reads to classify
    assert type(info.value) is wire.context_cls and info.value.status == 400


@modes
@wires
def test_html_502_is_server_error_with_one_line_message(wire: Wire, mode: str) -> None:
    page = (
        b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
        b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
        b"</body>\r\n</html>\r\n"
    )
    html = Reply(502, {"content-type": "text/html"}, [page], content_length=True)
    with FaultServer(lambda seen: html) as server:
        with pytest.raises(kairos.ServerError) as info:
            stream(wire, mode, server.url, max_retries=FAST)
        assert len(server.requests) == FAST.max_retries + 1
    err = info.value
    assert err.status == 502 and "Bad Gateway" in str(err)
    assert "\n" not in str(err) and "<" not in str(err) and len(str(err)) < 300


# -- in-band errors --------------------------------------------------------------------------------


@modes
@wires
def test_in_band_error_before_content_is_retried(wire: Wire, mode: str) -> None:
    before = wire.head[:-1]  # the events before the first content (none for some wires)
    replies = [wire.reply([*before, wire.inband_error]), wire.reply(wire.events)]
    with FaultServer(replies) as server:
        run = stream(wire, mode, server.url, max_retries=FAST)
    assert_ok(run, wire)
    assert len(server.requests) == 2


@modes
@wires
def test_in_band_error_before_content_gives_up_after_bounded_attempts(
    wire: Wire, mode: str
) -> None:
    def reply(seen: Seen) -> Any:
        return wire.reply([*wire.head[:-1], wire.inband_error])

    with FaultServer(reply) as server:
        run = stream(wire, mode, server.url, max_retries=FAST)
        assert len(server.requests) == FAST.max_retries + 1
    assert_failed(run, wire.inband_cls, "")


@modes
@wires
def test_in_band_error_after_content_keeps_partial_without_retry(wire: Wire, mode: str) -> None:
    rest = wire.events[len(wire.head) :]
    replies = [wire.reply([*wire.head, wire.inband_error, *rest]), wire.reply(wire.events)]
    with FaultServer(replies) as server:
        run = stream(wire, mode, server.url, max_retries=FAST)
    err = assert_failed(run, wire.inband_cls, text_of(wire, wire.head))
    assert len(server.requests) == 1
    assert err.retryable  # retryable in itself, but text had reached the caller
    assert run.final.finish_reason == "error"
