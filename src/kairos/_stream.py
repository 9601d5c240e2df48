"""``Stream`` and ``AsyncStream``: the thin sync and async shells that drive a :class:`Call`.

Each shell does only I/O: it performs the steps the call owner yields (send, read an error
body, sleep, pump a body through the stream machine), hands the machine's chunks to the caller,
keeps the I/O edge's read deadline up to date, and closes the response the moment the stream
ends, fails, is closed or is dropped. The two shells have the same shape, function for
function (``_drive``/``_adrive``, ``_run``/``_arun``, ``_pump``/``_apump``). The generators
hold no reference to their ``Stream``, so a stream dropped after a bare ``break`` is closed by
reference counting at once, not by the cyclic GC.

A complete body is closed once its rest is drained, so that its connection is reused: sync
after the final chunk has reached the caller, async in the background (``_http.park``).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Generator, Iterator
from types import TracebackType
from typing import Any

import httpx

from . import _http
from ._call import Call, Pump, ReadError, Send, Sleep, Step
from ._http import ReadTimedOut
from ._machine import StreamMachine
from .errors import APIStatusError, Cancelled, ConfigurationError, KairosError
from .llm import ChatResponse, StreamChunk

__all__ = ["AsyncStream", "Stream"]

Steps = Generator[Step, Any, StreamChunk]


async def _sleep(seconds: float, wake: Any = None) -> None:
    import asyncio  # only async retries need it: `import kairos` stays free of asyncio (~10 ms)

    if wake is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(asyncio.TimeoutError):  # ``close()`` sets ``wake``
        await asyncio.wait_for(wake.wait(), seconds)


def _close(call: Call, drain: bool = True) -> None:
    """Close the current response; a complete body is drained first, or (not ``drain``) left
    for later: it is drained once the final chunk has reached the caller."""
    with call.lock:
        if call.response is not None:
            _http.close(call.response, drain)


def _abort(call: Call) -> None:
    response = call.cancel()
    if response is not None and not response.is_closed:
        _http.abort(response)


class Stream:
    """A sync stream of :class:`StreamChunk`. Use it in a ``with`` block, or call ``close()``.
    Creating it sends the request; an error before the body raises from here."""

    def __init__(self, client: httpx.Client, call: Call) -> None:
        self._call = call
        self._wake = threading.Event()  # ends a retry's wait when the stream is closed
        self._steps = steps = call.steps()  # closed by close(): the call's end is reported
        pump = _drive(client, call, steps, None, self._wake)
        assert isinstance(pump, Pump)  # before any stream the call raises or pumps
        self._it = _run(client, call, steps, pump, self._wake)

    def __iter__(self) -> Iterator[StreamChunk]:
        return self

    def __next__(self) -> StreamChunk:
        try:
            return next(self._it)
        except ValueError:
            if getattr(self._it, "gi_running", False):  # "generator already executing"
                raise ConfigurationError(
                    "this stream is being iterated in another thread; a stream has one reader"
                ) from None
            raise

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
        _abort(self._call)
        self._wake.set()
        try:
            self._it.close()
        except ValueError:  # the generator is running in another thread: the abort ends it
            return
        self._steps.close()  # also when iteration never started
        _close(self._call)

    @property
    def response(self) -> ChatResponse:
        """What has been accumulated so far (the final answer once the stream is done)."""
        machine = self._call.machine
        assert machine is not None
        return machine.response()

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


def _drive(
    client: httpx.Client, call: Call, steps: Steps, result: Any, wake: threading.Event
) -> Pump | StreamChunk:
    """Send ``result`` to the call, then perform the steps it asks for until it wants a body
    pumped (the :class:`Pump`) or ends (its final chunk); raises the error it gives up with."""
    try:
        while True:
            step = steps.send(result)
            if isinstance(step, Pump):
                return step
            result = None
            if isinstance(step, Send):
                _close(call)  # a retried attempt's connection first
                result = _http.send(client, step.request, call.opts.timeouts, call.provider)
            elif isinstance(step, ReadError):
                result = _http.read_body(step.response, call.opts.max_error_body, call.provider)
            elif isinstance(step, Sleep):
                wake.wait(step.seconds)
    except StopIteration as end:
        final: StreamChunk = end.value
        return final


def _run(
    client: httpx.Client, call: Call, steps: Steps, pump: Pump, wake: threading.Event
) -> Generator[StreamChunk, None, None]:
    try:
        while True:
            final = yield from _pump(call, pump)
            _close(call, drain=False)
            after = _drive(client, call, steps, final, wake)
            if isinstance(after, Pump):
                pump = after  # the call retries an in-band error that came before any chunk
                continue
            yield after
            if after.error is not None:
                raise after.error
            return
    finally:
        _close(call)


def _pump(call: Call, pump: Pump) -> Generator[StreamChunk, None, StreamChunk]:
    """Yield the visible chunks of one attempt; return its final chunk (not yielded)."""
    response, machine = pump.response, pump.machine
    if pump.whole:
        body = _http.read_body(response, call.opts.max_event_bytes, call.provider)
        chunks = machine.feed_body(body)
        yield from chunks[:-1]
        return chunks[-1]
    clock = _http.read_clock(response, machine.read_deadline())
    try:
        pieces = _http.iter_body(response, call.provider)
        for data in pieces:
            chunks = machine.feed(data)
            if machine.done:  # complete: the rest of the body is read after the final chunk
                _http.park(response, pieces, clock, _drain_cap(call, chunks[-1]))
                _close(call, drain=False)  # closed now unless parked
                yield from chunks[:-1]
                return chunks[-1]
            if chunks:
                yield from chunks
            if call.cancelled:
                return machine.cancel()
            if clock is not None:
                clock.deadline = machine.read_deadline()
            # events just restarted the idle clock: only a total deadline can have run out
            err = machine.expired() if not chunks or machine.deadline is not None else None
            if err is not None:
                return machine.fail(err)
        # a pending event flushed at the end of the body may still carry content: the caller
        # sees it as a chunk, so the deltas always add up to the response
        chunks = machine.eof()
        yield from chunks[:-1]
        return chunks[-1]
    except ReadTimedOut:
        return machine.fail(machine.timeout_error())
    except KairosError as err:
        return machine.cancel() if call.cancelled else machine.fail(err)
    except GeneratorExit:
        raise
    except BaseException:
        _end(machine)
        raise


def _drain_cap(call: Call, final: StreamChunk) -> float:
    """How long the rest of a finished body may be read to keep its connection: a complete
    answer or the provider's own error event, yes; a body that broke the protocol, no."""
    ok = final.error is None or isinstance(final.error, APIStatusError)
    return call.opts.timeouts.drain if ok else 0.0


def _end(machine: StreamMachine, err: KairosError | None = None) -> None:
    if not machine.done:
        machine.cancel(err)


class AsyncStream:
    """An async stream of :class:`StreamChunk`. Use ``async with``, or ``await aclose()``."""

    def __init__(self, client: httpx.AsyncClient, call: Call) -> None:
        self._call = call
        self._client = client
        self._it: AsyncIterator[StreamChunk] | None = None
        self._steps: Steps | None = None
        self._handed = False  # the iterator was handed out: its finaliser closes the response
        self._loop: Any = None  # the event loop the stream runs in, and its wake-up event
        self._wake: Any = None

    async def start(self) -> AsyncStream:
        """Send the request; an error before the body raises from here."""
        import asyncio

        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        call = self._call
        self._steps = steps = call.steps()
        pump = await _adrive(self._client, call, steps, None, self._wake)
        assert isinstance(pump, Pump)  # before any stream the call raises or pumps
        self._it = _arun(self._client, call, steps, pump, self._wake)  # no reference to self
        return self

    def __aiter__(self) -> AsyncIterator[StreamChunk]:
        assert self._it is not None, "await provider.chat_stream(...) first"
        self._handed = True
        return self._it

    async def __anext__(self) -> StreamChunk:
        return await self.__aiter__().__anext__()

    async def __aenter__(self) -> AsyncStream:
        return self

    async def __aexit__(self, t: Any, e: Any, tb: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection now; iteration stops."""
        call = self._call
        call.cancel()
        try:
            if self._it is not None:
                await self._it.aclose()  # type: ignore[attr-defined]
        except RuntimeError:  # being iterated by another task: the abort below ends it
            _abort(call)
        else:
            if self._steps is not None:
                self._steps.close()  # also when iteration never started
        if call.response is not None:
            await _http.aclose(call.response, turn=True)

    def close(self) -> None:
        """Close from another thread or a sync callback: the pending read (or a retry's wait)
        ends at once and the stream ends with a :class:`~kairos.Cancelled` error."""
        _abort(self._call)
        loop, wake = self._loop, self._wake
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(_wake_up, self._call, wake)

    def __del__(self) -> None:
        call = getattr(self, "_call", None)
        response = None if call is None else call.response
        if getattr(self, "_handed", True):
            return  # being iterated: the iterator's own finaliser closes the response
        if response is not None and not response.is_closed:
            _http.abort(response)

    @property
    def response(self) -> ChatResponse:
        machine = self._call.machine
        assert machine is not None
        return machine.response()

    async def get_final_response(self) -> ChatResponse:
        async for _ in self:
            pass
        return self.response

    async def text(self) -> AsyncIterator[str]:
        async for chunk in self:
            if chunk.content:
                yield chunk.content


def _wake_up(call: Call, wake: Any) -> None:
    """In the stream's event loop: end a pending read and a retry's wait."""
    _abort(call)
    wake.set()


async def _adrive(
    client: httpx.AsyncClient, call: Call, steps: Steps, result: Any, wake: Any = None
) -> Pump | StreamChunk:
    try:
        while True:
            step = steps.send(result)
            if isinstance(step, Pump):
                return step
            result = None
            if isinstance(step, Send):
                result = await _http.asend(client, step.request, call.opts.timeouts, call.provider)
            elif isinstance(step, ReadError):
                limit = call.opts.max_error_body
                result = await _http.aread_body(step.response, limit, call.provider)
            elif isinstance(step, Sleep):
                await _sleep(step.seconds, wake)
    except StopIteration as end:
        final: StreamChunk = end.value
        return final


async def _arun(
    client: httpx.AsyncClient, call: Call, steps: Steps, pump: Pump, wake: Any = None
) -> AsyncIterator[StreamChunk]:
    try:
        while True:
            final: StreamChunk | None = None
            async for chunk in _apump(call, pump):
                if chunk.done:
                    final = chunk  # always the last one
                else:
                    yield chunk
            assert final is not None
            await _http.aclose(pump.response)
            after = await _adrive(client, call, steps, final, wake)
            if isinstance(after, Pump):
                pump = after  # the call retries an in-band error that came before any chunk
                continue
            yield after
            if after.error is not None:
                raise after.error
            return
    finally:
        if call.response is not None:
            await _http.aclose(call.response)


async def _apump(call: Call, pump: Pump) -> AsyncIterator[StreamChunk]:
    """Yield the chunks of one attempt, the final one last."""
    response, machine = pump.response, pump.machine
    if pump.whole:
        body = await _http.aread_body(response, call.opts.max_event_bytes, call.provider)
        for chunk in machine.feed_body(body):
            yield chunk
        return
    clock = _http.read_clock(response, machine.read_deadline())
    try:
        pieces = _http.aiter_body(response, call.provider)
        async for data in pieces:
            chunks = machine.feed(data)
            if machine.done:  # complete: the rest of the body is read in the background
                await _http.apark(response, pieces, clock, _drain_cap(call, chunks[-1]))
            for chunk in chunks:
                yield chunk
            if machine.done:
                return
            if call.cancelled:
                yield machine.cancel()
                return
            if clock is not None:
                clock.deadline = machine.read_deadline()
            # events just restarted the idle clock: only a total deadline can have run out
            err = machine.expired() if not chunks or machine.deadline is not None else None
            if err is not None:
                yield machine.fail(err)
                return
        for chunk in machine.eof():  # a flushed pending event may carry content (see _pump)
            yield chunk
        return
    except ReadTimedOut:
        final = machine.fail(machine.timeout_error())
    except KairosError as err:
        final = machine.cancel() if call.cancelled else machine.fail(err)
    except BaseException:  # task cancellation: close now, never swallow it
        _end(machine, Cancelled("the task consuming the stream was cancelled"))
        await _http.aclose(response)
        raise
    yield final
