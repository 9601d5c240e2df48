"""Streams and threads: ``close()`` from another thread wakes a stalled async reader (and a
retry's wait) at once, and a second thread iterating a sync stream gets a typed error.

Servers are real loopback servers that go silent after the first chunk, so the reader is
blocked in a socket read (no bytes arrive to notice the close by)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time

import pytest

import kairos
from loopback import LoopbackServer, Reply

REQ = kairos.ChatRequest([kairos.Message.user("hi")], model="m")
BOUND = 0.1  # close() must end a stalled read within 100 ms
WAIT = 5.0  # upper bound on any wait in this file


def _chunk(content: str) -> bytes:
    delta = {"choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}]}
    return b"data: " + json.dumps(delta).encode() + b"\n\n"


def _silent_after_one() -> Reply:
    return Reply(pieces=[_chunk("x"), 4.0])  # then nothing for 4 s


def test_async_close_from_another_thread_wakes_a_stalled_read() -> None:
    async def main() -> tuple[list[kairos.StreamChunk], float]:
        with LoopbackServer(lambda seen: _silent_after_one()) as server:
            p = kairos.async_provider("openai", base_url=server.url, api_key="k", max_retries=0)
            async with p:
                stream = await p.chat_stream(REQ)
                got: list[kairos.StreamChunk] = []
                closed: list[float] = []

                def close() -> None:
                    closed.append(time.monotonic())
                    stream.close()

                with pytest.raises(kairos.Cancelled):
                    async with asyncio.timeout(WAIT):
                        async for chunk in stream:
                            got.append(chunk)
                            if len(got) == 1:  # the server is silent from now on
                                threading.Timer(0.1, close).start()
                return got, time.monotonic() - closed[0]

    got, elapsed = asyncio.run(main())
    assert elapsed < BOUND, f"the stalled read ended {elapsed * 1000:.0f} ms after close()"
    assert [c.content for c in got[:-1]] == ["x"]
    assert got[-1].done and isinstance(got[-1].error, kairos.Cancelled)
    assert got[-1].finish_reason == "cancelled"


def test_async_close_from_another_thread_ends_a_retry_wait() -> None:
    """An in-band overload before any chunk is retried after a backoff of seconds; close()
    from another thread ends that wait at once."""
    overloaded = b'data: {"error": {"type": "overloaded_error", "message": "busy"}}\n\n'
    policy = kairos.RetryPolicy(max_retries=1, base_delay=4.0, max_delay=4.0)

    async def main() -> tuple[BaseException, float, int]:
        with LoopbackServer(lambda seen: Reply(pieces=[overloaded])) as server:
            async with kairos.async_provider(
                "openai", base_url=server.url, api_key="k", max_retries=policy
            ) as p:
                stream = await p.chat_stream(REQ)
                closed: list[float] = []

                def close() -> None:
                    closed.append(time.monotonic())
                    stream.close()

                threading.Timer(0.2, close).start()
                with pytest.raises(kairos.KairosError) as info:
                    async with asyncio.timeout(WAIT):
                        async for _ in stream:
                            pass
                return info.value, time.monotonic() - closed[0], len(server.requests)

    err, elapsed, requests = asyncio.run(main())
    assert isinstance(err, kairos.Cancelled)
    assert elapsed < BOUND, f"the retry wait ended {elapsed * 1000:.0f} ms after close()"
    assert requests == 1  # no retry was sent after the close


def test_two_threads_iterating_one_stream_get_a_typed_error() -> None:
    with (
        LoopbackServer(lambda seen: _silent_after_one()) as server,
        kairos.provider("openai", base_url=server.url, api_key="k", max_retries=0) as p,
    ):
        stream = p.chat_stream(REQ)
        first = next(iter(stream))
        assert first.content == "x"
        reader_done = threading.Event()
        seen: list[kairos.StreamChunk] = []

        def read() -> None:  # blocks in the socket read: the server is silent
            with contextlib.suppress(kairos.KairosError):
                seen.extend(stream)
            reader_done.set()

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + WAIT
        while not getattr(stream._it, "gi_running", False) and time.monotonic() < deadline:
            time.sleep(0.005)  # until the first thread is inside the stream
        with pytest.raises(kairos.ConfigurationError, match="another thread") as info:
            next(stream)
        assert isinstance(info.value, ValueError)  # code catching ValueError still works
        with pytest.raises(kairos.ConfigurationError, match="another thread"):
            for _ in stream:
                pass
        stream.close()
        assert reader_done.wait(WAIT)
    assert seen and seen[-1].done and isinstance(seen[-1].error, kairos.Cancelled)


@pytest.mark.parametrize(
    ("timeouts", "pieces", "cls", "message"),
    [
        (
            kairos.Timeouts(first_chunk=0.3),
            [2.0],
            kairos.FirstChunkTimeout,
            "timed out after 0.3s waiting for the first chunk",
        ),
        (
            kairos.Timeouts(idle=0.3),
            [_chunk("x"), 2.0],
            kairos.IdleTimeout,
            "timed out after 0.3s waiting for the next chunk (idle)",
        ),
        (
            kairos.Timeouts(total=0.3),
            [_chunk("x"), 2.0],
            kairos.DeadlineExceeded,
            "timed out after 0.3s (the total deadline of the call)",
        ),
    ],
    ids=["first-chunk", "idle", "total"],
)
def test_timeout_messages_name_their_clock(
    timeouts: kairos.Timeouts, pieces: list[bytes | float], cls: type, message: str
) -> None:
    with (
        LoopbackServer(lambda seen: Reply(pieces=pieces)) as server,
        kairos.provider(
            "openai", base_url=server.url, api_key="k", max_retries=0, timeout=timeouts
        ) as p,
        pytest.raises(cls) as info,
    ):
        p.chat(REQ)
    assert str(info.value) == f"openai: {message}"
