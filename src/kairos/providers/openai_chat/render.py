"""The Chat Completions renderer: a scripted reply as OpenAI's (and DashScope's) exact bytes.

Shapes from the recorded bodies in ``tests/providers/openai-chat/fixtures``:
``chat.completion.chunk`` SSE lines, reasoning as ``reasoning_content`` (DeepSeek, DashScope),
tool calls with ``index``/``id`` then argument fragments, a finish chunk, a usage-only chunk
(``choices: []``, only when the request asked for ``stream_options.include_usage``) and
``data: [DONE]``. A refusal streams as ``refusal`` pieces and ends with ``stop``; a citation as
an ``annotations`` entry (``url_citation`` with the span of the text it supports), as OpenRouter
streams them. Errors: ``{"error": {message, type, param, code}}`` (OpenAI API reference, "Error
codes"); in-band as OpenRouter and Groq send them, with the status in ``status_code``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..._replies import Call, Cite, Fail, Pause, Reasoning, Refusal, Reply, Text
from ...llm import Usage
from .._frames import KIND_BY_STATUS, Ctx, Frame, fragments, merged, spans, sse

__all__ = ["body", "error_object", "error_status", "http_error_body", "stream"]

# kind -> (OpenAI type, code, status); statuses ride in-band as Groq's "status_code" does
_ERRORS = {
    "overloaded": ("overloaded_error", None, 503),
    "rate_limit": ("requests", "rate_limit_exceeded", 429),
    "server": ("server_error", None, 500),
    "invalid_request": ("invalid_request_error", None, 400),
    "authentication": ("invalid_request_error", "invalid_api_key", 401),
    "context_length": ("invalid_request_error", "context_length_exceeded", 400),
}


def _usage(u: Usage) -> dict[str, Any]:
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


def _finish(reply: Reply) -> str:
    """OpenAI ends a refusal with ``stop``."""
    if reply.refusal and reply.finish_reason is None:
        return "stop"
    return reply.resolved_finish()


def _annotation(cite: Cite, span: tuple[int, int, str]) -> dict[str, Any]:
    found: dict[str, Any] = {"url": cite.url, "title": cite.title or ""}
    found.update(start_index=span[0], end_index=span[1])
    if cite.text is not None:
        found["content"] = cite.text
    return {"type": "url_citation", "url_citation": found}


def stream(ctx: Ctx) -> Iterator[Frame]:
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
    cited = spans(ctx.reply.pieces)
    for i, piece in enumerate(ctx.reply.pieces):
        if isinstance(piece, Text):
            yield chunk({"content": piece.text})
        elif isinstance(piece, Reasoning):
            yield chunk({"reasoning_content": piece.text})
        elif isinstance(piece, Refusal):
            yield chunk({"refusal": piece.text})
        elif isinstance(piece, Cite):
            yield chunk({"annotations": [_annotation(piece, cited[i])]})
        elif isinstance(piece, Call):
            fn = {"name": piece.name, "arguments": ""}
            head = {"index": calls, "id": ctx.call_id("call_", calls, piece), "type": "function"}
            yield chunk({"tool_calls": [{**head, "function": fn}]})
            for frag in fragments(piece.arguments_json()):
                yield chunk({"tool_calls": [{"index": calls, "function": {"arguments": frag}}]})
            calls += 1
        elif isinstance(piece, Pause):
            yield float(piece.seconds)
        elif isinstance(piece, Fail):
            yield sse(error_object(piece, True))
            return
    yield chunk({}, _finish(ctx.reply))
    if ctx.include_usage:
        yield sse({**base, "choices": [], "usage": _usage(ctx.usage)})
    yield b"data: [DONE]\n\n"


def body(ctx: Ctx) -> dict[str, Any]:
    pieces = merged(ctx.reply.pieces)
    calls = [p for p in pieces if isinstance(p, Call)]
    message: dict[str, Any] = {"role": "assistant", "content": ctx.reply.content or None}
    if ctx.reply.reasoning:
        message["reasoning_content"] = ctx.reply.reasoning
    if ctx.reply.refusal:
        message["refusal"] = ctx.reply.refusal
    cited = spans(ctx.reply.pieces)
    notes = [
        _annotation(p, cited[i]) for i, p in enumerate(ctx.reply.pieces) if isinstance(p, Cite)
    ]
    if notes:
        message["annotations"] = notes
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
        "finish_reason": _finish(ctx.reply),
    }
    return {
        "id": ctx.ident("chatcmpl-"),
        "object": "chat.completion",
        "created": int(ctx.created),
        "model": ctx.model,
        "choices": [choice],
        "usage": _usage(ctx.usage),
    }


def error_object(fail: Fail, in_band: bool) -> dict[str, Any]:
    etype, code, status = _ERRORS[fail.kind]
    err: dict[str, Any] = {"message": fail.message, "type": etype, "param": None, "code": code}
    if in_band:
        err["status_code"] = status
    return {"error": err}


def error_status(kind: str) -> int:
    return _ERRORS[kind][2]


_TYPES = {429: "requests", 500: "server_error", 503: "server_error"}
_CODES = {401: "invalid_api_key", 429: "rate_limit_exceeded"}


def http_error_body(status: int, message: str) -> dict[str, Any]:
    kind = KIND_BY_STATUS.get(status)
    if kind is not None:
        return error_object(Fail(kind, message), False)
    etype = _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": etype, "param": None, "code": _CODES.get(status)}}
