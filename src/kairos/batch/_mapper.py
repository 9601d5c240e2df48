"""``ChatMapper``: kairos inside your own ``ray.data`` pipeline (``Dataset.map_batches``).

::

    import ray
    from kairos.batch import ChatMapper

    ds = ray.data.read_json("questions.jsonl")           # rows shaped like batch input lines
    ds = ds.map_batches(
        ChatMapper,
        fn_constructor_kwargs={"provider": "openai/gpt-4o-mini", "concurrency": 16},
        batch_size=64,
        concurrency=4,                                   # 4 replicas, each holding a provider
    )
    ds.write_json("answers/")

Each row is an input line (``id``, ``prompt`` or ``messages``, and the optional keys); a column
that is null for a row counts as absent. The batch comes back with the output line's columns
added (``content``, ``reasoning``, ``tool_calls``, ``usage``, ``finish_reason``, ``error``,
``stats``); a bad row gets its ``ConfigurationError`` there instead of failing the pipeline.
Limits apply per replica, unless ``limiter=kairos.batch.ray_limiter(...)`` shares one actor
across them (needs the ``ray`` extra). The class itself does not import Ray.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigurationError
from ._input import BadLine, Job, parse_record
from ._job import Gate, run_job
from ._limits import Limiter, Limits
from ._output import bad_line_result

__all__ = ["RESULT_COLUMNS", "ChatMapper"]

RESULT_COLUMNS = ("content", "reasoning", "tool_calls", "usage", "finish_reason", "error", "stats")


def _column(values: Any) -> list[Any]:
    return list(values.tolist() if hasattr(values, "tolist") else values)


def rows_of(batch: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A column batch (numpy arrays, pandas or lists) as rows, dropping null cells."""
    columns = {k: _column(v) for k, v in batch.items()}
    n = len(next(iter(columns.values()), []))
    return [{k: col[i] for k, col in columns.items() if col[i] is not None} for i in range(n)]


class ChatMapper:
    """A callable class for ``map_batches``: one provider and event loop per replica."""

    def __init__(
        self,
        provider: str,
        *,
        concurrency: int = 8,
        rpm: int | None = None,
        tpm: int | None = None,
        max_attempts: int = 3,
        limiter: Any = None,
        **provider_options: Any,
    ) -> None:
        from . import Options

        try:
            opts = Options(
                provider=provider,
                concurrency=concurrency,
                rpm=rpm,
                tpm=tpm,
                max_attempts=max_attempts,
                **provider_options,
            )
        except TypeError as exc:
            raise ConfigurationError(f"unknown ChatMapper option: {exc}") from None
        opts.check()
        self._loop = asyncio.new_event_loop()
        self._provider = opts.make_provider()
        self._slots = Limiter(Limits(concurrency))
        self._gate: Gate = Limiter(opts.limits) if limiter is None else _remote_gate(limiter)
        self._max_attempts = max_attempts

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, list[Any]]:
        rows = rows_of(batch)
        lines = self._loop.run_until_complete(self._run(rows))
        out = {k: _column(v) for k, v in batch.items()}
        for key in RESULT_COLUMNS:
            out[key] = [line[key] for line in lines]
        return out

    async def _run(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(self._one(r, i) for i, r in enumerate(rows))))

    async def _one(self, row: dict[str, Any], i: int) -> dict[str, Any]:
        item: Job | BadLine = parse_record(row, f"row {i + 1} of the batch")
        if isinstance(item, BadLine):
            return bad_line_result(item.id, item.error)
        await self._slots.acquire()
        ok = False
        try:
            line = await run_job(
                item, self._provider, self._gate, self._max_attempts, asyncio.sleep
            )
            ok = line["error"] is None
            return line
        finally:
            self._slots.release_now(ok)

    def close(self) -> None:
        self._loop.run_until_complete(self._provider.aclose())
        self._loop.close()

    def __del__(self) -> None:
        loop = getattr(self, "_loop", None)
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(Exception):
                self.close()


def _remote_gate(limiter: Any) -> Gate:
    from ._ray import RemoteGate

    return RemoteGate(limiter)
