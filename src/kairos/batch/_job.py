"""One batch request, start to output line: attempts, retries and the shared limits.

Retries follow the library's rule (retry only while nothing has reached the caller): an error
raised by ``chat_stream`` (connect errors, resets, HTTP 408/409/429/5xx/529), or a stream whose
final chunk carries a retryable error before any visible chunk (an in-band overload as the first
event). Rate-limit and overload errors pause the whole pool (see :mod:`._limits`); other
retryable errors wait here (0.5 s doubling to 8 s, jittered). Providers are created with
``max_retries=0``, so every attempt goes through the limits and is counted in ``attempts``.
"""

from __future__ import annotations

import random
import time
from typing import Any, Protocol

from ..errors import KairosError, OverloadedError, RateLimitError
from ..llm import ChatRequest, StreamChunk
from ._input import Job
from ._limits import Grant
from ._output import result

__all__ = ["Gate", "run_job"]


class Gate(Protocol):
    """The limits as a job sees them: a local :class:`~._limits.Limiter`, or the Ray actor."""

    async def start(self, prompt_tokens: int = 0, max_tokens: int | None = None) -> Grant: ...
    async def settle(self, grant: Grant, prompt: int | None, completion: int | None) -> None: ...
    async def throttle(self, grant: Grant, retry_after: float | None) -> float: ...


class _Tally:
    __slots__ = ("content", "final", "reasoning", "visible")

    def __init__(self) -> None:
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.final: StreamChunk | None = None
        self.visible = False

    def add(self, chunk: StreamChunk) -> None:
        if chunk.done:
            self.final = chunk
            return
        self.visible = True
        if chunk.content:
            self.content.append(chunk.content)
        if chunk.reasoning:
            self.reasoning.append(chunk.reasoning)


def _internal(exc: Exception) -> KairosError:
    """A non-kairos exception from a caller's provider object, kept typed by name."""
    err = KairosError(f"{type(exc).__name__}: {exc}")
    err.__cause__ = exc
    return err


async def _attempt(provider: Any, req: ChatRequest, tally: _Tally) -> BaseException | None:
    """One attempt; the error it ended with (None on success)."""
    try:
        stream = await provider.chat_stream(req)
    except KairosError as err:
        return err
    except Exception as exc:
        return _internal(exc)
    try:
        async with stream:
            async for chunk in stream:
                tally.add(chunk)
                if chunk.done:
                    break
    except KairosError as err:
        return err
    except Exception as exc:
        return _internal(exc)
    if tally.final is None:
        return KairosError("the stream ended without a final chunk")
    return tally.final.error


def _retryable(err: BaseException, tally: _Tally) -> bool:
    return isinstance(err, KairosError) and err.retryable and not tally.visible


def _line(job: Job, tally: _Tally, err: BaseException | None, t0: float, n: int) -> dict[str, Any]:
    final = tally.final
    stats = final.stats if final is not None else None
    return result(
        job.id,
        content="".join(tally.content),
        reasoning="".join(tally.reasoning),
        tool_calls=final.tool_calls if final is not None else (),
        usage=final.usage if final is not None else None,
        finish_reason=final.finish_reason if final is not None else "error",
        error=err,
        ttft=stats.time_to_first_chunk if stats is not None and tally.visible else None,
        total=time.monotonic() - t0,
        attempts=n,
        **({"obj": _plain(final.object if final else None)} if job.request.output_schema else {}),
    )


def _plain(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    return dump(mode="json") if callable(dump) else value


async def run_job(
    job: Job, provider: Any, gate: Gate, max_attempts: int, sleep: Any
) -> dict[str, Any]:
    """Run ``job`` to its output line (never raises, except for task cancellation)."""
    t0 = time.monotonic()
    req = job.request
    n = 0
    while True:
        n += 1
        grant = await gate.start(job.estimate, req.max_tokens)
        tally = _Tally()
        err = await _attempt(provider, req, tally)
        usage = tally.final.usage if tally.final is not None else None
        if usage is not None:
            await gate.settle(grant, usage.prompt_tokens, usage.completion_tokens)
        else:
            await gate.settle(grant, None, None)
        if err is None or n >= max_attempts or not _retryable(err, tally):
            return _line(job, tally, err, t0, n)
        if isinstance(err, RateLimitError | OverloadedError):
            await gate.throttle(grant, err.retry_after)  # the next start waits with the pool
        else:
            ceiling = min(8.0, 0.5 * 2.0 ** (n - 1))
            await sleep(random.uniform(ceiling / 2, ceiling))
