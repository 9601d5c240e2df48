"""No growth over many streams: file descriptors, connections, threads and memory stay flat.

A real loopback server answers every way a stream can end: complete (drained with and without
``with``, and ``chat()``), abandoned after a few chunks (bare ``break``, ``break`` inside
``with``, ``close()``), failed (an in-band error event, HTTP 500 without retries, a body cut off
without the chunked terminator) and, for async, a task cancelled mid-stream (with and without
``async with``). After a warm-up batch the test takes a baseline (open fds from /proc/self/fd,
tracemalloc's current size, RSS from /proc/self/statm), runs the rest, and asserts the numbers
stayed within generous bounds; at the end the server must see no open connection. A self-test
shows the measurement does catch a leak (streams kept referenced and never closed).

``benchmarks/leaks.py`` runs the same workload at 10,000 streams and prints the numbers.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import kairos
from loopback import LoopbackServer, Reply, Seen, endless

WAIT = 5.0  # upper bound on any wait in this file
GAP = 0.002  # seconds between chunks of a long stream (the server stops when the client leaves)
FD_SLACK = 8
TRACED_SLACK = 2 * 1024 * 1024
RSS_SLACK = 32 * 1024 * 1024
WARMUP_ROUNDS, ROUNDS = 15, 100  # rounds of the whole scenario list


def _event(obj: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def _chunk(content: str, finish: str | None = None) -> bytes:
    return _event(
        {"choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}]}
    )


COMPLETE = _chunk("hel") + _chunk("lo") + _chunk("", "stop") + b"data: [DONE]\n\n"
IN_BAND = _chunk("par") + _event({"error": {"message": "bad", "type": "invalid_request_error"}})


def reply(seen: Seen) -> Reply:
    """The model name in the request picks the server's answer."""
    kind = seen.json()["model"]
    if kind == "long":
        return Reply(pieces=endless(_chunk("x"), GAP, WAIT))
    if kind == "in-band":
        return Reply(pieces=[IN_BAND])
    if kind == "http500":
        return Reply.json(500, {"error": {"message": "boom", "type": "server_error"}})
    if kind == "truncated":
        return Reply(pieces=[_chunk("a"), _chunk("b")], drop=True)
    return Reply(pieces=[COMPLETE])


def request(kind: str) -> kairos.ChatRequest:
    return kairos.ChatRequest([kairos.Message.user("hi")], model=kind)


# -- sync scenarios --------------------------------------------------------------------------------
def s_complete_with(p: kairos.HTTPProvider) -> None:
    with p.chat_stream(request("complete")) as stream:
        assert "".join(c.content for c in stream) == "hello"


def s_complete_bare(p: kairos.HTTPProvider) -> None:
    assert "".join(c.content for c in p.chat_stream(request("complete"))) == "hello"


def s_chat(p: kairos.HTTPProvider) -> None:
    assert p.chat(request("complete")).content == "hello"


def s_break_bare(p: kairos.HTTPProvider) -> None:
    for i, _ in enumerate(p.chat_stream(request("long"))):
        if i == 2:
            break


def s_break_in_with(p: kairos.HTTPProvider) -> None:
    with p.chat_stream(request("long")) as stream:
        for i, _ in enumerate(stream):
            if i == 2:
                break


def s_close(p: kairos.HTTPProvider) -> None:
    stream = p.chat_stream(request("long"))
    it = iter(stream)
    next(it), next(it)
    stream.close()


def s_in_band(p: kairos.HTTPProvider) -> None:
    with contextlib.suppress(kairos.APIStatusError), p.chat_stream(request("in-band")) as s:
        for _ in s:
            pass
        raise AssertionError("an in-band error must end the stream with an error")


def s_http500(p: kairos.HTTPProvider) -> None:
    with contextlib.suppress(kairos.ServerError):
        p.chat_stream(request("http500"))
        raise AssertionError("HTTP 500 must raise")


def s_truncated(p: kairos.HTTPProvider) -> None:
    with contextlib.suppress(kairos.StreamError), p.chat_stream(request("truncated")) as s:
        for _ in s:
            pass
        raise AssertionError("a truncated body must end the stream with an error")


SYNC: list[Callable[[kairos.HTTPProvider], None]] = [
    s_complete_with,
    s_complete_bare,
    s_chat,
    s_break_bare,
    s_break_in_with,
    s_close,
    s_in_band,
    s_http500,
    s_truncated,
]


# -- async scenarios -------------------------------------------------------------------------------
async def a_complete_with(p: kairos.AsyncHTTPProvider) -> None:
    stream = await p.chat_stream(request("complete"))
    async with stream:
        assert "".join([c.content async for c in stream]) == "hello"


async def a_complete_bare(p: kairos.AsyncHTTPProvider) -> None:
    stream = await p.chat_stream(request("complete"))
    assert "".join([c.content async for c in stream]) == "hello"


async def a_chat(p: kairos.AsyncHTTPProvider) -> None:
    assert (await p.chat(request("complete"))).content == "hello"


async def a_break_bare(p: kairos.AsyncHTTPProvider) -> None:
    i = 0
    async for _ in await p.chat_stream(request("long")):
        i += 1
        if i == 3:
            break


async def a_break_in_with(p: kairos.AsyncHTTPProvider) -> None:
    stream = await p.chat_stream(request("long"))
    async with stream:
        i = 0
        async for _ in stream:
            i += 1
            if i == 3:
                break


async def a_close(p: kairos.AsyncHTTPProvider) -> None:
    stream = await p.chat_stream(request("long"))
    it = aiter(stream)
    await anext(it), await anext(it)
    await stream.aclose()


async def a_in_band(p: kairos.AsyncHTTPProvider) -> None:
    stream = await p.chat_stream(request("in-band"))
    with contextlib.suppress(kairos.APIStatusError):
        async with stream:
            async for _ in stream:
                pass
        raise AssertionError("an in-band error must end the stream with an error")


async def a_http500(p: kairos.AsyncHTTPProvider) -> None:
    with contextlib.suppress(kairos.ServerError):
        await p.chat_stream(request("http500"))
        raise AssertionError("HTTP 500 must raise")


async def a_truncated(p: kairos.AsyncHTTPProvider) -> None:
    stream = await p.chat_stream(request("truncated"))
    with contextlib.suppress(kairos.StreamError):
        async with stream:
            async for _ in stream:
                pass
        raise AssertionError("a truncated body must end the stream with an error")


async def _cancel_mid_stream(p: kairos.AsyncHTTPProvider, use_with: bool) -> None:
    started = asyncio.Event()

    async def consume() -> None:
        stream = await p.chat_stream(request("long"))
        if not use_with:
            async for _ in stream:
                started.set()
        async with stream:
            async for _ in stream:
                started.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), WAIT)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert task.cancelled()


async def a_cancel_task_with(p: kairos.AsyncHTTPProvider) -> None:
    await _cancel_mid_stream(p, True)


async def a_cancel_task_bare(p: kairos.AsyncHTTPProvider) -> None:
    await _cancel_mid_stream(p, False)


ASYNC: list[Callable[[kairos.AsyncHTTPProvider], Any]] = [
    a_complete_with,
    a_complete_bare,
    a_chat,
    a_break_bare,
    a_break_in_with,
    a_close,
    a_in_band,
    a_http500,
    a_truncated,
    a_cancel_task_with,
    a_cancel_task_bare,
]


# -- measuring -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Snap:
    fds: int
    traced: int  # bytes, tracemalloc's current size
    rss: int  # bytes
    threads: int

    def __str__(self) -> str:
        mib = 1024 * 1024
        return (
            f"fds={self.fds} traced={self.traced / mib:.2f}MiB rss={self.rss / mib:.1f}MiB "
            f"threads={self.threads}"
        )


def snap() -> Snap:
    gc.collect()
    statm = open("/proc/self/statm").read().split()  # noqa: SIM115
    traced = tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else 0
    return Snap(
        len(os.listdir("/proc/self/fd")),
        traced,
        int(statm[1]) * os.sysconf("SC_PAGE_SIZE"),
        threading.active_count(),
    )


def connections(port: int) -> tuple[int, int]:
    """(server-side, client-side) TCP connections to ``port`` that still hold a socket:
    ESTABLISHED or CLOSE_WAIT in /proc/net/tcp (TIME_WAIT holds no descriptor)."""
    server = client = 0
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            local, remote, state = fields[1], fields[2], fields[3]
            if state not in ("01", "08"):
                continue
            server += int(local.rsplit(":", 1)[1], 16) == port
            client += int(remote.rsplit(":", 1)[1], 16) == port
    return server, client


def wait_until(cond: Callable[[], bool], limit: float = WAIT) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def assert_flat(before: Snap, after: Snap) -> None:
    print(f"before: {before}\nafter:  {after}")  # shown with pytest -s
    assert after.fds - before.fds <= FD_SLACK, f"fds grew: {before} -> {after}"
    assert after.traced - before.traced <= TRACED_SLACK, f"memory grew: {before} -> {after}"
    assert after.rss - before.rss <= RSS_SLACK, f"RSS grew: {before} -> {after}"


@contextlib.contextmanager
def leak_server() -> Iterator[LoopbackServer]:
    server = LoopbackServer(reply)
    # a client closing a finished stream before reading the chunked terminator resets the
    # kept-alive connection; http.server would print each reset to stderr
    server._httpd.handle_error = lambda request, address: None  # type: ignore[method-assign]
    with server:
        yield server
    assert wait_until(lambda: connections(server.port) == (0, 0)), connections(server.port)


def run_sync(p: kairos.HTTPProvider, server: LoopbackServer, rounds: int) -> int:
    for _ in range(rounds):
        for scenario in SYNC:
            scenario(p)
        server.requests.clear()  # the server's own record of requests is not ours to count
    return rounds * len(SYNC)


async def run_async(p: kairos.AsyncHTTPProvider, server: LoopbackServer, rounds: int) -> int:
    for _ in range(rounds):
        for scenario in ASYNC:
            await scenario(p)
        server.requests.clear()
    return rounds * len(ASYNC)


def _provider(server: LoopbackServer) -> kairos.HTTPProvider:
    return kairos.provider("openai", base_url=server.url + "/v1", api_key="k", max_retries=0)


def _async_provider(server: LoopbackServer) -> kairos.AsyncHTTPProvider:
    return kairos.async_provider("openai", base_url=server.url + "/v1", api_key="k", max_retries=0)


# -- tests -----------------------------------------------------------------------------------------
def test_sync_streams_leave_nothing_behind() -> None:
    tracemalloc.start()
    try:
        with leak_server() as server, _provider(server) as p:
            run_sync(p, server, WARMUP_ROUNDS)
            before = snap()
            run_sync(p, server, ROUNDS)
            wait_until(lambda: threading.active_count() <= before.threads)
            after = snap()
            assert_flat(before, after)
            server_side, client_side = connections(server.port)
            assert client_side <= 20 and server_side <= 20  # at most the keep-alive pool
    finally:
        tracemalloc.stop()


def test_async_streams_leave_nothing_behind() -> None:
    async def main(server: LoopbackServer) -> tuple[Snap, Snap, tuple[int, int]]:
        async with _async_provider(server) as p:
            await run_async(p, server, WARMUP_ROUNDS)
            before = snap()
            await run_async(p, server, ROUNDS)
            await asyncio.to_thread(wait_until, lambda: threading.active_count() <= before.threads)
            return before, snap(), connections(server.port)

    tracemalloc.start()
    try:
        with leak_server() as server:
            before, after, (server_side, client_side) = asyncio.run(main(server))
            assert_flat(before, after)
            assert client_side <= 20 and server_side <= 20
    finally:
        tracemalloc.stop()


def test_the_measurement_catches_a_leak() -> None:
    """Streams kept referenced and never closed hold sockets: the fd check must fail."""
    with leak_server() as server, _provider(server) as p:
        s_complete_with(p)
        before = snap()
        kept = []
        for _ in range(2 * FD_SLACK):
            stream = p.chat_stream(request("long"))
            next(iter(stream))
            kept.append(stream)
        try:
            assert_flat(before, snap())
        except AssertionError as err:
            assert "fds grew" in str(err)
        else:
            raise AssertionError("the leak check did not notice streams left open")
        finally:
            for stream in kept:
                stream.close()
