"""Observer hooks (kairos.Observer, kairos.observers, provider(observers=...)): what each hook
is told, sync and async, over a real loopback HTTP server; exactly one end however a stream
ends; a raising observer never breaks a stream; calls nobody watches use the plain machine."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest

import kairos
from kairos._machine import StreamMachine
from observe_support import (
    ASYNC_WAYS,
    KEY,
    MODEL,
    REQ,
    RESPONSE_ID,
    RESPONSE_MODEL,
    SYNC_WAYS,
    WORDS,
    ChunkRecorder,
    Recorder,
    allm,
    broken_reply,
    llm,
    ok_reply,
    rate_limited,
    serving,
    slow_reply,
    stop_async,
    stop_sync,
    unauthorized,
    wait_for,
)


@pytest.fixture(autouse=True)
def _no_global_observers() -> Iterator[None]:
    kairos.observers.clear()
    yield
    kairos.observers.clear()


def _check_success(rec: Recorder) -> None:
    assert rec.names()[:3] == ["start", "attempt", "first"]
    assert rec.names()[-1] == "end" and rec.names().count("end") == 1
    (end,) = rec.ends
    assert end.error is None and not end.cancelled
    assert end.finish_reason == "stop" and end.raw_finish_reason == "stop"
    assert end.usage == kairos.Usage(7, 3, 10)
    assert end.stats.attempts == 1 and end.stats.chunks == len(WORDS) + 1
    assert end.response_model == RESPONSE_MODEL and end.response_id == RESPONSE_ID
    assert end.response is not None and end.response.content == "".join(WORDS)
    ttft = rec.events[2][1]
    assert ttft == end.stats.time_to_first_chunk and 0 < ttft < end.stats.total_time
    call = rec.calls[0]
    assert (call.provider, call.model, call.request) == ("openai-compatible", MODEL, REQ)
    assert call.base_url.endswith("/v1")


def test_success_sync_per_provider() -> None:
    rec = Recorder()
    with serving(ok_reply(), ok_reply()) as srv:
        p = llm(srv, observers=[rec])
        assert p.chat(REQ).content == "".join(WORDS)
        _check_success(rec)
        assert "chunk" not in rec.names()  # it does not watch every chunk
        other = llm(srv)  # another provider: not watched
        other.chat(REQ)
    assert len(rec.ends) == 1


def test_success_async_global_registry() -> None:
    rec = Recorder()
    kairos.observers.add(rec)
    kairos.observers.add(rec)  # once only
    assert list(kairos.observers) == [rec] and rec in kairos.observers

    async def main() -> None:
        with serving(ok_reply()) as srv:
            p = allm(srv)
            stream = await p.chat_stream(REQ)
            async with stream:
                texts = [c.content async for c in stream if c.content]
            assert texts == WORDS

    asyncio.run(main())
    _check_success(rec)
    kairos.observers.remove(rec)
    kairos.observers.remove(rec)  # absent: nothing happens
    assert len(kairos.observers) == 0


def test_every_chunk_only_for_observers_that_ask() -> None:
    plain, every = Recorder(), ChunkRecorder()
    with serving(ok_reply(), ok_reply(), ok_reply()) as srv:
        p = llm(srv, observers=[plain, every])
        with p.chat_stream(REQ) as s:
            list(s)
            assert type(s._call.machine).__name__ == "ObservedMachine"
        chunks = [c for name, c in every.events if name == "chunk"]
        assert chunks == WORDS
        assert "chunk" not in plain.names()
        with llm(srv, observers=[plain]).chat_stream(REQ) as s:
            list(s)
            assert type(s._call.machine) is StreamMachine  # no per-chunk work
        with llm(srv).chat_stream(REQ) as s:  # nobody watches: no watch at all
            list(s)
            assert s._call.watch is None and type(s._call.machine) is StreamMachine


def test_retry_is_told_with_its_reason_and_wait() -> None:
    rec = Recorder()
    with serving(rate_limited(), ok_reply()) as srv:
        llm(srv, observers=[rec]).chat(REQ)
    assert rec.names()[:5] == ["start", "attempt", "retry", "attempt", "first"]
    attempt, error, wait = rec.events[2][1]
    assert attempt == 1 and isinstance(error, kairos.RateLimitError)
    assert wait == pytest.approx(0.005)
    assert KEY not in str(error)  # what observers see is redacted like everything else
    assert [a for n, a in rec.events if n == "attempt"] == [1, 2]
    assert rec.ends[0].stats.attempts == 2 and rec.ends[0].error is None


def test_error_before_the_stream_ends_the_call() -> None:
    rec = Recorder()
    with serving(unauthorized()) as srv, pytest.raises(kairos.AuthenticationError):
        llm(srv, observers=[rec]).chat_stream(REQ)
    assert rec.names() == ["start", "attempt", "end"]
    (end,) = rec.ends
    assert isinstance(end.error, kairos.AuthenticationError) and end.chunk is None
    assert end.finish_reason == "error" and end.stats.chunks == 0 and end.usage is None


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_mid_stream_error_ends_with_it(mode: str) -> None:
    rec = Recorder()
    with serving(broken_reply()) as srv:
        if mode == "sync":
            with pytest.raises(kairos.StreamInterrupted):
                llm(srv, observers=[rec]).chat(REQ)
        else:
            with pytest.raises(kairos.StreamInterrupted):
                asyncio.run(allm(srv, observers=[rec]).chat(REQ))
    (end,) = rec.ends
    assert isinstance(end.error, kairos.StreamInterrupted) and end.finish_reason == "error"
    assert end.chunk is not None and end.chunk.done and end.stats.chunks == 3
    assert end.response is not None and end.response.content == "Hello"
    assert rec.names().count("first") == 1


@pytest.mark.parametrize("way", SYNC_WAYS)
def test_sync_stop_ends_the_call_once(way: str) -> None:
    rec = Recorder()
    with serving(slow_reply()) as srv:
        stop_sync(way, llm(srv, observers=[rec]))
        assert len(rec.ends) == 1  # at once: by close(), or by reference counting
        if way != "never-iterated":  # (a stream never iterated nor closed keeps its socket)
            assert srv.disconnected.wait(3), "the connection was not closed"
    (end,) = rec.ends
    assert end.cancelled and end.finish_reason == "cancelled"
    assert isinstance(end.error, kairos.Cancelled)
    assert rec.names().count("end") == 1


@pytest.mark.parametrize("way", ASYNC_WAYS)
def test_async_stop_ends_the_call_once(way: str) -> None:
    rec = Recorder()
    with serving(slow_reply()) as srv:
        asyncio.run(stop_async(way, allm(srv, observers=[rec])))
        assert wait_for(lambda: len(rec.ends) == 1)
    (end,) = rec.ends
    assert end.cancelled and isinstance(end.error, kairos.Cancelled)
    assert end.chunk is not None and end.chunk.done
    if way != "closed-unread":
        assert end.stats.chunks >= 2  # the first chunk was read
    assert rec.names().count("end") == 1


class Broken(kairos.Observer):
    def __init__(self) -> None:
        self.calls = 0

    def _boom(self, *args: object) -> None:
        self.calls += 1
        raise RuntimeError("observer bug")

    on_start = on_attempt = on_retry = on_first_chunk = on_chunk = on_end = _boom


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_raising_observer_never_breaks_the_stream(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    broken, rec = Broken(), Recorder()
    caplog.set_level(logging.ERROR, logger="kairos.observe")
    with serving(rate_limited(), ok_reply()) as srv:
        if mode == "sync":
            answer = llm(srv, observers=[broken, rec]).chat(REQ)
        else:
            answer = asyncio.run(allm(srv, observers=[broken, rec]).chat(REQ))
    assert answer.content == "".join(WORDS)
    assert broken.calls >= 8  # every hook raised: start, 2 attempts, retry, first, chunks, end
    _, error, _ = rec.events[2][1]
    assert isinstance(error, kairos.RateLimitError)  # the others are still told everything
    assert len(rec.ends) == 1
    logged = [r for r in caplog.records if r.name == "kairos.observe"]
    assert len(logged) == 1  # once, though it raised in every hook
    assert all("observer bug" in (r.exc_text or "") for r in logged)


def test_observers_registered_later_watch_only_later_calls() -> None:
    rec = Recorder()
    with serving(slow_reply(), ok_reply()) as srv:
        p = llm(srv)
        with p.chat_stream(REQ) as s:
            next(iter(s))
            kairos.observers.add(rec)  # the stream in flight keeps its (empty) snapshot
        assert rec.ends == []
        p.chat(REQ)
    assert len(rec.ends) == 1 and rec.ends[0].error is None


def test_only_observers_can_be_registered() -> None:
    with pytest.raises(kairos.ConfigurationError, match=r"is not a kairos\.Observer"):
        kairos.observers.add(print)  # type: ignore[arg-type]
    with pytest.raises(kairos.ConfigurationError, match=r"is not a kairos\.Observer"):
        kairos.provider("openai", api_key="k", observers=[object()])  # type: ignore[list-item]
    assert len(kairos.observers) == 0
