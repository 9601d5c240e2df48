"""Rendering through the registry: a scripted reply as the exact bytes a wire sends. Pure.

``render_stream`` yields pieces of the HTTP body (``bytes``) and pauses (``float`` seconds to
wait before the next piece); ``render_body`` gives the non-stream JSON answer; ``render_error``
and ``error_status`` the HTTP error a scripted failure becomes; ``http_error_body`` any other
HTTP error in the wire's shape. ``wire`` is a wire name (``openai-chat``...) or a preset name
(``openai``, ``qwen``...), resolved by :func:`kairos.providers.resolve_wire`. The per-wire code
lives in each wire's ``render`` module (see :mod:`kairos.providers._frames`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from .._replies import Fail, Pause, Reply
from . import renderer, resolve_wire
from ._frames import Ctx, dumps

__all__ = ["error_status", "http_error_body", "render_body", "render_error", "render_stream"]


def _ctx(
    reply: Reply,
    model: str,
    prompt_tokens: int | None,
    created: float | None,
    usage: bool,
    request: Mapping[str, Any] | None = None,
) -> Ctx:
    seed = hashlib.sha256(repr(reply).encode()).hexdigest()
    return Ctx(
        reply=reply,
        model=reply.model or model,
        usage=reply.resolved_usage(prompt_tokens),
        created=time.time() if created is None else created,
        seed=seed,
        include_usage=usage,
        request=request,
    )


def render_stream(
    reply: Reply,
    wire: str,
    model: str,
    *,
    prompt_tokens: int | None = None,
    include_usage: bool = True,
    created: float | None = None,
    request: Mapping[str, Any] | None = None,
) -> Iterator[bytes | float]:
    """The streamed HTTP body of ``reply`` on ``wire``: ``bytes`` pieces and ``float`` pauses.

    ``prompt_tokens`` feeds the usage estimate when the reply has no usage; ``include_usage``
    (wires whose usage is opt-in) is whether the request asked for it; ``created`` is the Unix
    time stamped into the chunks (default: now); ``request`` the JSON body being answered (a
    wire may answer differently depending on it, e.g. structured output through a tool)."""
    frames_of = renderer(resolve_wire(wire)).stream
    lead = 0  # pauses before any other piece come before the first byte (a slow first token)
    for piece in reply.pieces:
        if not isinstance(piece, Pause):
            break
        yield float(piece.seconds)
        lead += 1
    if lead:
        reply = replace(reply, pieces=reply.pieces[lead:])
    frames = frames_of(_ctx(reply, model, prompt_tokens, created, include_usage, request))
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
    request: Mapping[str, Any] | None = None,
) -> bytes:
    """The non-stream JSON answer for ``reply`` on ``wire``. A reply holding a :class:`Fail`
    renders that wire's error body (send it with :func:`error_status`)."""
    name = resolve_wire(wire)
    fail = reply.failure
    if fail is not None:
        return render_error(fail, name)
    ctx = _ctx(reply, model, prompt_tokens, created, True, request)
    return dumps(renderer(name).body(ctx))


def error_status(kind: str, wire: str = "openai-chat") -> int:
    """The HTTP status a provider answers for a failure kind (Anthropic overload: 529)."""
    name = resolve_wire(wire)
    Fail(kind)  # validates the kind
    return renderer(name).error_status(kind)


def render_error(fail: Fail, wire: str) -> bytes:
    """The JSON error body ``wire`` sends with :func:`error_status` (an HTTP error)."""
    return dumps(renderer(resolve_wire(wire)).error_object(fail, False))


def http_error_body(wire: str, status: int, message: str) -> bytes:
    """An HTTP error body in ``wire``'s own shape for any status."""
    return dumps(renderer(resolve_wire(wire)).http_error_body(status, message))
