"""Many streams at once (issue 17): the pool kairos sizes for streaming, a caller's own client
kept as it is, and admission in front of httpx's pool (``kairos._pool``).

Connections are counted on the server's side (``rawhttp.py``). A barrier in the server holds
every answer until all the streams of a test are connected at once, so a pool too small to
hold them shows as a stall, not as a slow pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

import kairos
from kairos import _pool
from rawhttp import HEAD, TERMINATOR, Piece, RawServer, chunk

REQ = kairos.ChatRequest([kairos.Message.user("hi")], model="m")
WAIT = 5.0  # upper bound on any wait in this file
MODES = ["sync", "async"]


def event(content: str, finish: str | None = None) -> bytes:
    delta = {"choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}]}
    return b"data: " + json.dumps(delta).encode() + b"\n\n"


BODY = [
    HEAD + chunk(event("he")),
    0.01,
    chunk(event("llo")) + chunk(event("", "stop")) + chunk(b"data: [DONE]\n\n") + TERMINATOR,
]


def together(n: int) -> Callable[[int, bytes], list[Piece | None]]:
    """Answers sent only once ``n`` requests are in (or WAIT has passed)."""
    barrier = threading.Barrier(n, timeout=WAIT)

    def answer(index: int, request: bytes) -> list[Piece | None]:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()  # broken after WAIT: the assertion on most_open says what went wrong
        return list(BODY)

    return answer


def text(stream: kairos.Stream) -> str:
    return "".join(c.content for c in stream)


async def atext(stream: kairos.AsyncStream) -> str:
    return "".join([c.content async for c in stream])


def run_many(
    mode: str, n: int, kw: dict[str, Any], limits: httpx.Limits | None = None
) -> list[str]:
    """``n`` streams at once through one provider (threads for sync, tasks for async); with
    ``limits``, through a caller's client of that size, still open after the provider."""
    if mode == "sync":
        client = None if limits is None else httpx.Client(limits=limits)
        with kairos.provider("openai", http_client=client, **kw) as p, ThreadPoolExecutor(n) as ex:
            out = list(ex.map(lambda _: text(p.chat_stream(REQ)), range(n)))
        if client is not None:
            assert not client.is_closed
            client.close()
        return out

    async def main() -> list[str]:
        aclient = None if limits is None else httpx.AsyncClient(limits=limits)
        async with kairos.async_provider("openai", http_client=aclient, **kw) as p:

            async def one() -> str:
                return await atext(await p.chat_stream(REQ))

            out = list(await asyncio.gather(*(one() for _ in range(n))))
        if aclient is not None:
            assert not aclient.is_closed
            await aclient.aclose()
        return out

    return asyncio.run(main())


@pytest.mark.parametrize("mode", MODES)
def test_the_default_pool_streams_more_than_a_hundred_at_once(mode: str) -> None:
    """httpx's default pool holds 100 connections; kairos' own holds 1,000."""
    n = 150
    with RawServer(together(n)) as server:
        kw = {"api_key": "k", "base_url": server.url + "/v1", "max_retries": 0}
        assert run_many(mode, n, kw) == ["hello"] * n
        assert server.most_open == n
        assert server.wait_closed(WAIT)


@pytest.mark.parametrize("mode", MODES)
def test_a_callers_client_keeps_its_own_pool(mode: str) -> None:
    """20 streams at once through a caller's 4-connection client: they queue for its
    connections (no more than 4 are ever open) and reuse them."""
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
    with RawServer(lambda index, request: list(BODY)) as server:
        kw: dict[str, Any] = {"api_key": "k", "base_url": server.url + "/v1"}
        assert run_many(mode, 20, kw, limits) == ["hello"] * 20
        assert server.most_open <= 4 and server.accepted <= 4


@pytest.mark.parametrize("mode", MODES)
def test_waiting_for_a_free_connection_ends_at_the_first_chunk_timeout(mode: str) -> None:
    """A 1-connection client whose connection a stream holds: the next requests fail with
    FirstChunkTimeout (no response in time: waiting for a connection counts); once the stream
    is closed, requests go through."""
    held = [HEAD + chunk(event("he")), None]  # sent, then held until the client leaves

    def answer(index: int, request: bytes) -> list[Piece | None]:
        return held if index == 0 else list(BODY)

    limits = httpx.Limits(max_connections=1)
    opts: dict[str, Any] = {"timeout": kairos.Timeouts(first_chunk=0.2), "max_retries": 0}
    with RawServer(answer) as server:
        kw: dict[str, Any] = {"api_key": "k", "base_url": server.url + "/v1", **opts}
        if mode == "sync":
            with httpx.Client(limits=limits) as client:
                p = kairos.provider("openai", http_client=client, **kw)
                first = p.chat_stream(REQ)
                assert next(iter(first)).content == "he"
                with ThreadPoolExecutor(2) as pool:
                    waits = list(pool.map(lambda _: _error(lambda: p.chat_stream(REQ)), [1, 2]))
                first.close()
                after = text(p.chat_stream(REQ))
        else:

            async def main() -> tuple[list[Any], str]:
                async with httpx.AsyncClient(limits=limits) as client:
                    p = kairos.async_provider("openai", http_client=client, **kw)
                    first = await p.chat_stream(REQ)
                    assert (await first.__anext__()).content == "he"
                    waits = await asyncio.gather(
                        *(p.chat_stream(REQ) for _ in range(2)), return_exceptions=True
                    )
                    await first.aclose()
                    return list(waits), await atext(await p.chat_stream(REQ))

            waits, after = asyncio.run(main())
        assert [type(e) for e in waits] == [kairos.FirstChunkTimeout] * 2
        assert after == "hello"


def _error(fn: Callable[[], Any]) -> BaseException | None:
    try:
        fn()
    except kairos.KairosError as exc:
        return exc
    return None


@pytest.mark.parametrize("mode", MODES)
def test_a_burst_after_a_kept_alive_connection_takes_it_once(mode: str) -> None:
    """One stream leaves an idle kept-alive connection; a burst of 40 then goes through the
    gate: one request takes the idle connection, the others open their own."""
    n = 40
    burst = together(n)

    def answer(index: int, request: bytes) -> list[Piece | None]:
        return list(BODY) if index == 0 else burst(index, request)

    with RawServer(answer) as server:
        kw: dict[str, Any] = {"api_key": "k", "base_url": server.url + "/v1"}
        if mode == "sync":
            with kairos.provider("openai", **kw) as p, ThreadPoolExecutor(n) as pool:
                assert text(p.chat_stream(REQ)) == "hello"
                got = list(pool.map(lambda _: text(p.chat_stream(REQ)), range(n)))
        else:

            async def main() -> list[str]:
                async with kairos.async_provider("openai", **kw) as p:
                    assert await atext(await p.chat_stream(REQ)) == "hello"

                    async def one() -> str:
                        return await atext(await p.chat_stream(REQ))

                    return list(await asyncio.gather(*(one() for _ in range(n))))

            got = asyncio.run(main())
        assert got == ["hello"] * n
        assert server.accepted == n and server.most_open == n


def test_a_transport_that_does_not_trace_is_not_serialized() -> None:
    """httpx.MockTransport answers without trace events. Its first request may not hold the
    gate until it answers: here the first answer waits until the second request arrives."""
    second = asyncio.Event()
    # no end marker: the body ends after the finish reason, so it is read to its end and its
    # connection counts as returned to the pool (the gate then admits one request at a time)
    sse = event("he") + event("llo") + event("", "stop")

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("x-n") == "2":
            second.set()
        elif request.headers.get("x-n") == "1":
            await asyncio.wait_for(second.wait(), WAIT)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=sse)

    async def main() -> list[str]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            kw: dict[str, Any] = {"api_key": "k", "base_url": "http://mock/v1"}
            plain = kairos.async_provider("openai", http_client=client, **kw)
            out = [await atext(await plain.chat_stream(REQ))]
            calls = [
                kairos.async_provider("openai", http_client=client, headers={"x-n": n}, **kw)
                for n in ("1", "2")
            ]
            streams = await asyncio.gather(*(c.chat_stream(REQ) for c in calls))
            return out + [await atext(s) for s in streams]

    assert asyncio.run(main()) == ["hello"] * 3


def test_requests_beyond_a_full_pool_wait_at_the_gate() -> None:
    """A client whose size kairos knows (its own; here a 4-connection client registered the
    way kairos registers its own): of 20 streams at once at most 4 are in the pool plus one
    waiting inside it for a connection; the others wait in kairos' queue."""
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
    seen: list[tuple[int, int]] = []
    gates: list[Any] = []

    def answer(index: int, request: bytes) -> list[Piece | None]:
        seen.append((gates[0].active, len(gates[0].waiters)))
        return list(BODY)

    async def main(server: RawServer) -> list[str]:
        async with _pool.own(httpx.AsyncClient(limits=limits), 4, 4) as client:
            gates.append(_pool.apool(client).gate)
            kw: dict[str, Any] = {"api_key": "k", "base_url": server.url + "/v1"}
            p = kairos.async_provider("openai", http_client=client, **kw)

            async def one() -> str:
                return await atext(await p.chat_stream(REQ))

            return list(await asyncio.gather(*(one() for _ in range(20))))

    with RawServer(answer) as server:
        assert asyncio.run(main(server)) == ["hello"] * 20
        assert server.most_open <= 4
    assert max(active for active, _ in seen) <= 5
    assert max(waiting for _, waiting in seen) > 0
