"""The stream machine: one attempt's response bytes in, caller chunks out. Pure, no I/O.

``StreamMachine`` owns the framing decoder, the codec's event parser, the accumulator and the
clocks of one attempt. The call owner (``_call``) creates one per attempt; the sync and async
shells (``_stream``) feed it bytes and hand its chunks to the caller. It produces exactly one
final chunk (``done=True``), whether the stream completed, failed or was cancelled, and it is
the one place such a chunk is built, so the error it carries is redacted here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ._accumulate import Accumulator
from ._codec import WireCodec
from ._ndjson import NDJSONDecoder
from ._options import Timeouts
from ._output import ObjectAccumulator, OutputSpec
from ._redact import redact
from ._sse import SSEDecoder
from .errors import (
    Cancelled,
    DeadlineExceeded,
    FirstChunkTimeout,
    IdleTimeout,
    IncompleteStreamError,
    KairosError,
    OutputError,
)
from .llm import ChatResponse, FinishReason, StreamChunk, StreamStats

__all__ = ["StreamMachine"]


class StreamMachine:
    def __init__(
        self,
        codec: WireCodec,
        timeouts: Timeouts,
        started: float,
        max_event_bytes: int,
        clock: Callable[[], float] = time.monotonic,
        secrets: tuple[str, ...] = (),
        attempt: int = 1,
        output: OutputSpec | None = None,
    ) -> None:
        self.codec = codec
        self.secrets = secrets  # redacted from every error the stream ends with
        self.attempt = attempt  # which request of the call this is (1 = the first)
        self.provider = codec.provider
        self.parser = codec.new_parser()
        self.sse = codec.framing == "sse"
        self.decoder: SSEDecoder | NDJSONDecoder = (
            SSEDecoder(max_event_bytes) if self.sse else NDJSONDecoder(max_event_bytes)
        )
        self.one = self.decoder.one  # (event, data) of a read holding exactly one event
        # with an output schema the fold also parses the content as one JSON object
        wire = getattr(codec, "wire", "")
        self.acc: Accumulator = (
            Accumulator(codec.provider, wire)
            if output is None
            else ObjectAccumulator(output, codec.provider, wire)
        )
        self.object: Any = None  # the final, validated object (structured output)
        self.timeouts = timeouts
        self.clock = clock
        self.started = started
        self.deadline = started + timeouts.total if timeouts.total is not None else None
        self.first_chunk_at: float | None = None
        self.last_event_at: float | None = None
        self.visible = 0  # chunks handed out before the final one
        self.done = False
        self.error: KairosError | None = None
        self.final: StreamChunk | None = None  # the final chunk, once built
        self.on_first: Callable[[float], None] | None = None  # told the TTFT (observers)

    # -- feeding ---------------------------------------------------------------------------
    def feed(self, data: bytes) -> list[StreamChunk]:
        try:
            one = self.one(data)
            if one is not None:  # hot: one whole event per read
                return self._one(*one)
            events = self.decoder.feed(data)
        except KairosError as err:
            return [self.fail(err)]
        return self._events(events) if events else []

    def eof(self) -> list[StreamChunk]:
        """The body ended (cleanly at the HTTP level)."""
        if self.done:
            return []
        out = self._events(self.decoder.flush())
        if out and out[-1].done:
            return out
        if self.parser.complete:
            out.append(self.finish())
        else:
            out.append(
                self.fail(
                    IncompleteStreamError(
                        "the stream ended before the provider's end marker or finish reason"
                    )
                )
            )
        return out

    def feed_body(self, body: bytes) -> list[StreamChunk]:
        """A complete non-stream JSON answer to a stream request."""
        try:
            deltas = self.codec.parse_body(body)
        except KairosError as err:
            return [self.fail(err)]
        out: list[StreamChunk] = []
        for d in deltas:
            if d.error is not None:
                out.append(self.fail(d.error))
                return out
            chunk = self.acc.add(d)
            if chunk is not None:
                self._visible(chunk, out)
        out.append(self.finish())
        return out

    def _events(self, events: list) -> list[StreamChunk]:  # type: ignore[type-arg]
        # the hot loop, once per wire event; the events of one read share one clock reading
        out: list[StreamChunk] = []
        parse, add, sse = self.parser.parse, self.acc.add, self.sse
        now = self.clock()
        for ev in events:
            try:
                d = parse(ev.event, ev.data) if sse else parse("", ev)
            except KairosError as err:
                out.append(self.fail(err))
                return out
            if d is None:
                continue
            self.last_event_at = now
            if d.error is not None:
                out.append(self.fail(d.error))
                return out
            chunk = add(d)
            if chunk is not None:
                if self.first_chunk_at is None:
                    self._first(now)
                self.visible += 1
                out.append(chunk)
            if d.end:
                out.append(self.finish())
                return out
        return out

    def _one(self, event: str, data: str | bytes) -> list[StreamChunk]:
        """``_events`` for a read holding exactly one event, without the loop."""
        try:
            d = self.parser.parse(event, data)
        except KairosError as err:
            return [self.fail(err)]
        if d is None:
            return []
        now = self.last_event_at = self.clock()
        if d.error is not None:
            return [self.fail(d.error)]
        chunk = self.acc.add(d)
        out = []
        if chunk is not None:
            if self.first_chunk_at is None:
                self._first(now)
            self.visible += 1
            out.append(chunk)
        if d.end:
            out.append(self.finish())
        return out

    def _visible(self, chunk: StreamChunk, out: list[StreamChunk]) -> None:
        if self.first_chunk_at is None:
            self._first(self.clock())
        self.visible += 1
        out.append(chunk)

    def _first(self, now: float) -> None:
        # once per attempt, inside a branch the hot loops take anyway: free when unobserved
        self.first_chunk_at = now
        if self.on_first is not None:
            self.on_first(now - self.started)

    # -- clocks ----------------------------------------------------------------------------
    def _deadline(self) -> tuple[float, str]:
        if self.last_event_at is None:
            at, which = self.started + self.timeouts.first_chunk, "first"
        else:
            at, which = self.last_event_at + self.timeouts.idle, "idle"
        if self.deadline is not None and self.deadline <= at:
            return self.deadline, "total"
        return at, which

    def read_deadline(self) -> float:
        """When the next read must have returned (a ``clock()`` time), for the I/O edge. Once
        the stream is done, reads only drain what is left of the body: never wait."""
        if self.done:
            return 0.0
        return self._deadline()[0]

    def expired(self) -> KairosError | None:
        """The timeout error if a clock has run out, else None."""
        at, which = self._deadline()
        if self.clock() < at:
            return None
        return self.timeout_error(which)

    def timeout_error(self, which: str | None = None) -> KairosError:
        which = which or self._deadline()[1]
        kind = {"total": DeadlineExceeded, "first": FirstChunkTimeout}.get(which, IdleTimeout)
        return kind(self.timeouts.message(which))

    # -- endings ---------------------------------------------------------------------------
    def response(self, finish: FinishReason | None = None) -> ChatResponse:
        return self.acc.response(finish or self._finish_reason(), obj=self.object)

    def _finish_reason(self) -> FinishReason:
        if self.error is not None:
            return "cancelled" if isinstance(self.error, Cancelled) else "error"
        normal = self.codec.normalise_finish(self.acc.raw_finish)
        if self.acc.refused and normal in (None, "stop"):
            return "content_filter"  # a refusal is never an empty success
        if normal is not None:
            return normal
        return "tool_calls" if self.acc.calls else "stop"

    def _final(self) -> StreamChunk:
        self.done = True
        now = self.clock()
        first = self.first_chunk_at
        stats = StreamStats(
            chunks=self.visible + 1,
            time_to_first_chunk=None if first is None else first - self.started,
            total_time=now - self.started,
            content_length=self.acc.content_length,
            attempts=self.attempt,
        )
        reason = self._finish_reason()
        self.final = StreamChunk(
            tool_calls=self.acc.tool_calls(),
            done=True,
            usage=self.acc.usage,
            finish_reason=reason,
            raw_finish_reason=self.acc.raw_finish,
            error=self.error,
            stats=stats,
        )
        if isinstance(self.acc, ObjectAccumulator):
            self.final._object = self.object
        return self.final

    def finish(self) -> StreamChunk:
        if isinstance(self.acc, ObjectAccumulator):
            try:
                self.object = self.acc.final_object(self._finish_reason())
            except OutputError as err:
                return self.fail(err)
        return self._final()

    def fail(self, err: KairosError) -> StreamChunk:
        redact(err, self.secrets)  # in-band error events may echo the key too
        if err.provider is None:
            err.provider = self.provider
        self.error = err
        err.partial = self.acc.response("cancelled" if isinstance(err, Cancelled) else "error")
        return self._final()

    def cancel(self, err: KairosError | None = None) -> StreamChunk:
        return self.fail(err or Cancelled("the stream was closed by the caller"))
