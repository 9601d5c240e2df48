"""Stream semantics over real HTTP (a loopback server), sync and async with one test body.

The contract is in ``kairos.llm``: one final chunk, pre-body failures raise from
``chat_stream()``, mid-stream failures end the stream with a typed error and ``partial``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from dataclasses import dataclass
from typing import Any

import pytest

import kairos
from loopback import LoopbackServer, Reply

REQ = kairos.ChatRequest([kairos.Message.user("hi")], model="m")
MODES = ["sync", "async"]
SSE = {"content-type": "text/event-stream"}


def chunk(content: str | None = None, finish: str | None = None, **extra: Any) -> bytes:
    delta = {} if content is None else {"content": content}
    obj = {"id": "c1", "object": "chat.completion.chunk", "model": "m", **extra}
    obj.setdefault("choices", [{"index": 0, "delta": delta, "finish_reason": finish}])
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


USAGE = chunk(choices=[], usage={"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5})
DONE = b"data: [DONE]\n\n"
GOOD = [chunk("Hel"), chunk("lo"), chunk(finish="stop"), USAGE, DONE]


@dataclass
class Run:
    chunks: list[kairos.StreamChunk]
    raised: BaseException | None  # what iterating past the final chunk raised
    elapsed: float

    @property
    def final(self) -> kairos.StreamChunk:
        return self.chunks[-1]

    @property
    def content(self) -> str:
        return "".join(c.content for c in self.chunks)


def _drain(stream: kairos.Stream, t0: float) -> Run:
    chunks: list[kairos.StreamChunk] = []
    raised = None
    with stream:
        try:
            for c in stream:
                chunks.append(c)
        except kairos.KairosError as exc:
            raised = exc
    return Run(chunks, raised, time.monotonic() - t0)


async def _adrain(stream: kairos.AsyncStream, t0: float) -> Run:
    chunks: list[kairos.StreamChunk] = []
    raised = None
    async with stream:
        try:
            async for c in stream:
                chunks.append(c)
        except kairos.KairosError as exc:
            raised = exc
    return Run(chunks, raised, time.monotonic() - t0)


def stream(mode: str, url: str, n: int = 1, **kw: Any) -> list[Run]:
    """``n`` streams in a row on one provider; a pre-body error propagates."""
    kw = {"api_key": "k", "max_retries": 0, **kw}
    if mode == "sync":
        with kairos.provider("openai", base_url=url + "/v1", **kw) as p:
            return [_drain(p.chat_stream(REQ), time.monotonic()) for _ in range(n)]

    async def main() -> list[Run]:
        async with kairos.async_provider("openai", base_url=url + "/v1", **kw) as p:
            out = []
            for _ in range(n):
                t0 = time.monotonic()
                out.append(await _adrain(await p.chat_stream(REQ), t0))
            return out

    return asyncio.run(main())


def one(mode: str, *replies: Reply, **kw: Any) -> tuple[Run, LoopbackServer]:
    with LoopbackServer(list(replies)) as server:
        return stream(mode, server.url, **kw)[0], server


def assert_single_final(run: Run) -> None:
    assert [c.done for c in run.chunks].count(True) == 1 and run.final.done
    assert run.final.content == ""


# -- success -------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_one_final_chunk_last_with_stats(mode: str) -> None:
    run, server = one(mode, Reply(pieces=GOOD))
    assert_single_final(run)
    assert run.content == "Hello" and run.raised is None
    f = run.final
    assert f.error is None and f.finish_reason == "stop" and f.raw_finish_reason == "stop"
    assert f.usage == kairos.Usage(3, 2, 5)
    assert f.stats is not None
    assert f.stats.chunks == len(run.chunks) == 3
    assert f.stats.time_to_first_chunk is not None
    assert 0 <= f.stats.time_to_first_chunk <= f.stats.total_time
    assert f.stats.content_length == 5
    assert server.requests[0].json()["stream"] is True


# -- failures before the body ---------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_401_raises_authentication_error_from_chat_stream(mode: str) -> None:
    body = {"error": {"message": "Incorrect API key", "type": "invalid_request_error"}}
    with pytest.raises(kairos.AuthenticationError) as info:
        one(mode, Reply.json(401, body))
    assert info.value.status == 401 and "\n" not in str(info.value)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("mode", MODES)
def test_refused_connection_raises_connect_error(mode: str) -> None:
    with pytest.raises(kairos.ConnectError) as info:
        stream(mode, f"http://127.0.0.1:{_closed_port()}")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("mode", MODES)
def test_html_502_is_typed_with_one_line_message(mode: str) -> None:
    html = b"<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<h1>Bad Gateway</h1>\n"
    reply = Reply(502, {"content-type": "text/html"}, [html + b"</body></html>\n"], True)
    with pytest.raises(kairos.ServerError) as info:
        one(mode, reply)
    err = info.value
    assert err.status == 502 and "\n" not in str(err) and "Bad Gateway" in str(err)
    assert "<" not in str(err)


# -- failures after the body began ---------------------------------------------------------------
def assert_failed(run: Run, cls: type[kairos.KairosError], content: str) -> kairos.KairosError:
    assert_single_final(run)
    err = run.final.error
    assert isinstance(err, cls), err
    assert run.final.finish_reason == "error"
    assert err.partial is not None and err.partial.content == content
    assert run.content == content
    assert run.raised is err  # iterating past the failed final chunk raises it
    assert run.final.stats is not None and run.final.stats.chunks == len(run.chunks)
    return err


@pytest.mark.parametrize("mode", MODES)
def test_body_ending_without_done_or_finish_is_incomplete(mode: str) -> None:
    run, _ = one(mode, Reply(pieces=[chunk("Hel"), chunk("lo")]))
    assert_failed(run, kairos.IncompleteStreamError, "Hello")


@pytest.mark.parametrize("mode", MODES)
def test_body_ending_after_finish_reason_without_done_succeeds(mode: str) -> None:
    run, _ = one(mode, Reply(pieces=[chunk("Hel"), chunk("lo"), chunk(finish="stop")]))
    assert_single_final(run)
    assert run.final.error is None and run.raised is None
    assert run.content == "Hello" and run.final.finish_reason == "stop"


@pytest.mark.parametrize("mode", MODES)
def test_malformed_json_mid_stream_is_protocol_error(mode: str) -> None:
    pieces = [chunk("Hel"), chunk("lo"), b'data: {"choices": [{"delta": \n\n', *GOOD[2:]]
    run, _ = one(mode, Reply(pieces=pieces))
    assert_failed(run, kairos.ProtocolError, "Hello")


@pytest.mark.parametrize("mode", MODES)
def test_in_band_error_is_typed_api_status_error(mode: str) -> None:
    err_event = b'data: {"error": {"message": "upstream failed", "code": 502}}\n\n'
    run, _ = one(mode, Reply(pieces=[chunk("Hel"), chunk("lo"), err_event, DONE]))
    err = assert_failed(run, kairos.APIStatusError, "Hello")
    assert isinstance(err, kairos.ServerError) and err.status == 502


@pytest.mark.parametrize("mode", MODES)
def test_connection_dropped_mid_body_is_stream_interrupted(mode: str) -> None:
    run, _ = one(mode, Reply(pieces=[chunk("Hel"), 0.02, chunk("lo"), 0.02], drop=True))
    assert_failed(run, kairos.StreamInterrupted, "Hello")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("where", ["after-body", "inside-body"])
def test_socket_held_open_after_done_returns_at_once(mode: str, where: str) -> None:
    if where == "after-body":
        reply = Reply(pieces=GOOD, hold_open=3.0)
    else:  # the server never ends the chunked body after [DONE]
        reply = Reply(pieces=[*GOOD, 3.0])
    run, _ = one(mode, reply)
    assert run.final.error is None and run.content == "Hello"
    assert run.elapsed < 1.5


# -- retries and fallbacks -------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_rejected_stream_options_retried_without_and_then_omitted(mode: str) -> None:
    rejected = {
        "error": {
            "message": "Unrecognized request argument supplied: stream_options",
            "type": "invalid_request_error",
            "param": "stream_options",
            "code": None,
        }
    }
    no_usage = [*GOOD[:3], DONE]
    replies = [Reply.json(400, rejected), Reply(pieces=no_usage), Reply(pieces=no_usage)]
    with LoopbackServer(replies) as server:
        runs = stream(mode, server.url, n=2)
    assert [r.content for r in runs] == ["Hello", "Hello"]
    assert all(r.final.error is None for r in runs)
    sent = [s.json() for s in server.requests]
    assert len(sent) == 3
    assert sent[0]["stream_options"] == {"include_usage": True}
    assert "stream_options" not in sent[1] and "stream_options" not in sent[2]
    assert sent[1]["messages"] == sent[0]["messages"]


@pytest.mark.parametrize("mode", MODES)
def test_429_retry_after_zero_is_retried(mode: str) -> None:
    limited = Reply.json(
        429, {"error": {"message": "slow down", "type": "requests"}}, headers={"retry-after": "0"}
    )
    with LoopbackServer([limited, Reply(pieces=GOOD)]) as server:
        t0 = time.monotonic()
        (run,) = stream(mode, server.url, max_retries=None)
    assert run.content == "Hello" and run.final.error is None
    assert run.final.usage == kairos.Usage(3, 2, 5)
    assert len(server.requests) == 2
    assert time.monotonic() - t0 < 5.0


# -- secrets ---------------------------------------------------------------------------------------
SECRET = "sk-test-Zq81secretKEYvalue"


def _assert_no_secret(err: BaseException) -> None:
    assert isinstance(err, kairos.KairosError)
    for text in (str(err), repr(err), err.message, repr(err.args), repr(err.body)):
        assert SECRET not in text, text


@pytest.mark.parametrize("mode", MODES)
def test_api_key_echoed_in_http_error_is_redacted(mode: str) -> None:
    body = {
        "error": {"message": f"Incorrect API key provided: {SECRET}.", "code": "invalid_api_key"}
    }
    with pytest.raises(kairos.AuthenticationError) as info:
        one(mode, Reply.json(401, body), api_key=SECRET)
    _assert_no_secret(info.value)


@pytest.mark.parametrize("mode", MODES)
def test_api_key_echoed_in_html_error_is_redacted(mode: str) -> None:
    page = f"<html><body>bad token Bearer {SECRET}</body></html>".encode()
    with pytest.raises(kairos.ServerError) as info:
        one(mode, Reply(500, {"content-type": "text/html"}, [page], True), api_key=SECRET)
    _assert_no_secret(info.value)


@pytest.mark.parametrize("mode", MODES)
def test_api_key_echoed_in_band_is_redacted(mode: str) -> None:
    err_event = json.dumps({"error": {"message": f"key {SECRET} revoked", "code": 401}})
    pieces = [chunk("Hi"), f"data: {err_event}\n\n".encode()]
    run, server = one(mode, Reply(pieces=pieces), api_key=SECRET)
    assert server.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    assert run.final.error is not None
    _assert_no_secret(run.final.error)
    assert SECRET not in repr(run.final)


@pytest.mark.parametrize("mode", MODES)
def test_placeholder_key_does_not_rewrite_messages(mode: str) -> None:
    # local servers are often given a dummy key such as "x"; redacting it would garble the text
    body = {"error": {"message": "max_tokens exceeds the context", "code": "invalid_request"}}
    with pytest.raises(kairos.BadRequestError) as info:
        one(mode, Reply.json(400, body), api_key="x")
    assert "max_tokens exceeds the context" in str(info.value)
    assert "[redacted]" not in str(info.value)
