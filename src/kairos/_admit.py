"""Admission in front of httpx's pool: when a request may enter it, sync and async.

No httpx here: ``_http`` asks a gate for a :class:`Ticket` before each send and installs the
ticket's callback as the request's ``trace`` extension (public httpx: httpcore reports each
step of a request to it). Two costs of httpx's pool (httpcore) are kept away:

- **The herd.** The pool assigns a request to the first available connection, but marks that
  connection busy only a few event-loop turns later, when the request starts on it. A burst of
  requests meeting an idle kept-alive connection is assigned to it as a whole; all but one fail
  over and are planned again. So while the pool may hold an idle connection (``idle``: an
  estimate, raised when kairos returns a connection, corrected by the trace), requests enter
  one at a time: each waits until the one before it holds a connection -- its first trace
  event, which also tells whether it took an idle connection (``http11.send_request_headers``)
  or opened one (``connection.connect_tcp``: none idle was left).
- **The queue.** Requests waiting in the pool for a free connection are planned again at every
  pool event, each plan walking every queued request against every connection. When the pool
  is full (``active`` requests of kairos, counted until their ``response_closed`` trace event,
  reach ``capacity``: known for the clients kairos builds, unknown for a caller's), requests
  wait here, in a FIFO, and enter one at a time.

``keeps()`` says whether the pool will keep a connection that goes idle now (httpx keeps idle
connections only while its pool holds at most ``max_keepalive_connections``): only then is a
complete body's rest worth draining, or a pending drain worth waiting for (``_pool``).

Otherwise requests go straight in: a strict one-at-a-time gate would cost a few loop turns per
request, and a loop turn is long when many streams are busy. A transport that does not trace (a
mock, a custom transport) opens its gate for good after its first answer; until a client's
first request shows which it is, a request waits at most ``LEARNING`` seconds at the gate.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

__all__ = ["AsyncGate", "Gate", "Ticket"]

UNKNOWN, TRACED, OPEN = 0, 1, 2  # what a gate knows of its client's transport
ENTERED, CONNECTED, FINISHED = 0, 1, 2  # a ticket's request: in the pool, holds a connection, out
LEARNING = 0.05  # until the transport is known, a request waits at most this long at the gate
KEEPALIVE = 20  # httpx's default max_keepalive_connections


class Admission:
    """The decisions the sync and async gates share; they add the waiting and the locking."""

    __slots__ = ("active", "busy", "capacity", "idle", "keepalive", "mode")

    def __init__(self, capacity: int | None, keepalive: int = KEEPALIVE) -> None:
        self.mode = UNKNOWN
        self.capacity = capacity
        self.keepalive = keepalive
        self.idle = 0  # connections the pool may hold idle (an estimate)
        self.active = 0  # kairos' requests in the pool, until their response is closed
        self.busy = False  # a request holds the gate

    def keeps(self) -> bool:
        """Whether the pool would keep a connection that goes idle now: httpx keeps idle
        connections only while it holds at most ``max_keepalive_connections`` in all (known
        for the clients kairos builds; httpx's default, 20, is assumed for a caller's)."""
        return self.mode == OPEN or self.active <= self.keepalive

    def free(self) -> bool:
        """Whether a request may go straight in: nothing to herd on, and room for it."""
        if self.mode == OPEN:
            return True
        return self.idle <= 0 and (self.capacity is None or self.active < self.capacity)

    def admit(self) -> bool | None:
        """Let a request in: False (straight), True (holding the gate) or None (it waits)."""
        if self.free():
            self.active += 1
            return False
        if self.busy:
            return None
        self.active += 1
        self.busy = True
        return True

    def returned(self) -> None:
        """A body was read to its end: its connection went back to the pool, idle."""
        self.idle += 1

    def event(self, ticket: Ticket, name: str) -> bool:
        """A trace event of ``ticket``'s request; True when waiters may now get in."""
        if ticket.state == ENTERED:  # the first: the request holds a connection
            ticket.state = CONNECTED
            self.mode = TRACED
            self.idle = 0 if name.startswith("connection.") else max(0, self.idle - 1)
            self._unhold(ticket)
            return True
        if name.endswith(("response_closed.complete", "response_closed.failed")):
            return self._out(ticket)
        return False

    def sent(self, ticket: Ticket, responded: bool) -> None:
        """The send returned (``responded``) or failed. No trace at all: the transport does
        not trace (its gate opens for good) or the request never got a connection."""
        if ticket.state == ENTERED and responded and self.mode == UNKNOWN:
            self.mode = OPEN
        self._unhold(ticket)
        if ticket.state == ENTERED or (not responded and ticket.state == CONNECTED):
            self._out(ticket)

    def _unhold(self, ticket: Ticket) -> None:
        if ticket.held:
            ticket.held = False
            self.busy = False

    def _out(self, ticket: Ticket) -> bool:
        if ticket.state != FINISHED:
            ticket.state = FINISHED
            self.active -= 1
        return True


class Ticket:
    """One request's pass: ``trace``/``atrace`` is its httpx trace callback."""

    __slots__ = ("gate", "held", "state")

    def __init__(self, gate: Gate | AsyncGate | None, held: bool) -> None:
        self.gate = gate
        self.held = held
        self.state = ENTERED

    def hook(self, sync: bool) -> Any:
        """The request's ``trace`` extension (None: nothing to track)."""
        if self.gate is None:
            return None
        return self.trace if sync else self.atrace

    def trace(self, name: str, info: dict[str, Any]) -> None:
        if self.gate is not None and (self.state == ENTERED or "response_closed" in name):
            self.gate.on_event(self, name)

    async def atrace(self, name: str, info: dict[str, Any]) -> None:
        if self.gate is not None and (self.state == ENTERED or "response_closed" in name):
            self.gate.on_event(self, name)

    def done(self, responded: bool) -> None:
        """The send returned (``responded``) or raised."""
        if self.gate is not None:
            self.gate.on_sent(self, responded)


def _wait(mode: int, left: float | None) -> float | None:
    if mode == UNKNOWN:
        return LEARNING if left is None else min(LEARNING, left)
    return left


class Gate(Admission):
    """The sync gate: threads wait on a condition."""

    __slots__ = ("cond",)

    def __init__(self, capacity: int | None, keepalive: int = KEEPALIVE) -> None:
        super().__init__(capacity, keepalive)
        self.cond = threading.Condition()

    def enter(self, timeout: float | None) -> Ticket | None:
        """A ticket to the pool, or None when ``timeout`` passed first."""
        if self.mode == OPEN:
            return Ticket(None, False)
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.cond:
            while True:
                held = self.admit()
                if held is not None:
                    return Ticket(self, held)
                mode = self.mode
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                wait = _wait(mode, left)
                if self.cond.wait(wait) or (self.mode == TRACED and mode != TRACED):
                    continue
                if mode == TRACED:
                    return None
                self.active += 1  # still unknown whether the transport traces: go ahead
                return Ticket(self, False)

    def returned(self) -> None:
        with self.cond:
            super().returned()

    def on_event(self, ticket: Ticket, name: str) -> None:
        with self.cond:
            if self.event(ticket, name):
                self.cond.notify_all()

    def on_sent(self, ticket: Ticket, responded: bool) -> None:
        with self.cond:
            self.sent(ticket, responded)
            self.cond.notify_all()


class _GateTimeout(Exception):
    pass


class AsyncGate(Admission):
    """The async gate, on one event loop: waiters are futures in a FIFO."""

    __slots__ = ("loop", "waiters")

    def __init__(self, loop: Any, capacity: int | None, keepalive: int = KEEPALIVE) -> None:
        super().__init__(capacity, keepalive)
        self.loop = loop
        self.waiters: deque[Any] = deque()

    async def enter(self, timeout: float | None) -> Ticket | None:
        if self.mode == OPEN:
            return Ticket(None, False)
        if not self.waiters:
            held = self.admit()
            if held is not None:
                return Ticket(self, held)
        fut = self.loop.create_future()
        self.waiters.append(fut)
        deadline = None if timeout is None else self.loop.time() + timeout
        timer: list[Any] = [None]
        wait = _wait(self.mode, timeout)
        if wait is not None:
            timer[0] = self.loop.call_later(wait, self._expire, fut, deadline, timer)
        try:
            held = await fut
        except _GateTimeout:
            if self.mode == TRACED:
                return None
            self.active += 1  # still unknown whether the transport traces: go ahead
            return Ticket(self, False)
        except BaseException:
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                self.on_sent(Ticket(self, fut.result()), False)  # admitted, then cancelled
            raise
        finally:
            if timer[0] is not None:
                timer[0].cancel()
        return Ticket(self, held)

    def _expire(self, fut: Any, deadline: float | None, timer: list[Any]) -> None:
        """A waiter's time is up: at its deadline, or at the end of the learning wait (then
        it goes ahead, unless the transport turned out to trace: it waits on)."""
        if fut.done():
            return
        now = self.loop.time()
        if self.mode == TRACED and (deadline is None or deadline > now):
            timer[0] = None
            if deadline is not None:
                timer[0] = self.loop.call_later(deadline - now, self._expire, fut, deadline, timer)
            return
        fut.set_exception(_GateTimeout())

    def on_event(self, ticket: Ticket, name: str) -> None:
        if self.event(ticket, name):
            self._wake()

    def on_sent(self, ticket: Ticket, responded: bool) -> None:
        self.sent(ticket, responded)
        self._wake()

    def _wake(self) -> None:
        """Let in the waiters at the head of the queue, as many as may go now."""
        waiters = self.waiters
        while waiters:
            if waiters[0].done():  # timed out or cancelled
                waiters.popleft()
                continue
            held = self.admit()
            if held is None:
                return
            waiters.popleft().set_result(held)
