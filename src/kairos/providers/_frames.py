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

import base64
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .._replies import Call, Cite, Fail, Pause, Piece, Reasoning, Refusal, Reply, Text
from ..llm import Usage

__all__ = [
    "KIND_BY_STATUS",
    "Ctx",
    "Frame",
    "Renderer",
    "dumps",
    "emulated",
    "fragments",
    "merged",
    "signature_for",
    "spans",
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


def merged(pieces: Sequence[Piece], signed_apart: bool = False) -> list[Piece]:
    """Pieces up to a Fail, with consecutive texts (and reasonings, refusals) joined, pauses
    dropped. A signed reasoning piece ends its block; with ``signed_apart`` it is a block of its
    own (Gemini: a part with a signature is never merged with another)."""
    out: list[Piece] = []
    for p in pieces:
        if isinstance(p, Fail):
            break
        if isinstance(p, Pause):
            continue
        prev = out[-1] if out else None
        if isinstance(p, Text | Refusal) and type(prev) is type(p):
            out[-1] = type(p)(prev.text + p.text)
        elif (
            isinstance(p, Reasoning)
            and isinstance(prev, Reasoning)
            and not prev.signature
            and not (signed_apart and p.signature)
        ):
            out[-1] = Reasoning(prev.text + p.text, p.signature)
        else:
            out.append(p)
    return out


_SIGNED = b"kairos:"


def signature_for(text: str) -> str:
    """The signature the emulator gives reasoning it renders: base64 of ``kairos:`` and a digest
    of the text (valid base64, as Gemini's signatures are bytes), so the strict emulator can
    tell whether a block came back unmodified."""
    return base64.b64encode(_SIGNED + hashlib.sha256(text.encode()).digest()).decode()


def emulated(signature: str) -> bool:
    """Whether ``signature`` was made by :func:`signature_for` (for some text)."""
    try:
        return base64.b64decode(signature, validate=True).startswith(_SIGNED)
    except ValueError:
        return False


def spans(pieces: Sequence[Piece], utf8: bool = False) -> dict[int, tuple[int, int, str]]:
    """For each :class:`Cite` (by position in ``pieces``): the span of the text it supports
    (the text pieces after it, up to the next piece of another kind) in the answer's content,
    in characters or UTF-8 bytes, and that text."""
    out: dict[int, tuple[int, int, str]] = {}
    offset, pending, run = 0, [], ""
    for i, p in enumerate([*pieces, Fail()]):
        if isinstance(p, Text):
            run += p.text
        elif isinstance(p, Pause) or (isinstance(p, Cite) and not run):
            if isinstance(p, Cite):
                pending.append(i)
        else:
            size = len(run.encode()) if utf8 else len(run)
            out.update(dict.fromkeys(pending, (offset, offset + size, run)))
            offset, run, pending = offset + size, "", [i] if isinstance(p, Cite) else []
        if isinstance(p, Fail):
            break
    return out
