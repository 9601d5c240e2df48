"""Batch output: the result line, an append-only JSONL writer, and the resume scan.

Every result is one JSON line written with a single ``write`` of the whole line (newline
included) and flushed at once, optionally ``fsync``-ed. A process killed mid-write can leave at
most one torn line at the end of the file; the resume scan cuts it off before appending, so a
torn line never breaks the next resume and is simply redone.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from .._json_shapes import call_json, error_json, ms, usage_json
from ..errors import ConfigurationError, KairosError
from ..llm import ToolCall, Usage
from ._ids import IdSet, id_key

__all__ = ["FileSink", "Prior", "Sink", "bad_line_result", "encode", "prepare", "result"]


_NO_OBJECT: Any = object()


def result(
    ident: str | int | None,
    *,
    content: str = "",
    reasoning: str = "",
    tool_calls: tuple[ToolCall, ...] = (),
    usage: Usage | None = None,
    finish_reason: str | None = None,
    error: BaseException | None = None,
    ttft: float | None = None,
    total: float = 0.0,
    attempts: int = 0,
    obj: Any = _NO_OBJECT,
) -> dict[str, Any]:
    """One output line (as a dict, in the documented key order); ``object`` only for requests
    with an output schema."""
    line = {
        "id": ident,
        "content": content,
        "reasoning": reasoning or None,
        "tool_calls": [call_json(c) for c in tool_calls],
        "usage": usage_json(usage),
        "finish_reason": finish_reason,
        "error": error_json(error),
        "stats": {"ttft_ms": ms(ttft), "total_ms": ms(total), "attempts": attempts},
    }
    if obj is not _NO_OBJECT:
        line["object"] = obj
    return line


def bad_line_result(ident: str | int | None, error: ConfigurationError) -> dict[str, Any]:
    return result(ident, error=error)


def encode(line: Mapping[str, Any]) -> bytes:
    return json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


class Sink(Protocol):
    def write(self, data: bytes) -> None: ...
    def close(self) -> None: ...


class FileSink:
    """Appends whole lines to a file: one ``os.write`` per line (repeated only if the kernel
    took part of it), optionally followed by ``fsync``."""

    def __init__(self, path: Path, *, fsync: bool = False) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._fsync = fsync

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
            if self._fsync:
                os.fsync(self._fd)
        except OSError as exc:  # a full disk: stop; the next resume cuts any torn line
            raise KairosError(f"cannot write the output: {exc.strerror}") from exc

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class StreamSink:
    """Whole lines to a binary stream (``-o -``: standard output), flushed per line."""

    def __init__(self, stream: IO[bytes] | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout.buffer

    def write(self, data: bytes) -> None:
        try:
            self._stream.write(data)
            self._stream.flush()
        except (BrokenPipeError, ValueError) as exc:  # a closed pipe or stream
            if self._stream is sys.stdout.buffer:  # keep Python's exit flush quiet
                with contextlib.suppress(OSError):
                    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise KairosError("the output stream was closed; stopping") from exc

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._stream.flush()


class CallbackSink:
    """Hands each result (a dict) to a function: ``run(..., output=results.append)``."""

    def __init__(self, fn: Callable[[dict[str, Any]], Any]) -> None:
        self._fn = fn

    def write(self, data: bytes) -> None:
        self._fn(json.loads(data))

    def close(self) -> None:
        pass


@dataclass
class Prior:
    """What an existing output already holds (``--resume``)."""

    done: IdSet = field(default_factory=IdSet)
    reported: set[int] = field(default_factory=set)  # errors of lines that had no usable id
    ok: int = 0
    failed: int = 0
    torn: bool = False  # a torn last line was cut off
    dropped: int = 0  # failed lines removed for --retry-failed


def _good_end(f: IO[bytes]) -> int:
    """The offset just past the last newline (0 when there is none)."""
    size = f.seek(0, os.SEEK_END)
    pos = size
    while pos > 0:
        step = min(65536, pos)
        f.seek(pos - step)
        block = f.read(step)
        nl = block.rfind(b"\n")
        if nl >= 0:
            return pos - step + nl + 1
        pos -= step
    return 0


def _scan_line(raw: bytes, prior: Prior, retry_failed: bool) -> bool:
    """Record one complete output line; False when it must be dropped (--retry-failed)."""
    try:
        obj = json.loads(raw)
    except ValueError:
        return not retry_failed
    if not isinstance(obj, dict) or "id" not in obj:
        return not retry_failed
    failed = obj.get("error") is not None
    if failed and retry_failed:
        prior.dropped += 1
        return False
    ident = obj["id"]
    if ident is None:
        prior.reported.add(hash((obj.get("error") or {}).get("message")))
    else:
        prior.done.add(id_key(json.dumps(ident, ensure_ascii=False)))
    prior.failed += failed
    prior.ok += not failed
    return True


def _scan(path: Path, retry_failed: bool) -> Prior:
    prior = Prior()
    tmp = path.with_name(path.name + ".kairos-tmp")
    with open(path, "r+b") as f:
        end = _good_end(f)
        if end < f.seek(0, os.SEEK_END):
            f.truncate(end)  # a torn last line (kill -9 mid-write): redo that id
            prior.torn = True
        f.seek(0)
        keep = open(tmp, "wb") if retry_failed else None  # noqa: SIM115
        try:
            for raw in f:
                if _scan_line(raw, prior, retry_failed) and keep is not None:
                    keep.write(raw)
            if keep is not None:
                keep.flush()
                os.fsync(keep.fileno())
        finally:
            if keep is not None:
                keep.close()
    if retry_failed:
        if prior.dropped:
            os.replace(tmp, path)  # atomic: a crash leaves either the old or the new file
        else:
            tmp.unlink()
    return prior


def prepare(path: Path, *, resume: bool, retry_failed: bool) -> Prior:
    """Check the output path; on resume, read what it holds (and repair a torn end)."""
    if path.is_dir():
        raise ConfigurationError(f"output {path} is a directory")
    exists = path.exists() and path.stat().st_size > 0
    if not exists:
        if not path.parent.exists():
            raise ConfigurationError(f"output folder {path.parent} does not exist")
        return Prior()
    if not resume:
        raise ConfigurationError(
            f"output {path} already exists: pass --resume to continue it (resume=True), "
            "or remove it"
        )
    try:
        return _scan(path, retry_failed)
    except OSError as exc:
        raise ConfigurationError(f"cannot read output {path}: {exc.strerror}") from None
