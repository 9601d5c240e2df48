"""The Anthropic Messages renderer: a scripted reply as Anthropic's exact bytes.

Shapes from the recorded bodies in ``tests/providers/anthropic-messages/fixtures``: named
events ``message_start`` (with input usage), content blocks with ``text_delta`` /
``thinking_delta`` + ``signature_delta`` / ``input_json_delta``, one ``ping``,
``message_delta`` (``stop_reason`` and output usage) and ``message_stop``. Errors (API
reference, "Errors"): ``{"type": "error", "error": {type, message}}``, in-band as
``event: error``; an overload is HTTP 529.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from ..._replies import Call, Fail, Pause, Reasoning, Text
from ...llm import Usage
from .._frames import KIND_BY_STATUS, Ctx, Frame, dumps, fragments, merged, sse, wire_finish
from .output import OUTPUT_TOOL

_FINISH = {
    "stop": "end_turn",
    "tool_calls": "tool_use",
    "length": "max_tokens",
    "content_filter": "refusal",
}


def _usage(u: Usage, output: int) -> dict[str, Any]:
    cached = u.cached_tokens or 0
    return {
        "input_tokens": u.prompt_tokens - cached,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
        "output_tokens": output,
    }


def _signature(ctx: Ctx) -> str:
    return base64.b64encode(hashlib.sha256(("sig" + ctx.seed).encode()).digest() * 2).decode()


class _Blocks:
    """Anthropic content blocks: which one is open, and the frames to open / close them."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.index = -1
        self.kind: str | None = None
        self.pinged = False

    def delta(self, delta: dict[str, Any]) -> bytes:
        obj = {"type": "content_block_delta", "index": self.index, "delta": delta}
        return sse(obj, "content_block_delta")

    def close(self) -> list[bytes]:
        if self.kind is None:
            return []
        out = []
        if self.kind == "thinking":
            out.append(self.delta({"type": "signature_delta", "signature": _signature(self.ctx)}))
        out.append(sse({"type": "content_block_stop", "index": self.index}, "content_block_stop"))
        self.kind = None
        return out

    def open(self, kind: str, block: dict[str, Any]) -> list[bytes]:
        out = self.close()
        self.index += 1
        self.kind = kind
        start = {"type": "content_block_start", "index": self.index, "content_block": block}
        out.append(sse(start, "content_block_start"))
        if not self.pinged:
            self.pinged = True
            out.append(sse({"type": "ping"}, "ping"))
        return out


def _via_tool(ctx: Ctx) -> bool:
    """Whether the request asks for structured output through the output tool (see
    ``output.py``): the reply's text is then that tool's input, as the real API answers."""
    tools = (ctx.request or {}).get("tools")
    names = [t.get("name") for t in tools if isinstance(t, dict)] if isinstance(tools, list) else []
    return OUTPUT_TOOL in names and bool(ctx.reply.content)


def _text_block(ctx: Ctx, via_tool: bool) -> tuple[str, dict[str, Any]]:
    if not via_tool:
        return "text", {"type": "text", "text": ""}
    block = {"type": "tool_use", "id": ctx.ident("toolu_01", 22), "name": OUTPUT_TOOL}
    return "tool_use", {**block, "input": {}}


def _text_delta(text: str, via_tool: bool) -> dict[str, Any]:
    if via_tool:
        return {"type": "input_json_delta", "partial_json": text}
    return {"type": "text_delta", "text": text}


def _as_tool_call(ctx: Ctx) -> Ctx:
    """The non-stream answer through the output tool: its input is the text's JSON object."""
    try:
        value = json.loads(ctx.reply.content)
    except ValueError:
        return ctx  # not JSON: the text stays text (the parser then reports invalid output)
    if not isinstance(value, dict):
        return ctx
    kept = [p for p in ctx.reply.pieces if not isinstance(p, Text)]
    finish = ctx.reply.finish_reason or "tool_calls"
    reply = replace(ctx.reply, pieces=[*kept, Call(OUTPUT_TOOL, value)], finish_reason=finish)
    return replace(ctx, reply=reply)


def stream(ctx: Ctx) -> Iterator[Frame]:
    via_tool = _via_tool(ctx)
    message: dict[str, Any] = {
        "id": ctx.ident("msg_01", 22),
        "type": "message",
        "role": "assistant",
        "model": ctx.model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": _usage(ctx.usage, 1),
    }
    yield sse({"type": "message_start", "message": message}, "message_start")
    blocks = _Blocks(ctx)
    calls = 0
    for piece in ctx.reply.pieces:
        if isinstance(piece, Text):
            kind, start = _text_block(ctx, via_tool)
            if blocks.kind != kind:
                yield from blocks.open(kind, start)
            yield blocks.delta(_text_delta(piece.text, via_tool))
        elif isinstance(piece, Reasoning):
            if blocks.kind != "thinking":
                start = {"type": "thinking", "thinking": "", "signature": ""}
                yield from blocks.open("thinking", start)
            yield blocks.delta({"type": "thinking_delta", "thinking": piece.text})
        elif isinstance(piece, Call):
            call_id = ctx.call_id("toolu_01", calls, piece, 22)
            block: dict[str, Any] = {"type": "tool_use", "id": call_id, "name": piece.name}
            block["input"] = {}
            yield from blocks.open("tool_use", block)
            for frag in ["", *fragments(dumps(piece.arguments_object()).decode())]:
                yield blocks.delta({"type": "input_json_delta", "partial_json": frag})
            yield from blocks.close()
            calls += 1
        elif isinstance(piece, Pause):
            yield float(piece.seconds)
        else:
            yield sse(error_object(piece, True), "error")
            return
    yield from blocks.close()
    stop = wire_finish(ctx.reply.resolved_finish(), _FINISH)
    if via_tool and ctx.reply.finish_reason is None:
        stop = "tool_use"  # a forced tool ends the turn with tool_use
    delta = {"stop_reason": stop, "stop_sequence": None}
    usage = {"output_tokens": ctx.usage.completion_tokens}
    yield sse({"type": "message_delta", "delta": delta, "usage": usage}, "message_delta")
    yield sse({"type": "message_stop"}, "message_stop")


def body(ctx: Ctx) -> dict[str, Any]:
    if _via_tool(ctx):
        ctx = _as_tool_call(ctx)
    content: list[dict[str, Any]] = []
    calls = 0
    for p in merged(ctx.reply.pieces):
        if isinstance(p, Text):
            content.append({"type": "text", "text": p.text})
        elif isinstance(p, Reasoning):
            content.append({"type": "thinking", "thinking": p.text, "signature": _signature(ctx)})
        elif isinstance(p, Call):
            call_id = ctx.call_id("toolu_01", calls, p, 22)
            content.append(
                {"type": "tool_use", "id": call_id, "name": p.name, "input": p.arguments_object()}
            )
            calls += 1
    return {
        "id": ctx.ident("msg_01", 22),
        "type": "message",
        "role": "assistant",
        "model": ctx.model,
        "content": content,
        "stop_reason": wire_finish(ctx.reply.resolved_finish(), _FINISH),
        "stop_sequence": None,
        "usage": _usage(ctx.usage, ctx.usage.completion_tokens),
    }


# error.type values of the "Errors" page (no distinct context-length type)
_ERRORS = {
    "overloaded": "overloaded_error",
    "rate_limit": "rate_limit_error",
    "server": "api_error",
    "invalid_request": "invalid_request_error",
    "authentication": "authentication_error",
    "context_length": "invalid_request_error",
}
_STATUS = {"overloaded": 529, "rate_limit": 429, "server": 500, "authentication": 401}
_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def error_object(fail: Fail, in_band: bool) -> dict[str, Any]:
    return {"type": "error", "error": {"type": _ERRORS[fail.kind], "message": fail.message}}


def error_status(kind: str) -> int:
    return _STATUS.get(kind, 400)


def http_error_body(status: int, message: str) -> dict[str, Any]:
    kind = KIND_BY_STATUS.get(status)
    if kind is not None:
        return error_object(Fail(kind, message), False)
    etype = _TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return {"type": "error", "error": {"type": etype, "message": message}}
