"""The call owner: one object per ``chat_stream`` call, from the first request to the final chunk.

A :class:`Call` holds everything one call needs: the request (replaced by the codec's one-time
fallback request if the server rejects an optional field), ONE attempt counter, the start time
and total deadline, cancellation, the secrets to redact and the stream machine of the current
attempt. Its lifecycle -- send, classify the answer, wait and retry or fall back, stream, finish
-- is written once, in :meth:`Call.steps`: a generator that yields the I/O it needs and receives
what came back:

==================  =========================================  ============================
step                the shell does                             and sends back
==================  =========================================  ============================
:class:`Send`       send ``request`` (stream mode)             the response, or the typed
                                                               error of a failed send
:class:`ReadError`  read the error body (up to a limit)        the bytes
:class:`Sleep`      wait ``seconds`` before the next attempt   nothing
:class:`Pump`       feed the body to ``machine``, yielding     the attempt's final chunk
                    its chunks to the caller
==================  =========================================  ============================

The generator returns the call's final chunk, or raises the (redacted) error the call gives up
with. The sync and async shells in ``_stream`` drive it with loops of the same shape, the way
httpx drives ``Auth.auth_flow`` from both of its clients. Nothing here does I/O.

When observers watch the call (``_watch``), :meth:`Call.steps` tells them of each decision
(start, attempt, retry with its error and wait) and of the end, however the stream ends: a
stream that is closed, broken out of, cancelled or dropped closes this generator, which then
ends the attempt being pumped (its final chunk says Cancelled) and reports it.

Retries happen only while nothing has reached the caller: a failed send, an HTTP error status,
or an in-band error before the first chunk. However an attempt failed, it counts against the
same ``max_retries``; a fallback request does not.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Mapping
from typing import Any, Protocol

from ._codec import HTTPRequest, WireCodec
from ._machine import StreamMachine
from ._observe import CallEnd
from ._options import CallOptions
from ._output import OutputSpec
from ._redact import redact
from ._watch import Watch
from .errors import Cancelled, KairosError
from .llm import StreamChunk, StreamStats

__all__ = ["Call", "Pump", "ReadError", "ResponseHead", "Send", "Sleep", "Step"]


class ResponseHead(Protocol):
    """What the call reads of a response: its status and headers (httpx's response has both)."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...


class Send:
    __slots__ = ("request",)

    def __init__(self, request: HTTPRequest) -> None:
        self.request = request


class ReadError:
    __slots__ = ("response",)

    def __init__(self, response: Any) -> None:
        self.response = response


class Sleep:
    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


class Pump:
    """Stream ``response`` through ``machine``. ``whole``: the body is one complete JSON
    answer (a server that ignored ``stream: true``), read whole and parsed as the answer."""

    __slots__ = ("machine", "response", "whole")

    def __init__(self, response: Any, machine: StreamMachine, whole: bool) -> None:
        self.response = response
        self.machine = machine
        self.whole = whole


Step = Send | ReadError | Sleep | Pump


def is_json(response: ResponseHead) -> bool:
    """Whether a successful answer to a stream request is one complete ``application/json``
    body. Such a body is parsed by the codec's ``parse_body`` as the full answer, on every
    wire; a JSON body that is no answer ends the stream with a typed error, never with an
    empty success."""
    ctype: str = response.headers.get("content-type", "")
    return ctype.startswith("application/json")


class Call:
    """Everything one call owns. The shells call :meth:`steps` once and :meth:`cancel` from
    any thread; ``machine`` and ``response`` are the current attempt's."""

    def __init__(
        self,
        codec: WireCodec,
        request: HTTPRequest,
        opts: CallOptions,
        clock: Callable[[], float] = time.monotonic,
        on_fallback: Callable[[KairosError], None] | None = None,
        output: OutputSpec | None = None,
        watch: Watch | None = None,
    ) -> None:
        self.codec = codec
        self.watch = watch  # the call's observers, None when nobody watches
        self.on_fallback = on_fallback  # told which error made the codec fall back
        self.output = output  # the request's output schema (structured output), if any
        self.provider = codec.provider
        self.request = request
        self.secrets = request.secrets
        self.opts = opts
        self.clock = clock
        self.started = clock()
        self.attempts = 0  # requests sent so far (the fallback's included)
        self.retries = 0  # retries made: what max_retries bounds
        self.fallback_used = False
        self.cancelled = False
        self.waiting = False  # between attempts, waiting before a retry
        self.machine: StreamMachine | None = None
        self.pumping = False  # a body is being pumped through ``machine``
        self.response: Any = None
        self.lock = threading.Lock()

    def steps(self) -> Generator[Step, Any, StreamChunk]:
        """The lifecycle, written once (see the module docstring), and its end reported."""
        watch = self.watch
        if watch is not None:
            watch.start()
        try:
            final = yield from self._lifecycle()
        except GeneratorExit:  # the stream was closed, broken out of, cancelled or dropped
            self._abandoned()
            raise
        except KairosError as err:  # raised from chat_stream: no stream was handed out
            if watch is not None:
                watch.end(CallEnd(None, self._stats(), err))
            raise
        if watch is not None:
            watch.end(CallEnd(final, final.stats or self._stats(), final.error, self.machine))
        return final

    def _lifecycle(self) -> Generator[Step, Any, StreamChunk]:
        while True:
            final, err = yield from self._attempt()
            if err is None and final is not None:
                return final
            assert err is not None
            wait = self._retry_wait(err)
            if wait is None:
                if final is not None:
                    return final  # an in-band error: the stream ends with its error chunk
                return self._give_up(err)
            if self.watch is not None:
                self.watch.retry(self.attempts, redact(err, self.secrets), wait)
            if wait > 0:
                self.waiting = True  # a close() now cancels the call (see cancel())
                yield Sleep(wait)
                self.waiting = False
            if self.cancelled:
                return self._give_up(Cancelled("the stream was closed by the caller"))

    def _give_up(self, err: KairosError) -> StreamChunk:
        """Raise ``err`` from ``chat_stream``; or, once a stream was handed to the caller (a
        retried in-band error), end that stream with a final chunk carrying it."""
        if self.machine is None:
            if err.provider is None:
                err.provider = self.provider
            raise redact(err, self.secrets) from err.__cause__
        return self._new_machine().fail(err)

    def _abandoned(self) -> None:
        """The stream ended without the lifecycle finishing: end the attempt being pumped
        (its final chunk, built once, says Cancelled) and report the end."""
        machine = self.machine
        final = None
        if self.pumping and machine is not None:
            final = machine.final if machine.done else machine.cancel()
        if self.watch is None:
            return
        if final is None:
            cancelled = Cancelled("the stream was closed by the caller")
            self.watch.end(CallEnd(None, self._stats(), cancelled))
        else:
            self.watch.end(CallEnd(final, final.stats or self._stats(), final.error, machine))

    def _stats(self) -> StreamStats:
        """The stats of a call that handed out no stream."""
        return StreamStats(0, None, self.clock() - self.started, 0, self.attempts)

    def _attempt(
        self,
    ) -> Generator[Step, Any, tuple[StreamChunk | None, KairosError | None]]:
        """One request: ``(final chunk, None)`` when the call is over, else the error that may
        be retried (with the final chunk too when it arrived in-band, before any chunk)."""
        self.attempts += 1
        if self.watch is not None:
            self.watch.attempt(self.attempts)
        result = yield Send(self.request)
        if isinstance(result, KairosError):
            return None, result
        with self.lock:
            self.response = result
        if result.status_code >= 400:
            body = yield ReadError(result)
            return None, self.codec.parse_error(result.status_code, result.headers, body)
        machine = self._new_machine()
        self.pumping = True
        final: StreamChunk = yield Pump(result, machine, is_json(result))
        self.pumping = False
        if final.error is not None and self._in_band_retryable(machine, final.error):
            return final, final.error
        return final, None

    def _new_machine(self) -> StreamMachine:
        o, watch = self.opts, self.watch
        machine = (StreamMachine if watch is None else watch.machine_class)(
            self.codec,
            o.timeouts,
            self.started,
            o.max_event_bytes,
            self.clock,
            secrets=self.secrets,
            attempt=self.attempts,
            output=self.output,
        )
        if watch is not None:
            watch.attach(machine)
        with self.lock:
            self.machine = machine
        return machine

    def _in_band_retryable(self, machine: StreamMachine, err: KairosError) -> bool:
        """An in-band error before the first chunk may be retried like an HTTP error."""
        return machine.visible == 0 and err.retryable and not self.cancelled

    def _retry_wait(self, err: KairosError) -> float | None:
        """Seconds to wait before the next attempt, or None to give up. The codec's one-time
        fallback request is tried first (at once, not counted as a retry)."""
        if not self.fallback_used:
            alt = self.codec.fallback_request(self.request, err)
            if alt is not None:
                self.request = alt
                self.fallback_used = True
                if self.on_fallback is not None:
                    self.on_fallback(err)
                return 0.0
        policy = self.opts.retry
        if self.cancelled or not policy.should_retry(err, self.retries):
            return None
        wait = policy.delay(err, self.retries)
        total = self.opts.timeouts.total
        if total is not None and self.clock() + wait > self.started + total:
            return None
        self.retries += 1
        return wait

    def cancel(self) -> Any:
        """Mark the call cancelled (unless its stream already ended); returns the current
        response, which the shell aborts so that a blocked read returns."""
        with self.lock:
            if self.machine is None or not self.machine.done or self.waiting:
                self.cancelled = True
            return self.response
