"""What every wire renderer shares: the rendering context, JSON and SSE framing. Pure, no I/O.

A renderer (each wire's ``render.py``) turns a scripted :class:`~kairos._replies.Reply` into
the exact bytes that provider's API sends; ``kairos.testing``, ``kairos serve`` and the fault
tests all render through them (dispatch: :mod:`kairos.providers._render`). A renderer module
has:

* ``stream(ctx) -> Iterator[Frame]``: the streamed body, ``bytes`` pieces and ``float`` pauses;
* ``body(ctx) -> dict``: the non-stream JSON answer;
* ``error_object(fail, in_band) -> dict``: the wire's error JSON for a scripted failure (an
  in-band event's data, or an HTTP error body);
* ``error_status(kind) -> int``: the HTTP status the provider answers for a failure kind;
* ``http_error_body(status, message) -> dict``: the error body for any other HTTP status.

Shapes follow the recorded bodies under ``tests/providers/<wire>/fixtures`` and each API's
reference ("Errors" pages), as each renderer notes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .._replies import Call, Fail, Pause, Piece, Reasoning, Reply, Text
from ..llm import Usage

__all__ = [
    "KIND_BY_STATUS",
    "Ctx",
    "Frame",
    "Renderer",
    "dumps",
    "fragments",
    "merged",
    "sse",
    "wire_finish",
]

Frame = bytes | float

# HTTP statuses that are one of the script's failure kinds: an HTTP error and an in-band
# failure of the same kind look the same (``http_error_body`` uses ``error_object`` for them)
KIND_BY_STATUS = {
    400: "invalid_request",
    401: "authentication",
    429: "rate_limit",
    500: "server",
    503: "overloaded",
    529: "overloaded",
}


@dataclass(frozen=True, slots=True)
class Ctx:
    """Everything a wire renderer needs besides the pieces."""

    reply: Reply
    model: str
    usage: Usage
    created: float
    seed: str
    include_usage: bool
    request: Mapping[str, Any] | None = None  # the request body being answered, when known

    def call_id(self, prefix: str, index: int, call: Call, width: int = 24) -> str:
        if call.id is not None:
            return call.id
        digest = hashlib.sha256(f"{self.seed}|{index}|{call.name}".encode()).hexdigest()
        return prefix + digest[:width]

    def ident(self, prefix: str, width: int = 24) -> str:
        return prefix + hashlib.sha256(self.seed.encode()).hexdigest()[:width]


class Renderer(Protocol):
    """A wire's ``render`` module (see the module docstring)."""

    stream: Callable[[Ctx], Iterator[Frame]]
    body: Callable[[Ctx], dict[str, Any]]
    error_object: Callable[[Fail, bool], dict[str, Any]]
    error_status: Callable[[str], int]
    http_error_body: Callable[[int, str], dict[str, Any]]


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def sse(obj: Any, event: str | None = None, eol: bytes = b"\n") -> bytes:
    head = b"event: " + event.encode() + eol if event else b""
    return head + b"data: " + dumps(obj) + eol + eol


def fragments(text: str, size: int = 12) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def wire_finish(raw: str, table: dict[str, str]) -> str:
    return table.get(raw, raw)


def merged(pieces: Sequence[Piece]) -> list[Piece]:
    """Pieces up to a Fail, with consecutive texts (and reasonings) joined, pauses dropped."""
    out: list[Piece] = []
    for p in pieces:
        if isinstance(p, Fail):
            break
        if isinstance(p, Pause):
            continue
        if out and type(p) is type(out[-1]) and isinstance(p, Text | Reasoning):
            prev = out[-1]
            assert isinstance(prev, Text | Reasoning)
            out[-1] = type(p)(prev.text + p.text)
        else:
            out.append(p)
    return out
