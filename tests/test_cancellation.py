"""Cancellation over real sockets: every way of stopping a stream closes the connection at once.

The loopback server keeps sending (a piece every GAP seconds) and records when the client hangs
up; each test waits for that with a bounded timeout and checks it came within 100 ms.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

import kairos
from loopback import LoopbackServer, Reply, Seen, endless

REQ = kairos.ChatRequest([kairos.Message.user("hi")], model="m")
GAP = 0.005
BOUND = 0.1 + 2 * GAP  # the server notices a hang-up on its next write (or the one after)
WAIT = 3.0  # upper bound on any wait in this file


def chunk(content: str) -> bytes:
    delta = {"choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}]}
    return b"data: " + json.dumps(delta).encode() + b"\n\n"


def endless_reply(gap: float = GAP, limit: float = 4.0) -> Reply:
    return Reply(pieces=endless(chunk("x"), gap, limit))


@contextmanager
def endless_server(gap: float = GAP) -> Iterator[LoopbackServer]:
    with LoopbackServer(lambda seen: endless_reply(gap)) as server:
        yield server


def sync_provider(server: LoopbackServer, **kw: Any) -> kairos.HTTPProvider:
    kw = {"api_key": "k", "max_retries": 0, **kw}
    return kairos.provider("openai", base_url=server.url + "/v1", **kw)


def async_provider(server: LoopbackServer, **kw: Any) -> kairos.AsyncHTTPProvider:
    kw = {"api_key": "k", "max_retries": 0, **kw}
    return kairos.async_provider("openai", base_url=server.url + "/v1", **kw)


def assert_hung_up_soon(server: LoopbackServer, closed_at: float) -> None:
    assert server.disconnected.wait(WAIT), "the server never saw the client hang up"
    elapsed = time.monotonic() - closed_at
    assert elapsed < BOUND, f"connection closed {elapsed * 1000:.0f} ms after the close"
    assert server.completed == 0  # it was still sending


async def assert_hung_up_soon_async(server: LoopbackServer, closed_at: float) -> None:
    await asyncio.to_thread(assert_hung_up_soon, server, closed_at)


# -- sync ------------------------------------------------------------------------------------------
def test_close_from_same_thread() -> None:
    with endless_server() as server, sync_provider(server) as p:
        stream = p.chat_stream(REQ)
        it = iter(stream)
        assert [next(it).content for _ in range(3)] == ["x", "x", "x"]
        stream.close()
        closed_at = time.monotonic()
        assert_hung_up_soon(server, closed_at)
        assert list(stream) == []  # iteration stops after close()
        stream.close()  # more than once is fine


def test_close_from_another_thread_while_reader_blocked() -> None:
    with endless_server() as server, sync_provider(server) as p:
        stream = p.chat_stream(REQ)
        got: list[kairos.StreamChunk] = []
        raised: list[BaseException] = []
        three = threading.Event()

        def consume() -> None:
            try:
                for c in stream:
                    got.append(c)
                    if len(got) == 3:
                        three.set()
            except BaseException as exc:
                raised.append(exc)

        reader = threading.Thread(target=consume, daemon=True)
        reader.start()
        assert three.wait(WAIT)
        stream.close()
        closed_at = time.monotonic()
        reader.join(WAIT)
        assert not reader.is_alive()
        assert time.monotonic() - closed_at < BOUND, "the blocked reader did not wake at once"
        assert_hung_up_soon(server, closed_at)
    final = got[-1]
    assert final.done and [c.done for c in got].count(True) == 1
    assert isinstance(final.error, kairos.Cancelled)
    assert final.finish_reason == "cancelled"
    assert final.error.partial is not None and final.error.partial.content.startswith("xxx")
    assert len(raised) == 1 and raised[0] is final.error


def test_leaving_with_block_by_break() -> None:
    with endless_server() as server, sync_provider(server) as p:
        with p.chat_stream(REQ) as stream:
            for n, _ in enumerate(stream):
                if n == 2:
                    break
        closed_at = time.monotonic()
        assert_hung_up_soon(server, closed_at)


def test_bare_break_with_stream_dropped() -> None:
    with endless_server() as server, sync_provider(server) as p:
        for _ in p.chat_stream(REQ):
            break
        closed_at = time.monotonic()
        assert_hung_up_soon(server, closed_at)


def test_pool_of_one_connection_survives_50_early_breaks() -> None:
    # a leaked connection would block the next request until the 1 s pool timeout
    client = httpx.Client(limits=httpx.Limits(max_connections=1))
    timeouts = kairos.Timeouts(connect=1.0)
    with endless_server() as server, client:
        p = sync_provider(server, http_client=client, timeout=timeouts)
        t0 = time.monotonic()
        for i in range(50):
            if i % 2:
                for _ in p.chat_stream(REQ):
                    break
            else:
                with p.chat_stream(REQ) as stream:
                    assert next(iter(stream)).content == "x"
        assert len(server.requests) == 50
        assert time.monotonic() - t0 < 20.0


# -- async ----------------------------------------------------------------------------------------
def test_async_aclose() -> None:
    async def main() -> None:
        with endless_server() as server:
            async with async_provider(server) as p:
                stream = await p.chat_stream(REQ)
                n = 0
                async for _ in stream:
                    n += 1
                    if n == 3:
                        break
                await stream.aclose()
                closed_at = time.monotonic()
                await assert_hung_up_soon_async(server, closed_at)

    asyncio.run(main())


def test_async_leaving_with_block_by_break() -> None:
    async def main() -> None:
        with endless_server() as server:
            async with async_provider(server) as p:
                async with await p.chat_stream(REQ) as stream:
                    async for _ in stream:
                        break
                closed_at = time.monotonic()
                await assert_hung_up_soon_async(server, closed_at)

    asyncio.run(main())


def test_async_close_from_another_thread() -> None:
    async def main() -> list[kairos.StreamChunk]:
        with endless_server() as server:
            async with async_provider(server) as p:
                stream = await p.chat_stream(REQ)
                got: list[kairos.StreamChunk] = []
                closed: list[float] = []

                def close() -> None:
                    stream.close()
                    closed.append(time.monotonic())

                closer = threading.Timer(0.05, close)
                with pytest.raises(kairos.Cancelled):
                    async with asyncio.timeout(WAIT):
                        async for c in stream:
                            got.append(c)
                            if len(got) == 1:
                                closer.start()
                closer.join(WAIT)
                assert time.monotonic() - closed[0] < BOUND
                await assert_hung_up_soon_async(server, closed[0])
                return got

    got = asyncio.run(main())
    assert got[-1].done and isinstance(got[-1].error, kairos.Cancelled)
    assert [c.done for c in got].count(True) == 1


def test_async_bare_break_with_stream_dropped() -> None:
    async def main() -> None:
        with endless_server() as server:
            async with async_provider(server) as p:
                async for _ in await p.chat_stream(REQ):
                    break
                closed_at = time.monotonic()
                await assert_hung_up_soon_async(server, closed_at)

    asyncio.run(main())


def test_async_task_cancellation() -> None:
    async def main() -> None:
        with endless_server() as server:
            async with async_provider(server) as p:
                three = asyncio.Event()

                async def consume() -> None:
                    n = 0
                    async for _ in await p.chat_stream(REQ):
                        n += 1
                        if n == 3:
                            three.set()

                task = asyncio.create_task(consume())
                await asyncio.wait_for(three.wait(), WAIT)
                task.cancel()
                closed_at = time.monotonic()
                with pytest.raises(asyncio.CancelledError):
                    await asyncio.wait_for(task, WAIT)
                await assert_hung_up_soon_async(server, closed_at)

    asyncio.run(main())


def test_async_pool_of_one_connection_survives_50_early_breaks() -> None:
    async def main() -> None:
        client = httpx.AsyncClient(limits=httpx.Limits(max_connections=1))
        timeouts = kairos.Timeouts(connect=1.0)
        with endless_server() as server:
            async with client, async_provider(server, http_client=client, timeout=timeouts) as p:
                for _ in range(50):
                    async with await p.chat_stream(REQ) as stream:
                        async for _ in stream:
                            break
            assert len(server.requests) == 50

    asyncio.run(main())


# -- deadlines -------------------------------------------------------------------------------------
def _slow(seen: Seen) -> Reply:
    return endless_reply(gap=0.05)


def _stall_after_first(seen: Seen) -> Reply:
    return Reply(pieces=[chunk("a"), 1.0, chunk("b")])


def _stall_before_first(seen: Seen) -> Reply:
    return Reply(pieces=[1.0, chunk("a")])


def drain(server: LoopbackServer, timeouts: kairos.Timeouts) -> tuple[kairos.StreamChunk, float]:
    with sync_provider(server, timeout=timeouts) as p:
        t0 = time.monotonic()
        chunks: list[kairos.StreamChunk] = []
        with pytest.raises(kairos.KairosError), p.chat_stream(REQ) as stream:
            for c in stream:
                chunks.append(c)
        return chunks[-1], time.monotonic() - t0


async def adrain(
    server: LoopbackServer, timeouts: kairos.Timeouts
) -> tuple[kairos.StreamChunk, float]:
    async with async_provider(server, timeout=timeouts) as p:
        t0 = time.monotonic()
        chunks: list[kairos.StreamChunk] = []
        with pytest.raises(kairos.KairosError):
            async with await p.chat_stream(REQ) as stream:
                async for c in stream:
                    chunks.append(c)
        return chunks[-1], time.monotonic() - t0


CLOCKS = [
    (_slow, kairos.Timeouts(total=0.3), kairos.DeadlineExceeded),
    (_stall_after_first, kairos.Timeouts(idle=0.3), kairos.IdleTimeout),
    (_stall_before_first, kairos.Timeouts(first_chunk=0.3), kairos.FirstChunkTimeout),
]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(("reply", "timeouts", "cls"), CLOCKS, ids=["total", "idle", "first-chunk"])
def test_clocks(mode: str, reply: Any, timeouts: kairos.Timeouts, cls: type[Exception]) -> None:
    with LoopbackServer(reply) as server:
        if mode == "sync":
            final, elapsed = drain(server, timeouts)
        else:
            final, elapsed = asyncio.run(adrain(server, timeouts))
        if cls is kairos.DeadlineExceeded:  # the server was still sending: it saw the hang-up
            assert server.disconnected.wait(WAIT)
    assert final.done and isinstance(final.error, cls), final.error
    assert isinstance(final.error, kairos.Timeout)
    assert 0.25 < elapsed < 1.5
    if cls is kairos.DeadlineExceeded:
        assert isinstance(final.error, kairos.Cancelled)
        assert final.finish_reason == "cancelled"
        assert final.error.partial is not None and final.error.partial.content.startswith("x")
    else:
        assert not isinstance(final.error, kairos.Cancelled)
        assert final.finish_reason == "error"
