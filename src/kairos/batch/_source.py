"""Where batch requests come from: a JSONL file, or any iterable / async iterable, read lazily.

Items of an iterable may be input dicts (the JSONL line shape), ``(id, ChatRequest)`` pairs,
or bare :class:`kairos.ChatRequest` objects (their id is their 0-based position).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ..llm import ChatRequest
from ._input import BadLine, Job, estimate_tokens, parse_record, read_lines

__all__ = ["Requests", "count_lines", "open_items"]

Requests = str | os.PathLike[str] | Iterable[Any] | AsyncIterable[Any]


def _item(obj: Any, n: int) -> Job | BadLine:
    where = f"item {n + 1}"
    if isinstance(obj, ChatRequest):
        return Job(n, str(n), obj, where, estimate_tokens(obj))
    if isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[1], ChatRequest):
        ident, req = obj
        if isinstance(ident, bool) or not isinstance(ident, str | int) or ident == "":
            error = ConfigurationError(f"{where}: id must be a non-empty string or an integer")
            return BadLine(None, None, where, error)
        key = json.dumps(ident, ensure_ascii=False)
        return Job(ident, key, req, where, estimate_tokens(req))
    return parse_record(obj, where)


def _file_items(path: Path) -> Iterator[Job | BadLine]:
    try:
        f = open(path, "rb")  # noqa: SIM115 (closed by the generator)
    except OSError as exc:
        raise ConfigurationError(f"cannot read input {path}: {exc.strerror}") from None
    with f:
        yield from read_lines(f)


async def _aiter_sync(items: Iterator[Job | BadLine]) -> AsyncIterator[Job | BadLine]:
    for item in items:
        yield item


async def _aiter_async(items: AsyncIterable[Any]) -> AsyncIterator[Job | BadLine]:
    n = 0
    async for obj in items:
        yield _item(obj, n)
        n += 1


def open_items(requests: Requests) -> AsyncIterator[Job | BadLine]:
    """The requests as one lazy async iterator of jobs and bad lines."""
    if isinstance(requests, str | os.PathLike):
        path = Path(requests)
        if not path.is_file():
            raise ConfigurationError(f"input {path} is not a readable file")
        return _aiter_sync(_file_items(path))
    if isinstance(requests, AsyncIterable):
        return _aiter_async(requests)
    if isinstance(requests, Iterable) and not isinstance(requests, dict | bytes):
        return _aiter_sync(_item(obj, n) for n, obj in enumerate(requests))
    raise ConfigurationError(
        "requests must be a JSONL path or an iterable of dicts / ChatRequest objects, "
        f"not {type(requests).__name__}"
    )


def count_lines(requests: Requests) -> int | None:
    """How many requests there are, when that is cheap to know (for the ETA)."""
    if isinstance(requests, str | os.PathLike):
        n, last = 0, b"\n"
        try:
            with open(requests, "rb") as f:
                while block := f.read(1 << 20):
                    n += block.count(b"\n")
                    last = block[-1:]
        except OSError:
            return None
        return n + (last != b"\n")
    try:
        return len(requests)  # type: ignore[arg-type]
    except TypeError:
        return None
