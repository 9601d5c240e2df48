"""The observers of one call: :class:`Watch` tells them what the call owner decided.

The call owner (``_call``) creates a :class:`Watch` only when at least one observer is
registered for the call, and calls it where its lifecycle decides things (start, each attempt,
each retry, the end); the stream machine calls it at the first chunk. Calls watched by an
observer that defines ``on_chunk`` get an :class:`ObservedMachine`, the stream machine that
also reports every chunk; the others use the plain machine, so they pay nothing per chunk.

Every hook call is guarded: an observer that raises is logged once (logger
``kairos.observe``) and the stream goes on.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any

from ._machine import StreamMachine
from ._observe import CallEnd, CallInfo, Observer
from .errors import KairosError
from .llm import StreamChunk

__all__ = ["ObservedMachine", "Watch"]

_log = logging.getLogger("kairos.observe")


class _Failures:
    """Which observers already had a failure logged (so a broken one logs once, not per
    chunk). Private to this module; observers are held weakly."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: weakref.WeakSet[Observer] = weakref.WeakSet()
        self._ids: set[int] = set()  # observers that cannot be weakly referenced

    def first(self, observer: Observer) -> bool:
        with self._lock:
            try:
                if observer in self._seen:
                    return False
                self._seen.add(observer)
            except TypeError:
                if id(observer) in self._ids:
                    return False
                self._ids.add(id(observer))
            return True


_failures = _Failures()


def _failed(observer: Observer, hook: str) -> None:
    if _failures.first(observer):
        _log.exception(
            "kairos observer %r raised in %s; ignored, the stream goes on "
            "(further failures of this observer are not logged)",
            observer,
            hook,
        )


class Watch:
    """The observers of one call (a snapshot taken when the call starts)."""

    __slots__ = ("_ended", "_lock", "call", "observers", "per_chunk")

    def __init__(self, call: CallInfo, observers: tuple[Observer, ...]) -> None:
        self.call = call
        self.observers = observers
        self.per_chunk = tuple(o for o in observers if type(o).on_chunk is not Observer.on_chunk)
        self._ended = False
        self._lock = threading.Lock()

    @property
    def machine_class(self) -> type[StreamMachine]:
        return ObservedMachine if self.per_chunk else StreamMachine

    def attach(self, machine: StreamMachine) -> None:
        machine.on_first = self.first_chunk
        if isinstance(machine, ObservedMachine):
            machine.watch = self

    def _tell(self, hook: str, *args: Any) -> None:
        for o in self.observers:
            try:
                getattr(o, hook)(self.call, *args)
            except Exception:
                _failed(o, hook)

    def start(self) -> None:
        self._tell("on_start")

    def attempt(self, attempt: int) -> None:
        self._tell("on_attempt", attempt)

    def retry(self, attempt: int, error: KairosError, wait: float) -> None:
        self._tell("on_retry", attempt, error, wait)

    def first_chunk(self, ttft: float) -> None:
        self._tell("on_first_chunk", ttft)

    def chunks(self, chunks: list[StreamChunk], at: float) -> None:
        call = self.call
        for chunk in chunks:
            if chunk.done:
                continue
            for o in self.per_chunk:
                try:
                    o.on_chunk(call, chunk, at)
                except Exception:
                    _failed(o, "on_chunk")

    def end(self, end: CallEnd) -> None:
        """Report the end, once (the normal end and a dropped stream's finaliser may race)."""
        with self._lock:
            if self._ended:
                return
            self._ended = True
        self._tell("on_end", end)


class ObservedMachine(StreamMachine):
    """The stream machine of a call whose observers watch every chunk."""

    watch: Watch

    def feed(self, data: bytes) -> list[StreamChunk]:
        chunks = StreamMachine.feed(self, data)
        if chunks:
            self.watch.chunks(chunks, self.clock())
        return chunks

    def eof(self) -> list[StreamChunk]:
        chunks = StreamMachine.eof(self)
        self.watch.chunks(chunks, self.clock())
        return chunks

    def feed_body(self, body: bytes) -> list[StreamChunk]:
        chunks = StreamMachine.feed_body(self, body)
        self.watch.chunks(chunks, self.clock())
        return chunks
