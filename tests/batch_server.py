"""An instrumented loopback OpenAI-compatible server for the batch tests.

It runs its own asyncio loop in a thread (fast enough for thousands of requests a second) and
answers ``POST /v1/chat/completions`` with real Chat Completions SSE bytes rendered by
``kairos.testing.render_stream``. What it does for a request is chosen by ``behave(prompt,
attempt)`` (``attempt`` counts the requests seen for that prompt, from 1), as one of:

* ``("ok", text)``; ``("slow", seconds, text)``: a pause, then ok;
* ``("status", code, retry_after)``: an HTTP error in OpenAI's shape, with ``Retry-After``;
* ``("reset",)``: a TCP reset instead of a response;
* ``("fail_mid", kind)``: text, then an in-band error; ``("fail_first", kind)``: an in-band
  error as the first event;
* ``("stall", seconds)``: nothing until the client hangs up or the time passes;
* ``("truncate",)``: text, then the body ends cleanly without the stream's end marker.

It records when each request started (``starts``, ``time.monotonic()`` when its head was read),
how many requests each prompt got (``count``), the most streams it had open at once
(``max_open``: from the request head to the last byte written or the client hanging up) and
when each HTTP error with ``Retry-After`` was written (``errors_sent``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from kairos.testing import Fail, Reply, Text, error_status, render_error, render_stream

Action = tuple[Any, ...]


def _chunked(pieces: list[bytes]) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces if p) + b"0\r\n\r\n"


def _head(status: int, extra: str = "", ctype: str = "text/event-stream") -> bytes:
    reason = "OK" if status == 200 else "Error"
    return (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: {ctype}\r\n{extra}"
        "transfer-encoding: chunked\r\n\r\n"
    ).encode()


def _stream(reply: Reply) -> list[bytes]:
    return [p for p in render_stream(reply, "openai", "m", created=1) if isinstance(p, bytes)]


def render(action: Action) -> bytes:
    """The whole HTTP response for a non-faulty action (status line to last chunk)."""
    kind = action[0]
    if kind == "ok":
        return _head(200) + _chunked(_stream(Reply([Text(action[1])])))
    if kind == "fail_mid":
        return _head(200) + _chunked(_stream(Reply([Text("partial "), Fail(action[1])])))
    if kind == "fail_first":
        return _head(200) + _chunked(_stream(Reply([Fail(action[1])])))
    if kind == "truncate":  # a clean end of the HTTP body, without the stream's end marker
        return _head(200) + _chunked(_stream(Reply([Text("cut short here")]))[:2])
    if kind == "status":
        code, retry_after = action[1], action[2]
        fail = Fail("rate_limit" if code == 429 else "overloaded")
        assert error_status(fail.kind, "openai") in (429, 503, 529)
        body = render_error(fail, "openai")
        extra = f"retry-after: {retry_after}\r\n" if retry_after is not None else ""
        return _head(code, extra, "application/json") + _chunked([body])
    raise ValueError(f"unknown action {action!r}")


class BatchServer:
    def __init__(self, behave: Callable[[str, int], Action]) -> None:
        self.behave = behave
        self.starts: list[float] = []
        self.errors_sent: list[tuple[float, float]] = []  # (when, retry_after) of HTTP errors
        self.count: Counter[str] = Counter()
        self.open = 0
        self.max_open = 0
        self._cache: dict[Action, bytes] = {}
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> BatchServer:
        self._thread.start()
        assert self._ready.wait(5), "batch server did not start"
        return self

    def __exit__(self, *exc: Any) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=1024)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()
            server.close()
            rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in rest:  # connections kept alive by clients
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while not await self._one(reader, writer):
                pass
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:  # the server is stopping
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; True when the connection is finished."""
        head = await reader.readuntil(b"\r\n\r\n")
        m = re.search(rb"(?i)content-length:\s*(\d+)", head)
        body = await reader.readexactly(int(m.group(1))) if m else b""
        for _ in range(3):  # let hang-ups that reached us first be counted first
            await asyncio.sleep(0)
        prompt = json.loads(body)["messages"][-1]["content"]
        self.starts.append(time.monotonic())
        self.count[prompt] += 1
        action = self.behave(prompt, self.count[prompt])
        self.open += 1
        self.max_open = max(self.max_open, self.open)
        try:
            return await self._act(action, reader, writer)
        finally:
            self.open -= 1

    async def _act(
        self, action: Action, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        kind = action[0]
        if kind == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return True
        if kind == "stall":
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(reader.read(1), action[1])  # b"" when the client leaves
            return True
        if kind == "slow":
            await asyncio.sleep(action[1])
            action = ("ok", action[2])
        if action not in self._cache:
            self._cache[action] = render(action)
        writer.write(self._cache[action])
        await writer.drain()
        if kind == "status" and action[2] is not None:
            self.errors_sent.append((time.monotonic(), float(action[2])))
        return False


def max_in_window(starts: list[float], window: float = 1.0) -> int:
    """The most starts within any half-open window of ``window`` seconds."""
    times = sorted(starts)
    best = lo = 0
    for hi, t in enumerate(times):
        while t - times[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best
