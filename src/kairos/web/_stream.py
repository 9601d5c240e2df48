""":class:`UIMessageStream`: any kairos stream as the bytes of a UI message stream (asyncio).

The source may be an :class:`kairos.AsyncStream`, a sync :class:`kairos.Stream` (read in a
worker thread of its own), an awaitable giving either (``llm.chat_stream(req)`` of an async
provider: opening errors then reach the page as an ``error`` part too), or a zero-argument
function giving a sync stream (called in the worker thread, so a blocking open never stalls the
event loop). Closing the iterator (``aclose()``), cancelling the task reading it, or calling
:meth:`UIMessageStream.cancel` from any thread closes the provider stream at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Protocol, cast

from ..errors import Cancelled
from ..llm import StreamChunk
from ._protocol import DONE, Metadata, Part, PartEncoder, sse, stream_metadata

__all__ = ["AsyncChunkStream", "ChunkStream", "Source", "UIMessageStream", "ui_message_stream"]


class ChunkStream(Protocol):
    """A sync stream of chunks (:class:`kairos.Stream` and anything shaped like it)."""

    def __iter__(self) -> Iterator[StreamChunk]: ...
    def close(self) -> None: ...


class AsyncChunkStream(Protocol):
    """An async stream of chunks (:class:`kairos.AsyncStream` and anything shaped like it)."""

    def __aiter__(self) -> AsyncIterator[StreamChunk]: ...
    async def aclose(self) -> None: ...


Source = (
    ChunkStream
    | AsyncChunkStream
    | Awaitable[ChunkStream | AsyncChunkStream]
    | Callable[[], ChunkStream]
)

_END = object()
_LOOKAHEAD = 64  # chunks a sync stream's reader thread may read ahead of the client


class _Raised:
    __slots__ = ("exc",)

    def __init__(self, exc: Exception) -> None:
        self.exc = exc


def _frame(parts: list[Part]) -> bytes:
    return b"".join(sse(p) for p in parts)


def _close_sync(stream: Any) -> None:
    close = getattr(stream, "close", None)
    if callable(close):
        close()  # kairos.Stream.close and AsyncStream.close: thread-safe, abort the socket now


class UIMessageStream:
    """An async iterator of ``bytes``: the UI message stream protocol v1 for one reply.

    Parts: ``start`` (``messageId``), ``start-step``, text / reasoning blocks, tool input parts,
    ``finish-step``, ``finish`` (with ``messageMetadata``: TTFT, tokens, chunks) and then
    ``data: [DONE]``; a failure (before or after the first chunk) is an ``error`` part with the
    error's one-line message. Send :data:`kairos.web.HEADERS` with it.
    """

    def __init__(
        self,
        source: Source,
        *,
        message_id: str | None = None,
        metadata: Metadata | None = stream_metadata,
    ) -> None:
        self._source: Any = source
        self.encoder = PartEncoder(message_id, metadata)
        self._upstream: Any = None
        self._cancelled = False
        self._reason: str | None = None  # set by cancel(reason): told to the reader
        self._lock = threading.Lock()
        self._gen: AsyncIterator[bytes] | None = None

    def __aiter__(self) -> AsyncIterator[bytes]:
        if self._gen is None:
            self._gen = self._run()
        return self._gen

    async def __anext__(self) -> bytes:
        return await self.__aiter__().__anext__()

    async def aclose(self) -> None:
        """Stop: closes the provider stream (also when iteration never started)."""
        self.cancel()
        if self._gen is not None:
            await self._gen.aclose()  # type: ignore[attr-defined]
        await self._aclose_upstream()

    def cancel(self, reason: str | None = None) -> None:
        """Close the provider stream now; safe from any thread and more than once. A reader
        waiting for the next chunk wakes up. Without ``reason`` (the reader went away) nothing
        more is sent; with one, the reader gets it as an ``error`` part and the stream ends
        normally (a server shutting down, say)."""
        with self._lock:
            if not self._cancelled:
                self._reason = reason
            self._cancelled = True
            upstream = self._upstream
        if upstream is not None:
            _close_sync(upstream)
        source = self._source
        if inspect.iscoroutine(source) and inspect.getcoroutinestate(source) == "CORO_CREATED":
            source.close()  # never awaited: nothing was opened

    # -- the bytes ----------------------------------------------------------------------------
    async def _run(self) -> AsyncIterator[bytes]:
        enc = self.encoder
        try:
            yield _frame(enc.start())
            try:
                async with contextlib.aclosing(self._chunks()) as chunks:
                    async for chunk in chunks:
                        if self._cancelled:
                            break
                        parts = enc.chunk(chunk, self._citations() if chunk.done else ())
                        if parts:
                            yield _frame(parts)
                        if chunk.done:
                            break
            except Exception as exc:  # asyncio.CancelledError is a BaseException: it propagates
                if not self._cancelled:
                    yield _frame(enc.fail(exc))
            if self._cancelled and not enc.finished:
                if self._reason is None:
                    return  # the reader went away: nobody to tell
                yield _frame(enc.fail(Cancelled(self._reason)))
            yield _frame(enc.end())
            yield DONE
        finally:
            await self._aclose_upstream()

    def _citations(self) -> Any:
        """The sources of the answer, once it is complete (kairos streams only)."""
        response = getattr(self._upstream, "response", None)
        return getattr(response, "citations", ())

    def _adopt(self, stream: Any) -> None:
        with self._lock:
            self._upstream = stream
            cancelled = self._cancelled
        if cancelled:
            _close_sync(stream)

    async def _chunks(self) -> AsyncGenerator[StreamChunk, None]:
        source = self._source
        if inspect.isawaitable(source):
            source = await source
        elif callable(source) and not hasattr(source, "__iter__"):
            async for chunk in self._sync_chunks(source):
                yield chunk
            return
        if hasattr(source, "__aiter__"):
            self._adopt(source)
            async for chunk in source:
                yield chunk
            return
        async for chunk in self._sync_chunks(lambda: source):
            yield chunk

    async def _sync_chunks(self, opener: Callable[[], Any]) -> AsyncGenerator[StreamChunk, None]:
        """A sync stream opened and read by a thread of its own (never the shared default pool,
        where a few blocked readers would stall every ``to_thread`` of the app). The thread
        hands chunks over through a queue, at most ``_LOOKAHEAD`` ahead of this reader."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        credits = threading.Semaphore(_LOOKAHEAD)
        stop = threading.Event()
        reader = threading.Thread(
            target=self._read_sync, args=(opener, loop, queue, credits, stop), daemon=True
        )
        reader.name = f"kairos-web-{reader.name}"
        reader.start()
        try:
            while True:
                item = await queue.get()
                credits.release()
                if item is _END:
                    return
                if isinstance(item, _Raised):
                    raise item.exc
                yield cast(StreamChunk, item)
        finally:
            stop.set()
            with self._lock:
                upstream = self._upstream
            if upstream is not None and reader.is_alive():
                _close_sync(upstream)  # a reader blocked on the network wakes up and ends
            for _ in range(_LOOKAHEAD):
                credits.release()  # nor does it wait for a credit nobody would give back

    def _read_sync(
        self,
        opener: Callable[[], Any],
        loop: asyncio.AbstractEventLoop,
        queue: asyncio.Queue[Any],
        credits: threading.Semaphore,
        stop: threading.Event,
    ) -> None:
        def hand(item: Any) -> bool:
            credits.acquire()
            if stop.is_set():
                return False
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the event loop is closed: nobody is reading
                return False
            return True

        stream = None
        try:
            stream = opener()
            if hasattr(stream, "__aiter__") or inspect.isawaitable(stream):
                raise TypeError("the function passed to kairos.web must return a sync stream")
            self._adopt(stream)
            for chunk in stream:
                if not hand(chunk) or chunk.done:
                    return
            hand(_END)
        except Exception as exc:
            hand(_Raised(exc))
        finally:
            if stream is not None and stop.is_set():
                _close_sync(stream)  # the reader went away while this one was opening

    async def _aclose_upstream(self) -> None:
        with self._lock:
            upstream = self._upstream
        if upstream is None:
            return
        _close_sync(upstream)
        aclose = getattr(upstream, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()


def ui_message_stream(
    source: Source,
    *,
    message_id: str | None = None,
    metadata: Metadata | None = stream_metadata,
) -> UIMessageStream:
    """``source`` as an async iterator of UI message stream bytes, for any ASGI framework.

    Send it with :data:`kairos.web.HEADERS`; close it (``aclose()``) or call ``cancel()`` when
    the client goes away and the provider stream is closed at once."""
    return UIMessageStream(source, message_id=message_id, metadata=metadata)
