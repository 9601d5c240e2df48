"""Per-read deadlines on the connection's network stream (see the package doc)."""

from __future__ import annotations

import time
from typing import Any

import httpx


class ReadClock:
    """When the current read must return: ``deadline`` is a ``time.monotonic()`` value the
    shell sets after every read (0 once the stream is done: reads then only take what is
    already there)."""

    __slots__ = ("deadline", "stream")

    def __init__(self, stream: Any, deadline: float) -> None:
        self.stream = stream
        self.deadline = deadline


def read_clock(response: httpx.Response, deadline: float) -> ReadClock | None:
    """Make every body read of ``response`` wait at most until the clock's deadline (see the
    module doc); None when the connection does not expose its network stream."""
    stream: Any = response.extensions.get("network_stream")
    if stream is None or "read" in getattr(stream, "__dict__", {"read": None}):
        return None
    holder = ReadClock(stream, deadline)
    original = stream.read
    now = time.monotonic
    if _is_coroutine_function(original):

        async def aread(max_bytes: int, timeout: float | None = None) -> bytes:
            left = holder.deadline - now()
            return bytes(await original(max_bytes, left if left > 0.001 else 0.001))

        stream.read = aread
    else:

        def read(max_bytes: int, timeout: float | None = None) -> bytes:
            left = holder.deadline - now()
            return bytes(original(max_bytes, left if left > 0.001 else 0.001))

        stream.read = read
    response.extensions["kairos_read_clock"] = holder
    return holder


def remove_read_clock(response: httpx.Response) -> None:
    holder = response.extensions.get("kairos_read_clock")
    if holder is not None:
        holder.stream.__dict__.pop("read", None)


def _is_coroutine_function(fn: Any) -> bool:
    import inspect

    return inspect.iscoroutinefunction(fn)
