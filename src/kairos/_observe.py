"""Observer hooks: watch every call a provider makes, without touching the stream.

An :class:`Observer` is told when a call starts, when each HTTP request (attempt) is sent,
when an attempt failed and is retried (with the error and the wait), when the first chunk
arrives, optionally of every chunk, and -- exactly once -- when the call ends: with its usage,
stats, finish reason, response model and id, or the error it ended with. Cancellation (``close()``,
leaving a ``with`` block, ``break``, task cancellation, a stream dropped without closing) is an
end whose ``error`` is a :class:`kairos.Cancelled`.

Register observers for every call (``kairos.observers.add(obs)``) or for one provider
(``kairos.provider(..., observers=[obs])``). Calls made while no observer is registered pay
nothing per chunk; an observer that defines :meth:`Observer.on_chunk` makes the calls it
watches pay for one Python call per chunk. An observer that raises never breaks a stream: its
first failure is logged (logger ``kairos.observe``, with the traceback) and the stream goes on.

Hook calls happen in the thread (or task) driving the stream, except for a stream dropped
without closing, whose end is reported wherever Python finalises it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import Cancelled, ConfigurationError, KairosError
from .llm import ChatRequest, ChatResponse, FinishReason, StreamChunk, StreamStats, Usage

if TYPE_CHECKING:
    from ._machine import StreamMachine

__all__ = ["CallEnd", "CallInfo", "Observer", "Observers", "checked", "observers"]


@dataclass(eq=False, slots=True)
class CallInfo:
    """What is known of a call when it starts. One object per call: observers may keep their
    per-call data in ``state`` (for example keyed by the observer itself)."""

    provider: str  # the preset's name (a key of kairos.providers.PRESETS)
    model: str  # the model asked for (the request's, else the provider's default)
    request: ChatRequest
    base_url: str
    started: float  # time.monotonic() when the call began
    state: dict[Any, Any] = field(default_factory=dict)


class CallEnd:
    """How a call ended: reported once per call, however it ended.

    ``error`` is None for a completed stream; a :class:`kairos.Cancelled` when the caller
    closed, broke out of, cancelled or dropped the stream (``cancelled`` is then True); any
    other :class:`kairos.KairosError` for a failure, before the stream began (then ``chunk``
    is None: the error was raised from ``chat_stream``) or during it. ``stats`` is always set
    (``chunks == 0`` when no stream was handed out)."""

    __slots__ = ("_machine", "chunk", "error", "finish_reason", "stats", "usage")

    def __init__(
        self,
        chunk: StreamChunk | None,
        stats: StreamStats,
        error: KairosError | None,
        machine: StreamMachine | None = None,
    ) -> None:
        self.chunk = chunk  # the final chunk (done=True), None if no stream was handed out
        self.stats = stats
        self.error = error
        self.usage: Usage | None = None if chunk is None else chunk.usage
        reason: FinishReason | None = None if chunk is None else chunk.finish_reason
        if reason is None:
            reason = "cancelled" if isinstance(error, Cancelled) else "error"
        self.finish_reason: FinishReason = reason
        self._machine = machine

    @property
    def cancelled(self) -> bool:
        return isinstance(self.error, Cancelled)

    @property
    def raw_finish_reason(self) -> str | None:
        return None if self.chunk is None else self.chunk.raw_finish_reason

    @property
    def response_model(self) -> str | None:
        """The model the provider said answered, if it said."""
        return None if self._machine is None else self._machine.acc.model

    @property
    def response_id(self) -> str | None:
        """The provider's id of the answer (``chatcmpl-...``, ``msg_...``), if it sent one."""
        parser = None if self._machine is None else self._machine.parser
        value = getattr(parser, "response_id", None)
        return value if isinstance(value, str) else None

    @property
    def response(self) -> ChatResponse | None:
        """What the stream carried (content, reasoning, tool calls), built when read."""
        if self._machine is None:
            return None
        return self._machine.response(self.finish_reason)

    def __repr__(self) -> str:
        return (
            f"CallEnd(finish_reason={self.finish_reason!r}, error={self.error!r}, "
            f"usage={self.usage!r}, stats={self.stats!r})"
        )


class Observer:
    """Subclass and override the hooks you need; each does nothing by default.

    ``call`` is the same :class:`CallInfo` in every hook of one call. Times are seconds."""

    def on_start(self, call: CallInfo) -> None:
        """The call starts; its first request is about to be sent."""

    def on_attempt(self, call: CallInfo, attempt: int) -> None:
        """HTTP request number ``attempt`` (1 for the first; retries and the codec's one-time
        fallback request count) is being sent."""

    def on_retry(self, call: CallInfo, attempt: int, error: KairosError, wait: float) -> None:
        """Attempt ``attempt`` failed with ``error`` before anything reached the caller; the
        next request is sent after ``wait`` seconds."""

    def on_first_chunk(self, call: CallInfo, ttft: float) -> None:
        """The first chunk arrived, ``ttft`` seconds after the call started."""

    def on_chunk(self, call: CallInfo, chunk: StreamChunk, at: float) -> None:
        """A chunk before the final one, read at ``at`` (``time.monotonic()``). Only calls
        watched by an observer that overrides this method pay for it, once per chunk."""

    def on_end(self, call: CallInfo, end: CallEnd) -> None:
        """The call ended (exactly once per call). See :class:`CallEnd`."""


def checked(observers: Iterable[Any]) -> tuple[Observer, ...]:
    """``observers`` as a tuple; anything that is no :class:`Observer` is a configuration
    error (subclass ``kairos.Observer``: its hooks are what kairos calls)."""
    out = tuple(observers)
    for o in out:
        if not isinstance(o, Observer):
            raise ConfigurationError(f"{o!r} is not a kairos.Observer (subclass it)")
    return out


class Observers:
    """The observers told of every call, whatever its provider: ``kairos.observers``.

    ``add`` and ``remove`` are safe from any thread; a call watches the observers registered
    when it starts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._all: tuple[Observer, ...] = ()

    def add(self, observer: Observer) -> None:
        """Register ``observer`` (once: adding it again does nothing)."""
        checked((observer,))
        with self._lock:
            if observer not in self._all:
                self._all = (*self._all, observer)

    def remove(self, observer: Observer) -> None:
        """Unregister ``observer``; nothing happens if it was not registered."""
        with self._lock:
            self._all = tuple(o for o in self._all if o is not observer)

    def clear(self) -> None:
        with self._lock:
            self._all = ()

    def snapshot(self) -> tuple[Observer, ...]:
        return self._all

    def __iter__(self) -> Iterator[Observer]:
        return iter(self._all)

    def __len__(self) -> int:
        return len(self._all)

    def __contains__(self, observer: object) -> bool:
        return observer in self._all

    def __repr__(self) -> str:
        return f"Observers({list(self._all)!r})"


observers = Observers()
