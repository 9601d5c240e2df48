"""The local engine: one asyncio loop admitting input lazily under the shared limits.

Admission takes a concurrency slot before it reads the next item, so at most ``concurrency``
requests (and their tasks) exist at once and memory stays flat however long the input is. Each
finished request is written at once. Stopping (Ctrl-C, or the ``stop`` event) ends admission;
requests in flight get ``grace`` seconds to finish and are then cancelled. A cancelled request
writes nothing, so a resume runs it again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from ._input import BadLine, Job
from ._job import run_job
from ._ledger import Ledger
from ._limits import Limiter
from ._progress import Progress

__all__ = ["LocalEngine"]


class LocalEngine:
    def __init__(
        self,
        provider: Any,
        limiter: Limiter,
        ledger: Ledger,
        progress: Progress,
        *,
        max_attempts: int,
        grace: float,
    ) -> None:
        self.provider = provider
        self.limiter = limiter
        self.ledger = ledger
        self.progress = progress
        self.max_attempts = max_attempts
        self.grace = grace
        self.tasks: set[asyncio.Task[None]] = set()
        self.crash: BaseException | None = None  # an unexpected error: stops the run
        self._stop: asyncio.Event | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    async def run(
        self, items: AsyncIterator[Job | BadLine], stop: asyncio.Event, abort: asyncio.Event
    ) -> bool:
        """Run every item; True when ``stop`` cut the run short."""
        self._stop = stop
        ticker = asyncio.ensure_future(self._tick())
        try:
            await _race(self._admit(items, stop), stop)  # stop cancels admission where it waits
            interrupted = await self._drain(stop, abort)
        finally:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
        if self.crash is not None:
            raise self.crash
        return interrupted

    async def _admit(self, items: AsyncIterator[Job | BadLine], stop: asyncio.Event) -> None:
        async for item in items:
            if stop.is_set():
                return
            job = self.ledger.admit(item)
            if job is None:
                continue
            if not self.limiter.try_acquire():
                await self.limiter.acquire()
            self._spawn(job)

    def _spawn(self, job: Job) -> None:
        self.ledger.stats.in_flight += 1
        self._idle.clear()
        task = asyncio.ensure_future(self._one(job))
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not self.tasks:
            self._idle.set()
        if not task.cancelled() and task.exception() is not None and self.crash is None:
            self.crash = task.exception()  # e.g. the output cannot be written: stop admitting
            if self._stop is not None:
                self._stop.set()

    async def _one(self, job: Job) -> None:
        ok = False
        try:
            line = await run_job(job, self.provider, self.limiter, self.max_attempts, asyncio.sleep)
            ok = line["error"] is None
            self.ledger.write(line)
            self.progress.tick()
        finally:
            self.ledger.stats.in_flight -= 1
            self.limiter.release_now(ok)

    async def _drain(self, stop: asyncio.Event, abort: asyncio.Event) -> bool:
        if not await _race(self._idle.wait(), stop):
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(_race(self._idle.wait(), abort), self.grace)
            await self.cancel()
        return stop.is_set()

    async def cancel(self) -> None:
        """Cancel whatever is still in flight (nothing is written for those)."""
        pending = list(self.tasks)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            self.progress.tick()


async def _race(work: Any, stop: asyncio.Event) -> bool:
    """Await ``work`` unless ``stop`` is set first; False (and ``work`` cancelled) then."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([task, stopper], return_when=asyncio.FIRST_COMPLETED)
    except BaseException:  # we were cancelled ourselves: so is the work
        task.cancel()
        raise
    finally:
        stopper.cancel()
    if task.done() and not task.cancelled():
        task.result()
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False
