"""Shared by the observer and OpenTelemetry tests: OpenAI-wire replies on a loopback server,
a recording observer, and the ways a stream can end (sync and async)."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import kairos
from loopback import LoopbackServer, Reply, endless

KEY = "sk-observe-test-key-0123456789"
MODEL = "gpt-obs"
RESPONSE_MODEL = "gpt-obs-2025-01-01"
RESPONSE_ID = "chatcmpl-obs-1"
REQ = kairos.ChatRequest(
    [kairos.Message.system("Be brief."), kairos.Message.user("Say hello")],
    max_tokens=50,
    temperature=0.25,
    top_p=0.5,
)
FAST_RETRY = kairos.RetryPolicy(max_retries=2, base_delay=0.001, max_delay=0.002)


def event(obj: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def text_event(text: str, finish: str | None = None) -> bytes:
    choice = {"index": 0, "delta": {"content": text} if text else {}, "finish_reason": finish}
    return event({"id": RESPONSE_ID, "model": RESPONSE_MODEL, "choices": [choice]})


USAGE = event(
    {
        "id": RESPONSE_ID,
        "choices": [],
        "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
    }
)
WORDS = ["Hel", "lo", " there"]


def ok_reply() -> Reply:
    pieces = [text_event(w) for w in WORDS]
    pieces += [text_event("", "stop"), USAGE, b"data: [DONE]\n\n"]
    return Reply(pieces=pieces)


def broken_reply() -> Reply:
    """Two chunks, then the connection drops mid-stream."""
    return Reply(pieces=[text_event("Hel"), 0.01, text_event("lo")], drop=True)


def slow_reply() -> Reply:
    """A chunk every 20 ms for up to 3 s: for the ways a caller stops a stream."""
    return Reply(pieces=[text_event("first"), *endless(text_event(" more"), 0.02, 3.0)])


def rate_limited() -> Reply:
    body = {"error": {"message": f"slow down (key {KEY})", "type": "rate_limit_error"}}
    return Reply.json(429, body, headers={"retry-after-ms": "5"})


def unauthorized() -> Reply:
    return Reply.json(401, {"error": {"message": "bad key", "type": "invalid_request_error"}})


@contextmanager
def serving(*replies: Reply) -> Iterator[LoopbackServer]:
    with LoopbackServer(list(replies)) as srv:
        yield srv


def llm(srv: LoopbackServer, **kw: Any) -> kairos.HTTPProvider:
    kw.setdefault("max_retries", FAST_RETRY)
    return kairos.provider(
        "openai-compatible", base_url=srv.url + "/v1", api_key=KEY, model=MODEL, **kw
    )


def allm(srv: LoopbackServer, **kw: Any) -> kairos.AsyncHTTPProvider:
    kw.setdefault("max_retries", FAST_RETRY)
    return kairos.async_provider(
        "openai-compatible", base_url=srv.url + "/v1", api_key=KEY, model=MODEL, **kw
    )


class Recorder(kairos.Observer):
    """Every hook call, in order, as ``(hook, details)``."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.ends: list[kairos.CallEnd] = []
        self.calls: list[kairos.CallInfo] = []

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def on_start(self, call: kairos.CallInfo) -> None:
        self.calls.append(call)
        self.events.append(("start", call.model))

    def on_attempt(self, call: kairos.CallInfo, attempt: int) -> None:
        self.events.append(("attempt", attempt))

    def on_retry(
        self, call: kairos.CallInfo, attempt: int, error: kairos.KairosError, wait: float
    ) -> None:
        self.events.append(("retry", (attempt, error, wait)))

    def on_first_chunk(self, call: kairos.CallInfo, ttft: float) -> None:
        self.events.append(("first", ttft))

    def on_end(self, call: kairos.CallInfo, end: kairos.CallEnd) -> None:
        self.ends.append(end)
        self.events.append(("end", end.finish_reason))


class ChunkRecorder(Recorder):
    """Also watches every chunk (so its calls get the observed stream machine)."""

    def on_chunk(self, call: kairos.CallInfo, chunk: kairos.StreamChunk, at: float) -> None:
        self.events.append(("chunk", chunk.content))


# -- the ways a caller stops a stream after its first chunk --------------------------------------
def stop_sync(way: str, p: kairos.HTTPProvider) -> None:
    if way == "break-in-with":
        with p.chat_stream(REQ) as s:
            for _ in s:
                break
    elif way == "close":
        s = p.chat_stream(REQ)
        next(iter(s))
        s.close()
    elif way == "dropped":  # a bare break without with: the stream is garbage
        for _ in p.chat_stream(REQ):
            break
        gc.collect()
    elif way == "never-iterated":
        s = p.chat_stream(REQ)
        del s
    elif way == "closed-unread":  # the end is reported by close(), while s is still alive
        with p.chat_stream(REQ) as s:
            pass
    else:  # pragma: no cover
        raise AssertionError(way)


async def stop_async(way: str, p: kairos.AsyncHTTPProvider) -> None:
    if way == "break-in-with":
        async with await p.chat_stream(REQ) as s:
            async for _ in s:
                break
    elif way == "aclose":
        s = await p.chat_stream(REQ)
        await s.__anext__()
        await s.aclose()
    elif way == "task-cancel":
        started = asyncio.Event()

        async def consume() -> None:
            async with await p.chat_stream(REQ) as s:
                async for _ in s:
                    started.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(started.wait(), 5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    elif way == "dropped":
        s = await p.chat_stream(REQ)
        async for _ in s:
            break
        del s
        gc.collect()
    elif way == "closed-unread":
        async with await p.chat_stream(REQ) as s:
            pass
    else:  # pragma: no cover
        raise AssertionError(way)
    for _ in range(20):  # let the loop finalise a dropped async generator
        await asyncio.sleep(0.005)


SYNC_WAYS = ("break-in-with", "close", "dropped", "never-iterated", "closed-unread")
ASYNC_WAYS = ("break-in-with", "aclose", "task-cancel", "dropped", "closed-unread")


def wait_for(check: Callable[[], bool], timeout: float = 3.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.005)
    return check()
