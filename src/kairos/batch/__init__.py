"""Many prompts at once: ``kairos batch`` from Python, with shared limits and resume.

::

    import kairos.batch

    summary = kairos.batch.run(
        "questions.jsonl",            # or any iterable / async iterable of dicts or ChatRequests
        "answers.jsonl",              # or "-" (stdout), a binary stream, or a callable per result
        provider="openai/gpt-4o-mini",
        concurrency=32, rpm=500, tpm=200_000, resume=True,
    )
    print(summary.ok, summary.failed, summary.errors)

``arun(...)`` is the same coroutine for code already in an event loop. Input lines and output
lines are described in :mod:`kairos.batch._input` and the README ("Batch jobs"); the limits
(even pacing, the one pool back-off) in :mod:`kairos.batch._limits`. ``engine="ray"`` runs the
same job on a Ray cluster (``pip install 'kairos-llm[ray]'``); :class:`ChatMapper` calls kairos
inside your own ``ray.data`` pipeline.

Each input id gets exactly one output line, written as soon as it finishes. The output is
append-only; ``resume=True`` skips ids it already holds (``retry_failed=True`` also re-runs the
failed ones). Setting ``stop`` ends admission, lets requests in flight finish for ``grace``
seconds, then cancels them (setting ``abort`` cancels them at once); cancelled requests write
nothing, so a resume redoes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import ConfigurationError
from ._engine import LocalEngine
from ._ledger import Ledger
from ._limits import Limiter, Limits
from ._mapper import ChatMapper
from ._output import CallbackSink, FileSink, Prior, Sink, StreamSink, prepare
from ._progress import Progress, Stats, Summary
from ._source import Requests, count_lines, open_items

__all__ = ["ChatMapper", "Options", "Summary", "arun", "ray_limiter", "run"]

Output = str | os.PathLike[str] | IO[bytes] | Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Options:
    """How to reach the provider and how hard to push it (validated by :func:`arun`)."""

    provider: Any = None  # "name" / "name/model", or an async provider object (local only)
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)  # never in a repr or a log line
    timeout: float | None = None  # first-chunk and idle clocks, seconds
    concurrency: int = 16
    rpm: int | None = None
    tpm: int | None = None
    max_attempts: int = 3
    grace: float = 10.0
    engine: str = "local"
    ray_address: str | None = None

    def check(self) -> None:
        for name in ("concurrency", "max_attempts", "rpm", "tpm"):
            value = getattr(self, name)
            optional = name in ("rpm", "tpm")
            if (value is None and optional) or (
                isinstance(value, int) and not isinstance(value, bool) and value >= 1
            ):
                continue
            raise ConfigurationError(f"{name} must be an integer >= 1, not {value!r}")
        if self.engine not in ("local", "ray"):
            raise ConfigurationError(f"engine must be 'local' or 'ray', not {self.engine!r}")
        if self.provider is None:
            raise ConfigurationError("no provider: pass provider='name' or 'name/model'")
        if self.engine == "ray" and not isinstance(self.provider, str):
            raise ConfigurationError("engine='ray' needs provider as a name (workers build it)")
        if not self.grace >= 0:
            raise ConfigurationError(f"grace must be >= 0 seconds, not {self.grace!r}")
        if self.timeout is not None and not self.timeout > 0:
            raise ConfigurationError(f"timeout must be > 0 seconds, not {self.timeout!r}")

    @property
    def limits(self) -> Limits:
        return Limits(self.concurrency, self.rpm, self.tpm)

    def make_provider(self) -> Any:
        from .. import async_provider

        return async_provider(
            self.provider,
            model=self.model,
            base_url=self.base_url,
            api_key=self.api_key,
            timeout=self.timeout,
            max_retries=0,  # retries go through the batch's shared limits
        )


def _sink(output: Output, resume: bool, retry_failed: bool, fsync: bool) -> tuple[Sink, Prior]:
    if callable(output) and not isinstance(output, str | os.PathLike):
        return CallbackSink(output), Prior()
    if output == "-" or not isinstance(output, str | os.PathLike):
        if resume:
            raise ConfigurationError("resume needs an output file, not a stream")
        return StreamSink(None if output == "-" else output), Prior()  # type: ignore[arg-type]
    path = Path(output)
    prior = prepare(path, resume=resume, retry_failed=retry_failed)
    try:
        return FileSink(path, fsync=fsync), prior
    except OSError as exc:
        raise ConfigurationError(f"cannot write output {path}: {exc.strerror}") from None


@contextlib.asynccontextmanager
async def _provider(opts: Options) -> AsyncIterator[Any]:
    if not isinstance(opts.provider, str):
        yield opts.provider  # the caller's object: theirs to close
        return
    async with opts.make_provider() as p:
        yield p


async def _local(
    opts: Options,
    items: Any,
    ledger: Ledger,
    progress: Progress,
    stop: asyncio.Event,
    abort: asyncio.Event,
) -> tuple[bool, int]:
    async with _provider(opts) as provider:
        limiter = Limiter(opts.limits)
        engine = LocalEngine(
            provider,
            limiter,
            ledger,
            progress,
            max_attempts=opts.max_attempts,
            grace=opts.grace,
        )
        try:
            interrupted = await engine.run(items, stop, abort)
        finally:
            await engine.cancel()
        return interrupted, limiter.throttled


async def arun(
    requests: Requests,
    output: Output = "-",
    *,
    resume: bool = False,
    retry_failed: bool = False,
    fsync: bool = False,
    progress: bool | None = False,
    stop: asyncio.Event | None = None,
    abort: asyncio.Event | None = None,
    **options: Any,
) -> Summary:
    """Run every request and write one result per id to ``output``; see the module docstring.

    ``options`` are the fields of :class:`Options` (``provider``, ``model``, ``base_url``,
    ``api_key``, ``timeout``, ``concurrency``, ``rpm``, ``tpm``, ``max_attempts``, ``grace``,
    ``engine``, ``ray_address``). ``progress=None`` shows progress when stderr is a terminal.
    """
    try:
        opts = Options(**options)
    except TypeError as exc:
        raise ConfigurationError(f"unknown batch option: {exc}") from None
    opts.check()
    items = open_items(requests)
    sink, prior = _sink(output, resume or retry_failed, retry_failed, fsync)
    stats = Stats()
    display = Progress(stats, progress)
    if display.enabled:
        stats.total = count_lines(requests)
    ledger = Ledger(sink, prior, stats)
    stop = stop or asyncio.Event()
    abort = abort or asyncio.Event()
    try:
        if opts.engine == "ray":
            run_ray = _ray_module().run_ray
            interrupted, pauses = await run_ray(opts, items, ledger, display, stop, abort)
        else:
            interrupted, pauses = await _local(opts, items, ledger, display, stop, abort)
    finally:
        sink.close()
    summary = stats.summary(pauses, interrupted)
    display.finish(summary, show=display.enabled)
    return summary


def _ray_module() -> Any:
    try:
        from . import _ray
    except ImportError as exc:
        raise ConfigurationError(
            f"the ray engine needs {exc.name or 'ray'}: pip install 'kairos-llm[ray]'"
        ) from None
    return _ray


def __getattr__(name: str) -> Any:
    if name == "ray_limiter":  # imports Ray, so only when asked for
        return _ray_module().ray_limiter
    raise AttributeError(f"module 'kairos.batch' has no attribute {name!r}")


def run(requests: Requests, output: Output = "-", **kwargs: Any) -> Summary:
    """The blocking form of :func:`arun` (same arguments)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(arun(requests, output, **kwargs))
    raise ConfigurationError("kairos.batch.run() inside an event loop: await arun(...) instead")
