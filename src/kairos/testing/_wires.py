"""Chat Completions (OpenAI, DashScope compatible mode) and Ollama ``/api/chat`` renderers.

See ``_frames`` for the shapes; facts from the recorded bodies in tests/fixtures/conformance.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..llm import Usage
from ._frames import Frame, dumps, error_object, fragments, merged, sse, wire_finish
from ._script import Call, Pause, Reasoning, Text

if TYPE_CHECKING:
    from ._render import Ctx

__all__ = ["ollama_body", "ollama_stream", "openai_body", "openai_stream"]


# -- OpenAI Chat Completions ----------------------------------------------------------------------
def _openai_usage(u: Usage) -> dict[str, Any]:
    out: dict[str, Any] = {
        "prompt_tokens": u.prompt_tokens,
        "completion_tokens": u.completion_tokens,
        "total_tokens": u.total_tokens,
    }
    if u.cached_tokens is not None:
        out["prompt_tokens_details"] = {"cached_tokens": u.cached_tokens}
    if u.reasoning_tokens is not None:
        out["completion_tokens_details"] = {"reasoning_tokens": u.reasoning_tokens}
    return out


def openai_stream(ctx: Ctx) -> Iterator[Frame]:
    base = {
        "id": ctx.ident("chatcmpl-"),
        "object": "chat.completion.chunk",
        "created": int(ctx.created),
        "model": ctx.model,
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return sse({**base, "choices": [choice]})

    yield chunk({"role": "assistant", "content": ""})
    calls = 0
    for piece in ctx.reply.pieces:
        if isinstance(piece, Text):
            yield chunk({"content": piece.text})
        elif isinstance(piece, Reasoning):
            yield chunk({"reasoning_content": piece.text})
        elif isinstance(piece, Call):
            fn = {"name": piece.name, "arguments": ""}
            head = {"index": calls, "id": ctx.call_id("call_", calls, piece), "type": "function"}
            yield chunk({"tool_calls": [{**head, "function": fn}]})
            for frag in fragments(piece.arguments_json()):
                yield chunk({"tool_calls": [{"index": calls, "function": {"arguments": frag}}]})
            calls += 1
        elif isinstance(piece, Pause):
            yield float(piece.seconds)
        else:
            yield sse(error_object(piece, "openai", in_band=True))
            return
    yield chunk({}, ctx.reply.resolved_finish())
    if ctx.include_usage:
        yield sse({**base, "choices": [], "usage": _openai_usage(ctx.usage)})
    yield b"data: [DONE]\n\n"


def openai_body(ctx: Ctx) -> dict[str, Any]:
    pieces = merged(ctx.reply.pieces)
    calls = [p for p in pieces if isinstance(p, Call)]
    message: dict[str, Any] = {"role": "assistant", "content": ctx.reply.content or None}
    if ctx.reply.reasoning:
        message["reasoning_content"] = ctx.reply.reasoning
    if calls:
        message["tool_calls"] = [
            {
                "id": ctx.call_id("call_", i, c),
                "type": "function",
                "function": {"name": c.name, "arguments": c.arguments_json()},
            }
            for i, c in enumerate(calls)
        ]
    choice = {
        "index": 0,
        "message": message,
        "logprobs": None,
        "finish_reason": ctx.reply.resolved_finish(),
    }
    return {
        "id": ctx.ident("chatcmpl-"),
        "object": "chat.completion",
        "created": int(ctx.created),
        "model": ctx.model,
        "choices": [choice],
        "usage": _openai_usage(ctx.usage),
    }


# -- Ollama /api/chat -----------------------------------------------------------------------------
_OLLAMA_FINISH = {
    "stop": "stop",
    "tool_calls": "stop",
    "length": "length",
    "content_filter": "stop",
}


def _ollama_time(ctx: Ctx) -> str:
    return datetime.fromtimestamp(ctx.created, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _ollama_call(index: int, call: Call) -> dict[str, Any]:
    fn = {"index": index, "name": call.name, "arguments": call.arguments_object()}
    return {"id": call.id, "function": fn} if call.id is not None else {"function": fn}


def _ollama_done(ctx: Ctx, message: dict[str, Any]) -> dict[str, Any]:
    u = ctx.usage
    return {
        "model": ctx.model,
        "created_at": _ollama_time(ctx),
        "message": message,
        "done_reason": wire_finish(ctx.reply.resolved_finish(), _OLLAMA_FINISH),
        "done": True,
        "total_duration": 50_000_000 + 20_000_000 * u.completion_tokens,
        "load_duration": 10_000_000,
        "prompt_eval_count": u.prompt_tokens,
        "prompt_eval_duration": 1_000_000 * u.prompt_tokens,
        "eval_count": u.completion_tokens,
        "eval_duration": 20_000_000 * u.completion_tokens,
    }


def ollama_stream(ctx: Ctx) -> Iterator[Frame]:
    def line(message: dict[str, Any]) -> bytes:
        obj = {"model": ctx.model, "created_at": _ollama_time(ctx), "message": message}
        return dumps({**obj, "done": False}) + b"\n"

    calls = 0
    for piece in ctx.reply.pieces:
        if isinstance(piece, Text):
            yield line({"role": "assistant", "content": piece.text})
        elif isinstance(piece, Reasoning):
            yield line({"role": "assistant", "content": "", "thinking": piece.text})
        elif isinstance(piece, Call):
            tool_calls = [_ollama_call(calls, piece)]
            yield line({"role": "assistant", "content": "", "tool_calls": tool_calls})
            calls += 1
        elif isinstance(piece, Pause):
            yield float(piece.seconds)
        else:
            yield dumps(error_object(piece, "ollama", in_band=True)) + b"\n"
            return
    yield dumps(_ollama_done(ctx, {"role": "assistant", "content": ""})) + b"\n"


def ollama_body(ctx: Ctx) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": ctx.reply.content}
    if ctx.reply.reasoning:
        message["thinking"] = ctx.reply.reasoning
    if ctx.reply.calls:
        message["tool_calls"] = [_ollama_call(i, c) for i, c in enumerate(ctx.reply.calls)]
    return _ollama_done(ctx, message)
