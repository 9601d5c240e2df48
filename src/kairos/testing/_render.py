"""Renderers: a :class:`Reply` as the exact bytes each provider's API sends. Pure, no I/O.

``render_stream`` yields pieces of the HTTP body (``bytes``) and pauses (``float`` seconds to
wait before the next piece); ``render_body`` gives the non-stream JSON answer. The shapes follow
the recorded bodies under ``tests/fixtures/conformance`` (OpenAI Chat Completions chunks ending
with a usage-only chunk and ``[DONE]``; Anthropic Messages named events; Gemini
``streamGenerateContent?alt=sse`` CRLF-framed ``GenerateContentResponse`` lines; Ollama
``/api/chat`` NDJSON ending with a ``done`` line) and the error bodies each API documents.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from ..errors import ConfigurationError
from ..llm import Usage
from . import _wires, _wires_blocks
from ._frames import Renderer, dumps, error_object
from ._script import Call, Fail, Pause, Reply

__all__ = [
    "CONTENT_TYPES",
    "WIRES",
    "error_status",
    "render_body",
    "render_error",
    "render_stream",
]

WIRES = ("openai", "anthropic", "gemini", "ollama")

# the content type of each wire's streamed body
CONTENT_TYPES = {
    "openai": "text/event-stream",
    "anthropic": "text/event-stream",
    "gemini": "text/event-stream",
    "ollama": "application/x-ndjson",
}


def _check(wire: str) -> None:
    if wire not in WIRES:
        raise ConfigurationError(f"unknown wire {wire!r}; known: {', '.join(WIRES)}")


@dataclass(frozen=True, slots=True)
class Ctx:
    """Everything a wire renderer needs besides the pieces."""

    reply: Reply
    model: str
    usage: Usage
    created: float
    seed: str
    include_usage: bool

    def call_id(self, prefix: str, index: int, call: Call, width: int = 24) -> str:
        if call.id is not None:
            return call.id
        digest = hashlib.sha256(f"{self.seed}|{index}|{call.name}".encode()).hexdigest()
        return prefix + digest[:width]

    def ident(self, prefix: str, width: int = 24) -> str:
        return prefix + hashlib.sha256(self.seed.encode()).hexdigest()[:width]


def _ctx(
    reply: Reply, model: str, prompt_tokens: int | None, created: float | None, usage: bool
) -> Ctx:
    seed = hashlib.sha256(repr(reply).encode()).hexdigest()
    return Ctx(
        reply=reply,
        model=reply.model or model,
        usage=reply.resolved_usage(prompt_tokens),
        created=time.time() if created is None else created,
        seed=seed,
        include_usage=usage,
    )


def render_stream(
    reply: Reply,
    wire: str,
    model: str,
    *,
    prompt_tokens: int | None = None,
    include_usage: bool = True,
    created: float | None = None,
) -> Iterator[bytes | float]:
    """The streamed HTTP body of ``reply`` on ``wire``: ``bytes`` pieces and ``float`` pauses.

    ``prompt_tokens`` feeds the usage estimate when the reply has no usage; ``include_usage``
    (Chat Completions only) is whether the request asked for ``stream_options.include_usage``;
    ``created`` is the Unix time stamped into the chunks (default: now)."""
    _check(wire)
    lead = 0  # pauses before any other piece come before the first byte (a slow first token)
    for piece in reply.pieces:
        if not isinstance(piece, Pause):
            break
        yield float(piece.seconds)
        lead += 1
    if lead:
        reply = replace(reply, pieces=reply.pieces[lead:])
    ctx = _ctx(reply, model, prompt_tokens, created, include_usage)
    frames = STREAMS[wire](ctx)
    delay = reply.chunk_delay
    first = True
    for frame in frames:
        if isinstance(frame, float):
            yield frame
            continue
        if delay and not first:
            yield delay
        first = False
        yield frame


def render_body(
    reply: Reply,
    wire: str,
    model: str,
    *,
    prompt_tokens: int | None = None,
    created: float | None = None,
) -> bytes:
    """The non-stream JSON answer for ``reply`` on ``wire``. A reply holding a :class:`Fail`
    renders that wire's error body (send it with :func:`error_status`)."""
    _check(wire)
    fail = reply.failure
    if fail is not None:
        return render_error(fail, wire)
    ctx = _ctx(reply, model, prompt_tokens, created, True)
    return dumps(BODIES[wire](ctx))


def error_status(kind: str, wire: str = "openai") -> int:
    """The HTTP status a provider answers for a failure kind (Anthropic overload: 529)."""
    _check(wire)
    Fail(kind)  # validates the kind
    if kind == "overloaded":
        return 529 if wire == "anthropic" else 503
    if kind == "authentication" and wire == "gemini":
        return 400  # Gemini answers a bad key with 400 INVALID_ARGUMENT + API_KEY_INVALID
    return {"rate_limit": 429, "server": 500, "authentication": 401}.get(kind, 400)


def render_error(fail: Fail, wire: str) -> bytes:
    """The JSON error body ``wire`` sends with :func:`error_status` (an HTTP error)."""
    _check(wire)
    return dumps(error_object(fail, wire, in_band=False))


STREAMS: dict[str, Renderer] = {
    "openai": _wires.openai_stream,
    "anthropic": _wires_blocks.anthropic_stream,
    "gemini": _wires_blocks.gemini_stream,
    "ollama": _wires.ollama_stream,
}
BODIES: dict[str, Callable[[Ctx], dict[str, Any]]] = {
    "openai": _wires.openai_body,
    "anthropic": _wires_blocks.anthropic_body,
    "gemini": _wires_blocks.gemini_body,
    "ollama": _wires.ollama_body,
}
