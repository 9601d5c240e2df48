"""The Ollama renderer: a scripted reply as ``/api/chat`` NDJSON lines.

Shapes from the recorded bodies in ``tests/providers/ollama-chat/fixtures`` and
``docs/api.md``: tool-call arguments as objects, a final ``done: true`` line with
``done_reason``, ``prompt_eval_count`` and ``eval_count``. Errors (``docs/api/errors.mdx``):
``{"error": "text"}``; once lines were written the server drops the status. Ollama has no
refusal, citation or signed-reasoning fields: a refusal is plain content, citations and redacted
reasoning are not sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from ..._replies import Call, Fail, Pause, Reasoning, Refusal, Text
from .._frames import Ctx, Frame, dumps, wire_finish

_FINISH = {
    "stop": "stop",
    "tool_calls": "stop",
    "length": "length",
    "content_filter": "stop",
}


def _time(ctx: Ctx) -> str:
    return datetime.fromtimestamp(ctx.created, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _call(index: int, call: Call) -> dict[str, Any]:
    fn = {"index": index, "name": call.name, "arguments": call.arguments_object()}
    return {"id": call.id, "function": fn} if call.id is not None else {"function": fn}


def _done(ctx: Ctx, message: dict[str, Any]) -> dict[str, Any]:
    u = ctx.usage
    return {
        "model": ctx.model,
        "created_at": _time(ctx),
        "message": message,
        "done_reason": wire_finish(ctx.reply.resolved_finish(), _FINISH),
        "done": True,
        "total_duration": 50_000_000 + 20_000_000 * u.completion_tokens,
        "load_duration": 10_000_000,
        "prompt_eval_count": u.prompt_tokens,
        "prompt_eval_duration": 1_000_000 * u.prompt_tokens,
        "eval_count": u.completion_tokens,
        "eval_duration": 20_000_000 * u.completion_tokens,
    }


def stream(ctx: Ctx) -> Iterator[Frame]:
    def line(message: dict[str, Any]) -> bytes:
        obj = {"model": ctx.model, "created_at": _time(ctx), "message": message}
        return dumps({**obj, "done": False}) + b"\n"

    calls = 0
    for piece in ctx.reply.pieces:
        if isinstance(piece, Text | Refusal):
            yield line({"role": "assistant", "content": piece.text})
        elif isinstance(piece, Reasoning):
            yield line({"role": "assistant", "content": "", "thinking": piece.text})
        elif isinstance(piece, Call):
            tool_calls = [_call(calls, piece)]
            yield line({"role": "assistant", "content": "", "tool_calls": tool_calls})
            calls += 1
        elif isinstance(piece, Pause):
            yield float(piece.seconds)
        elif isinstance(piece, Fail):
            yield dumps(error_object(piece, True)) + b"\n"
            return
    yield dumps(_done(ctx, {"role": "assistant", "content": ""})) + b"\n"


def body(ctx: Ctx) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": ctx.reply.content}
    if ctx.reply.refusal:
        message["content"] += ctx.reply.refusal
    if ctx.reply.reasoning:
        message["thinking"] = ctx.reply.reasoning
    if ctx.reply.calls:
        message["tool_calls"] = [_call(i, c) for i, c in enumerate(ctx.reply.calls)]
    return _done(ctx, message)


_STATUS = {"overloaded": 503, "rate_limit": 429, "server": 500, "authentication": 401}


def error_object(fail: Fail, in_band: bool) -> dict[str, Any]:
    return {"error": fail.message}  # Ollama drops the status once lines were written


def error_status(kind: str) -> int:
    return _STATUS.get(kind, 400)


def http_error_body(status: int, message: str) -> dict[str, Any]:
    return {"error": message}
