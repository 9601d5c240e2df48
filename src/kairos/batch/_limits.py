"""Shared limits for a batch: in-flight streams, request and token pacing, one pool back-off.

* **Concurrency**: at most ``concurrency`` requests in flight (a slot is held from the first
  attempt to the output line, retries included).
* **rpm**: requests start evenly spaced, one every ``60/rpm`` s at most (so at most
  ``ceil(rpm/60)`` in any 1 s window, never a burst at start-up), and at most ``rpm`` in any
  60 s window. The windows are kept 50 ms (1 s) and 2 % (60 s) longer than named, so that
  network jitter between here and the provider's clock cannot push a window over its limit.
* **tpm**: a request reserves its estimated tokens (prompt estimate + ``max_tokens``, or the mean
  completion seen so far) in a 1 s window (``ceil(tpm/60)``) and a 60 s window (``tpm``); its
  usage corrects the reservation when it ends. A request larger than a window's limit starts
  only when that window is empty.
* **One back-off for the pool**: a rate-limit or overload error (429, 529, 503, in-band
  ``rate_limit`` / ``overloaded``) pauses every start until its ``Retry-After`` has passed
  (without one: 0.5 s doubling to 8 s while they keep coming), and halves the concurrency
  window; each success then widens it by one back to ``concurrency`` (additive increase).
  Errors from requests started before the last halving do not halve it again.

:class:`Pacer` is pure (the clock is passed in); :class:`Limiter` is the asyncio face the
engine uses, and what the Ray engine's limiter actor holds, so the whole cluster shares one.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Grant", "Limiter", "Limits", "Pacer"]

MAX_PAUSE = 60.0  # cap on one server-requested pause


@dataclass(frozen=True, slots=True)
class Limits:
    concurrency: int = 16
    rpm: int | None = None
    tpm: int | None = None
    margin: float = 0.02  # the 60 s windows are 2 % longer
    slack: float = 0.05  # the 1 s windows are 50 ms longer (network jitter)


@dataclass(frozen=True, slots=True)
class Grant:
    """Permission for one attempt to start (small and picklable: it travels to Ray workers)."""

    id: int
    epoch: int
    tokens: int


class _Entry:
    __slots__ = ("amount", "t")

    def __init__(self, t: float, amount: int) -> None:
        self.t = t
        self.amount = amount


class _Window:
    """Amounts started in the last ``span`` seconds, kept at or under ``cap``."""

    def __init__(self, span: float, cap: int) -> None:
        self.span = span
        self.cap = cap
        self.total = 0
        self.cutoff = -math.inf  # entries at or before this time have left the window
        self.entries: deque[_Entry] = deque()

    def prune(self, now: float) -> None:
        self.cutoff = now - self.span
        q = self.entries
        while q and q[0].t <= self.cutoff:
            self.total -= q.popleft().amount

    def wait(self, now: float, amount: int) -> float:
        """Seconds until ``amount`` more fits (0 when it fits now, or the window is empty)."""
        self.prune(now)
        excess = self.total + amount - self.cap
        if excess <= 0 or not self.entries:
            return 0.0
        for e in self.entries:
            excess -= e.amount
            if excess <= 0:
                return e.t + self.span - now
        return self.entries[-1].t + self.span - now

    def correct(self, e: _Entry, amount: int) -> None:
        if e.t > self.cutoff:
            self.total += amount - e.amount


class Pacer:
    """Pure pacing: when may the next request start, given what already started."""

    def __init__(self, limits: Limits) -> None:
        minute = 60.0 * (1.0 + limits.margin)
        second = 1.0 + limits.slack
        self.interval = 0.0
        self._req: list[_Window] = []
        self._tok: list[_Window] = []
        if limits.rpm:  # evenly spaced: both windows hold by construction
            self.interval = max(minute / limits.rpm, second / math.ceil(limits.rpm / 60))
            self._req.append(_Window(minute, limits.rpm))
        if limits.tpm:
            self._tok.append(_Window(second, math.ceil(limits.tpm / 60)))
            self._tok.append(_Window(minute, limits.tpm))
        self._last = -math.inf
        self._open: dict[int, _Entry] = {}
        self._next_id = 0

    def wait(self, now: float, tokens: int) -> float:
        delay = self._last + self.interval - now
        for w in self._req:
            delay = max(delay, w.wait(now, 1))
        for w in self._tok:
            delay = max(delay, w.wait(now, tokens))
        return max(delay, 0.0)

    def record(self, now: float, tokens: int) -> int:
        self._last = now
        for w in self._req:
            w.entries.append(_Entry(now, 1))
            w.total += 1
        self._next_id += 1
        if self._tok:
            entry = _Entry(now, tokens)
            for w in self._tok:
                w.entries.append(entry)
                w.total += tokens
            self._open[self._next_id] = entry
        return self._next_id

    def settle(self, grant_id: int, tokens: int | None) -> None:
        """Replace a start's token estimate by what its usage said (None: keep the estimate)."""
        entry = self._open.pop(grant_id, None)
        if entry is None or tokens is None:
            return
        for w in self._tok:
            w.correct(entry, tokens)
        entry.amount = tokens


class Limiter:
    """The engine's side of the limits (one per event loop, or inside the Ray limiter actor)."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self.pacer = Pacer(limits)
        self.cap = float(limits.concurrency)
        self.in_use = 0
        self.epoch = 0
        self.pause_until = 0.0
        self.throttled = 0  # pool-wide pauses so far
        self._streak = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._lock: asyncio.Lock | None = None
        self._out_sum = 0
        self._out_n = 0

    # -- concurrency slots (AIMD window) --
    async def acquire(self) -> None:
        if self.in_use < int(self.cap) and not self._waiters:
            self.in_use += 1
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release_now(False)  # the slot was handed over just as we were cancelled
            else:
                self._waiters.remove(fut)
            raise

    async def release(self, ok: bool) -> None:
        self.release_now(ok)

    def try_acquire(self) -> bool:
        """Take a slot if one is free right now (no waiting, no task switch)."""
        if self.in_use < int(self.cap) and not self._waiters:
            self.in_use += 1
            return True
        return False

    def release_now(self, ok: bool) -> None:
        if ok:
            self.cap = min(float(self.limits.concurrency), self.cap + 1.0)
            self._streak = 0
        self.in_use -= 1
        while self._waiters and self.in_use < int(self.cap):
            fut = self._waiters.popleft()
            if not fut.done():
                self.in_use += 1
                fut.set_result(None)

    # -- starts: the pool pause, then pacing --
    def _estimate(self, prompt: int, max_tokens: int | None) -> int:
        if max_tokens is not None:
            return prompt + max_tokens
        return prompt + (self._out_sum // self._out_n if self._out_n else 256)

    async def start(self, prompt_tokens: int = 0, max_tokens: int | None = None) -> Grant:
        if self._lock is None:
            self._lock = asyncio.Lock()
        tokens = self._estimate(prompt_tokens, max_tokens)
        async with self._lock:  # FIFO: starts are granted in the order they were asked
            while True:
                now = self.clock()
                delay = max(self.pause_until - now, self.pacer.wait(now, tokens))
                if delay <= 0:
                    break
                await asyncio.sleep(delay)
            return Grant(self.pacer.record(now, tokens), self.epoch, tokens)

    async def settle(self, grant: Grant, prompt: int | None, completion: int | None) -> None:
        if completion is not None:
            self._out_sum += completion
            self._out_n += 1
        used = None if prompt is None or completion is None else prompt + completion
        self.pacer.settle(grant.id, used)

    async def throttle(self, grant: Grant, retry_after: float | None) -> float:
        """A rate-limit or overload error: pause the whole pool. Returns the pause."""
        now = self.clock()
        if retry_after is None:
            wait = min(8.0, 0.5 * 2.0**self._streak)
            self._streak += 1
        else:
            wait = min(max(retry_after, 0.0), MAX_PAUSE)
        if now + wait > self.pause_until:
            self.pause_until = now + wait
            self.throttled += 1
        if grant.epoch == self.epoch:
            self.epoch += 1
            self.cap = max(1.0, self.cap / 2)
        return max(self.pause_until - now, 0.0)
