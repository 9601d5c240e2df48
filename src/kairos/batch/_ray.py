"""The Ray engine: the same batch on a Ray cluster (``pip install 'kairos-llm[ray]'``).

The driver (where ``kairos batch`` runs) reads the input lazily, keeps the books (resume,
duplicates, bad lines) and writes every output line itself, as each request finishes, so the
output file, its format and resume behave exactly as with the local engine. Requests run in
async worker actors (one per cluster CPU, spread over the nodes, each holding one provider and
its connection pool); one limiter actor holds the :class:`~._limits.Limiter`, so concurrency,
rpm/tpm pacing and the pool back-off are shared by the whole cluster. At most ``concurrency``
requests are outstanding, so the driver's memory stays flat too.

Connects to ``ray_address`` (``--ray-address``), else to ``RAY_ADDRESS``, else starts a local
Ray instance (and stops it at the end). Workers build their provider from the provider name
and options; API keys come from the workers' environment unless passed as ``api_key``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import ray

from ..errors import ConfigurationError
from ._input import Job
from ._job import run_job
from ._limits import Grant, Limiter, Limits
from ._output import result

__all__ = ["RemoteGate", "ray_limiter", "run_ray"]

_ACTOR_CALLS = 100_000  # concurrent calls an async actor accepts


@ray.remote(num_cpus=0)
class LimiterActor:
    """The cluster's one :class:`Limiter` (an async actor: its calls share one event loop)."""

    def __init__(self, limits: Limits) -> None:
        self.limiter = Limiter(limits)

    async def acquire(self) -> None:
        await self.limiter.acquire()

    async def release(self, ok: bool) -> None:
        self.limiter.release_now(ok)

    async def start(self, prompt_tokens: int, max_tokens: int | None) -> Grant:
        return await self.limiter.start(prompt_tokens, max_tokens)

    async def settle(self, grant: Grant, prompt: int | None, completion: int | None) -> None:
        await self.limiter.settle(grant, prompt, completion)

    async def throttle(self, grant: Grant, retry_after: float | None) -> float:
        return await self.limiter.throttle(grant, retry_after)

    async def pauses(self) -> int:
        return self.limiter.throttled


class RemoteGate:
    """The :class:`~._job.Gate` (and slots) of a limiter actor, seen from a worker."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor

    async def acquire(self) -> None:
        await self.actor.acquire.remote()

    async def release(self, ok: bool) -> None:
        await self.actor.release.remote(ok)

    async def start(self, prompt_tokens: int = 0, max_tokens: int | None = None) -> Grant:
        grant: Grant = await self.actor.start.remote(prompt_tokens, max_tokens)
        return grant

    async def settle(self, grant: Grant, prompt: int | None, completion: int | None) -> None:
        await self.actor.settle.remote(grant, prompt, completion)

    async def throttle(self, grant: Grant, retry_after: float | None) -> float:
        pause: float = await self.actor.throttle.remote(grant, retry_after)
        return pause


@ray.remote(num_cpus=1, scheduling_strategy="SPREAD")
class BatchWorker:
    """Runs requests on one node: an async actor holding one provider."""

    def __init__(self, opts: Any, limiter: Any) -> None:
        self.provider = opts.make_provider()
        self.gate = RemoteGate(limiter)
        self.max_attempts = opts.max_attempts

    async def run(self, job: Job) -> dict[str, Any]:
        await self.gate.acquire()
        ok = False
        try:
            line = await run_job(job, self.provider, self.gate, self.max_attempts, asyncio.sleep)
            ok = line["error"] is None
            return line
        finally:
            await self.gate.release(ok)


def ray_limiter(concurrency: int = 16, rpm: int | None = None, tpm: int | None = None) -> Any:
    """A limiter actor to share between :class:`~kairos.batch.ChatMapper` replicas."""
    actor = LimiterActor.options(max_concurrency=_ACTOR_CALLS)  # type: ignore[attr-defined]
    return actor.remote(Limits(concurrency, rpm, tpm))


def _connect(address: str | None) -> bool:
    """Connect (or start a local instance); True when this call started Ray."""
    if ray.is_initialized():
        return False
    try:
        ray.init(
            address=address,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError...
        where = address or "RAY_ADDRESS / a local instance"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigurationError(f"cannot start or reach Ray ({where}): {first}") from None
    return True


class _Driver:
    def __init__(self, opts: Any, ledger: Any, display: Any) -> None:
        self.opts = opts
        self.ledger = ledger
        self.display = display
        self.limiter = ray_limiter(opts.concurrency, opts.rpm, opts.tpm)
        cpus = int(ray.cluster_resources().get("CPU", 1))  # type: ignore[no-untyped-call]
        n = max(1, min(cpus, opts.concurrency))
        self.workers = [
            BatchWorker.options(  # type: ignore[attr-defined]
                max_concurrency=_ACTOR_CALLS
            ).remote(opts, self.limiter)
            for _ in range(n)
        ]
        self.pending: dict[asyncio.Future[Any], tuple[Any, Job]] = {}
        self._ready: asyncio.Queue[asyncio.Future[Any] | None] = asyncio.Queue()
        self._next = 0

    def watch(self, event: asyncio.Event) -> asyncio.Future[None]:
        """Wake :meth:`wait_some` when ``event`` is set (one task per event, not per wait)."""

        async def wake() -> None:
            await event.wait()
            self._ready.put_nowait(None)

        return asyncio.ensure_future(wake())

    def submit(self, job: Job) -> None:
        worker = self.workers[self._next % len(self.workers)]
        self._next += 1
        ref = worker.run.remote(job)
        fut = asyncio.wrap_future(ref.future())
        self.pending[fut] = (ref, job)
        fut.add_done_callback(self._ready.put_nowait)
        self.ledger.stats.in_flight += 1

    async def wait_some(self, timeout: float | None = None) -> None:
        """Write what has finished; wait (up to ``timeout``) if nothing has yet."""
        with contextlib.suppress(asyncio.TimeoutError):
            fut = await asyncio.wait_for(self._ready.get(), timeout)
            if fut is not None:
                self._finish(fut)
        while not self._ready.empty():
            fut = self._ready.get_nowait()
            if fut is not None:
                self._finish(fut)

    def _finish(self, fut: asyncio.Future[Any]) -> None:
        entry = self.pending.pop(fut, None)
        if entry is None or fut.cancelled():  # cancelled by :meth:`cancel`: nothing to write
            return
        self.ledger.stats.in_flight -= 1
        exc = fut.exception()
        # a worker that died (RayActorError, ...) fails its requests, typed by Ray's class name
        self.ledger.write(fut.result() if exc is None else result(entry[1].id, error=exc))
        self.display.tick()

    async def cancel(self) -> None:
        for ref, _ in self.pending.values():
            ray.cancel(ref)
        await asyncio.gather(*self.pending, return_exceptions=True)
        self.ledger.stats.in_flight -= len(self.pending)
        self.pending.clear()


async def _feed(driver: _Driver, items: Any, stop: asyncio.Event) -> None:
    limit = driver.opts.concurrency
    async for item in items:
        if stop.is_set():
            return
        job = driver.ledger.admit(item)
        if job is None:
            continue
        while len(driver.pending) >= limit and not stop.is_set():
            await driver.wait_some()
        if stop.is_set():
            return
        driver.submit(job)


async def _drain(driver: _Driver, stop: asyncio.Event, abort: asyncio.Event, grace: float) -> None:
    while driver.pending and not stop.is_set():
        await driver.wait_some()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    while driver.pending and not abort.is_set() and loop.time() < deadline:
        await driver.wait_some(timeout=deadline - loop.time())
    await driver.cancel()


async def run_ray(
    opts: Any, items: Any, ledger: Any, display: Any, stop: asyncio.Event, abort: asyncio.Event
) -> tuple[bool, int]:
    started = _connect(opts.ray_address)
    try:
        driver = _Driver(opts, ledger, display)
        watchers = [driver.watch(stop), driver.watch(abort)]
        try:
            await _feed(driver, items, stop)
            await _drain(driver, stop, abort, opts.grace)
        finally:
            await driver.cancel()
            for w in watchers:
                w.cancel()
        pauses: int = await driver.limiter.pauses.remote()
        return stop.is_set(), pauses
    finally:
        if started:
            with contextlib.suppress(Exception):
                ray.shutdown()
