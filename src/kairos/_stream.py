"""``Stream`` and ``AsyncStream``: the thin sync / async shells around :class:`StreamCore`.

The shell opens the request (retrying only while nothing reached the caller), feeds response
bytes to the core, enforces the clocks, and closes the response the moment the stream ends,
fails, is closed or is dropped. The generator holds no reference to its ``Stream``, so a stream
dropped after a bare ``break`` is closed by reference counting at once, not by the cyclic GC.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from types import TracebackType
from typing import Any

import httpx

from . import _http
from ._codec import HTTPRequest, WireCodec
from ._core import StreamCore, scrub
from ._http import ReadTimedOut
from ._state import State, StreamOptions, is_json
from .errors import Cancelled, KairosError
from .llm import ChatResponse, StreamChunk

__all__ = ["AsyncStream", "Stream", "StreamOptions"]


async def _sleep(seconds: float) -> None:
    import asyncio  # only async retries need it: `import kairos` stays free of asyncio (~10 ms)

    await asyncio.sleep(seconds)


class Stream:
    """A sync stream of :class:`StreamChunk`. Use it in a ``with`` block, or call ``close()``."""

    def __init__(
        self, client: httpx.Client, codec: WireCodec, request: HTTPRequest, opts: StreamOptions
    ) -> None:
        self._state = State(codec, request, opts)
        self._client = client
        # the generator must not hold ``self`` (a cycle would delay closing a dropped stream)
        reopen = functools.partial(self._open, client, self._state)
        reopen(0)
        self._it = _run(self._state, reopen)

    @staticmethod
    def _open(client: httpx.Client, st: State, attempt: int) -> StreamCore:
        while True:
            try:
                response = _http.send(client, st.request, st.opts.timeouts, st.codec.provider)
                if response.status_code >= 400:
                    body = _http.read_body(response, st.opts.max_error_body, st.codec.provider)
                    raise st.codec.parse_error(response.status_code, response.headers, body)
                return st.new_core(response)
            except KairosError as err:
                wait = st.on_error(err, attempt)
                if wait is None:
                    raise err from err.__cause__
                attempt += not st.fell_back
                time.sleep(wait)

    def __iter__(self) -> Iterator[StreamChunk]:
        return self._it

    def __next__(self) -> StreamChunk:
        return next(self._it)

    def __enter__(self) -> Stream:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection now. Safe from any thread, and more than once. After
        ``close()`` iteration stops; a reader blocked in another thread gets the final chunk
        with a :class:`~kairos.Cancelled` error."""
        self._state.abort()
        # ValueError: the generator is running in another thread; the abort ends it
        with contextlib.suppress(ValueError):
            self._it.close()

    @property
    def response(self) -> ChatResponse:
        """What has been accumulated so far (the final answer once the stream is done)."""
        assert self._state.core is not None
        return self._state.core.response()

    def get_final_response(self) -> ChatResponse:
        """Drain the stream and return the full answer; raises the error a stream ended with."""
        for _ in self:
            pass
        return self.response

    def text(self) -> Iterator[str]:
        """Only the content deltas; raises if the stream fails."""
        for chunk in self:
            if chunk.content:
                yield chunk.content


def _run(st: State, reopen: Callable[[int], StreamCore]) -> Generator[StreamChunk, None, None]:
    core = st.core
    assert core is not None and st.response is not None
    attempt = 0
    try:
        while True:
            final = yield from _pump(st, core)
            if final.error is not None and st.retry_in_band(core) and not st.cancelled:
                wait = st.on_error(final.error, attempt)
                if wait is not None:
                    st.close_response()
                    time.sleep(wait)
                    attempt += 1
                    core = reopen(attempt)
                    continue
            yield final
            if final.error is not None:
                raise final.error
            return
    finally:
        st.close_response()


def _pump(st: State, core: StreamCore) -> Generator[StreamChunk, None, StreamChunk]:
    """Yield the visible chunks of one attempt; return its final chunk (not yielded)."""
    response = st.response
    assert response is not None
    if is_json(response):
        body = _http.read_body(response, st.opts.max_event_bytes, core.provider)
        chunks = core.feed_body(body)
        yield from chunks[:-1]
        return chunks[-1]
    try:
        pieces = _http.iter_body(response, core.provider)
        for data in pieces:
            chunks = core.feed(data)
            if core.done:
                _http.drain(response, pieces)  # keeps the connection for the next request
                st.close_response()  # complete: do not wait for the server to hang up
                yield from chunks[:-1]
                return chunks[-1]
            if chunks:
                yield from chunks
            if st.cancelled:
                return core.cancel()
            # events just restarted the idle clock: only a total deadline can have run out
            err = core.expired() if not chunks or core.deadline is not None else None
            if err is not None:
                return core.fail(err)
        # a pending event flushed at the end of the body may still carry content: the caller
        # sees it as a chunk, so the deltas always add up to the response
        chunks = core.eof()
        yield from chunks[:-1]
        return chunks[-1]
    except ReadTimedOut:
        return core.fail(core.timeout_error())
    except KairosError as err:
        if st.cancelled:
            return core.cancel()
        return core.fail(scrub(err, st.request.secrets))
    except GeneratorExit:
        raise
    except BaseException:
        if not core.done:
            core.cancel()
        raise


class AsyncStream:
    """An async stream of :class:`StreamChunk`. Use ``async with``, or ``await aclose()``."""

    def __init__(
        self, client: httpx.AsyncClient, codec: WireCodec, request: HTTPRequest, opts: StreamOptions
    ) -> None:
        self._state = State(codec, request, opts)
        self._client = client
        self._it: AsyncIterator[StreamChunk] | None = None

    @staticmethod
    async def _open(client: httpx.AsyncClient, st: State, attempt: int) -> StreamCore:
        while True:
            try:
                response = await _http.asend(
                    client, st.request, st.opts.timeouts, st.codec.provider
                )
                if response.status_code >= 400:
                    body = await _http.aread_body(
                        response, st.opts.max_error_body, st.codec.provider
                    )
                    raise st.codec.parse_error(response.status_code, response.headers, body)
                return st.new_core(response)
            except KairosError as err:
                wait = st.on_error(err, attempt)
                if wait is None:
                    raise err from err.__cause__
                attempt += not st.fell_back
                await _sleep(wait)

    async def start(self) -> AsyncStream:
        reopen = functools.partial(self._open, self._client, self._state)  # no ref to self
        await reopen(0)
        self._it = _arun(self._state, reopen)
        return self

    def __aiter__(self) -> AsyncIterator[StreamChunk]:
        assert self._it is not None, "await provider.chat_stream(...) first"
        return self._it

    async def __anext__(self) -> StreamChunk:
        return await self.__aiter__().__anext__()

    async def __aenter__(self) -> AsyncStream:
        return self

    async def __aexit__(self, t: Any, e: Any, tb: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection now; iteration stops."""
        st = self._state
        if st.core is not None and not st.core.done:
            st.cancelled = True
        try:
            if self._it is not None:
                await self._it.aclose()  # type: ignore[attr-defined]
        except RuntimeError:  # being iterated by another task: the abort below ends it
            st.abort()
        if st.response is not None:
            await _http.aclose(st.response)

    def close(self) -> None:
        """Close from another thread or a sync callback: the pending read ends the stream."""
        self._state.abort()

    def __del__(self) -> None:
        st = getattr(self, "_state", None)
        if st is not None and st.response is not None and not st.response.is_closed:
            _http.abort(st.response)

    @property
    def response(self) -> ChatResponse:
        assert self._state.core is not None
        return self._state.core.response()

    async def get_final_response(self) -> ChatResponse:
        async for _ in self:
            pass
        return self.response

    async def text(self) -> AsyncIterator[str]:
        async for chunk in self:
            if chunk.content:
                yield chunk.content


async def _arun(st: State, reopen: Callable[[int], Any]) -> AsyncIterator[StreamChunk]:
    core = st.core
    assert core is not None
    attempt = 0
    try:
        while True:
            response = st.response
            assert response is not None
            final: StreamChunk | None = None
            async for chunk in _apump(st, core):
                if chunk.done:
                    final = chunk  # always the last one
                else:
                    yield chunk
            assert final is not None
            if final.error is not None and st.retry_in_band(core) and not st.cancelled:
                wait = st.on_error(final.error, attempt)
                if wait is not None:
                    await _http.aclose(response)
                    await _sleep(wait)
                    attempt += 1
                    core = await reopen(attempt)
                    continue
            yield final
            if final.error is not None:
                raise final.error
            return
    finally:
        if st.response is not None:
            await _http.aclose(st.response)


async def _apump(st: State, core: StreamCore) -> AsyncIterator[StreamChunk]:
    """Yield the chunks of one attempt, the final one last."""
    response = st.response
    assert response is not None
    if is_json(response):
        body = await _http.aread_body(response, st.opts.max_event_bytes, core.provider)
        for chunk in core.feed_body(body):
            yield chunk
        return
    try:
        pieces = _http.aiter_body(response, core.provider)
        async for data in pieces:
            chunks = core.feed(data)
            if core.done:
                await _http.adrain(response, pieces)  # keeps the connection for reuse
                await _http.aclose(response)
            for chunk in chunks:
                yield chunk
            if core.done:
                return
            if st.cancelled:
                yield core.cancel()
                return
            # events just restarted the idle clock: only a total deadline can have run out
            err = core.expired() if not chunks or core.deadline is not None else None
            if err is not None:
                yield core.fail(err)
                return
        for chunk in core.eof():  # a flushed pending event may carry content (see _pump)
            yield chunk
        return
    except ReadTimedOut:
        final = core.fail(core.timeout_error())
    except KairosError as err:
        final = core.cancel() if st.cancelled else core.fail(scrub(err, st.request.secrets))
    except BaseException:  # task cancellation: close now, never swallow it
        if not core.done:
            core.cancel(Cancelled("the task consuming the stream was cancelled"))
        await _http.aclose(response)
        raise
    yield final
