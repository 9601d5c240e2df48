"""The Anthropic Messages renderer: a scripted reply as Anthropic's exact bytes.

Shapes from the recorded bodies in ``tests/providers/anthropic-messages/fixtures``: named
events ``message_start`` (with input usage), content blocks with ``text_delta`` /
``thinking_delta`` + ``signature_delta`` / ``input_json_delta``, one ``ping``,
``message_delta`` (``stop_reason`` and output usage) and ``message_stop``. A thinking block's
signature is the scripted one, else the emulator's (a digest of the block's text,
which ``strict.py`` checks when the block comes back); ``redacted_thinking`` blocks carry their
data at block start; a citation opens a text block whose ``citations_delta``
(``web_search_result_location``) precedes its text; a refusal is the ``refusal`` stop reason.
Errors (API reference, "Errors"): ``{"type": "error", "error": {type, message}}``, in-band as
``event: error``; an overload is HTTP 529.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from ..._replies import Call, Cite, Fail, Pause, Reasoning, Redacted, Refusal, Text
from ...llm import Usage
from .._frames import (
    KIND_BY_STATUS,
    Ctx,
    Frame,
    dumps,
    fragments,
    merged,
    signature_for,
    sse,
    wire_finish,
)
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


def _location(cite: Cite) -> dict[str, Any]:
    """A ``web_search_result_location`` citation ("Web search tool": citations)."""
    return {
        "type": "web_search_result_location",
        "url": cite.url,
        "title": cite.title,
        "encrypted_index": "",
        "cited_text": cite.text or "",
    }


class _Blocks:
    """Anthropic content blocks: which one is open, and the frames to open / close them."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.index = -1
        self.kind: str | None = None
        self.pinged = False
        self.thinking: list[str] = []  # the open thinking block's text
        self.signature: str | None = None  # its scripted signature
        self.cites: list[Cite] = []  # citations of the next text block
        self.calls = 0

    def delta(self, delta: dict[str, Any]) -> bytes:
        obj = {"type": "content_block_delta", "index": self.index, "delta": delta}
        return sse(obj, "content_block_delta")

    def close(self) -> list[bytes]:
        if self.kind is None:
            return []
        out = []
        if self.kind == "thinking":
            sig = self.signature or signature_for("".join(self.thinking))
            out.append(self.delta({"type": "signature_delta", "signature": sig}))
            self.thinking, self.signature = [], None
        out.append(sse({"type": "content_block_stop", "index": self.index}, "content_block_stop"))
        self.kind = None
        return out

    def piece(self, piece: Text | Reasoning | Redacted | Cite | Call | Refusal) -> Iterator[bytes]:
        """The frames of one piece (a refusal is only the stop reason)."""
        if isinstance(piece, Text):
            if self.kind != "text":
                yield from self.open("text", {"type": "text", "text": ""})
                for cite in self.cites:
                    yield self.delta({"type": "citations_delta", "citation": _location(cite)})
                self.cites = []
            yield self.delta({"type": "text_delta", "text": piece.text})
        elif isinstance(piece, Cite):
            yield from self.close()  # the cited text is a block of its own
            self.cites.append(piece)
        elif isinstance(piece, Reasoning):
            yield from self.reasoning(piece)
        elif isinstance(piece, Redacted):
            yield from self.open("redacted", {"type": "redacted_thinking", "data": piece.data})
            yield from self.close()
        elif isinstance(piece, Call):
            yield from self.call(piece)

    def reasoning(self, piece: Reasoning) -> Iterator[bytes]:
        if self.kind != "thinking":
            yield from self.open("thinking", {"type": "thinking", "thinking": "", "signature": ""})
        yield self.delta({"type": "thinking_delta", "thinking": piece.text})
        self.thinking.append(piece.text)
        if piece.signature:  # a signed piece ends its block
            self.signature = piece.signature
            yield from self.close()

    def call(self, piece: Call) -> Iterator[bytes]:
        call_id = self.ctx.call_id("toolu_01", self.calls, piece, 22)
        block: dict[str, Any] = {"type": "tool_use", "id": call_id, "name": piece.name}
        block["input"] = {}
        yield from self.open("tool_use", block)
        for frag in ["", *fragments(dumps(piece.arguments_object()).decode())]:
            yield self.delta({"type": "input_json_delta", "partial_json": frag})
        yield from self.close()
        self.calls += 1

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


def _output_block(ctx: Ctx) -> dict[str, Any]:
    block = {"type": "tool_use", "id": ctx.ident("toolu_01", 22), "name": OUTPUT_TOOL}
    return {**block, "input": {}}


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
    for piece in ctx.reply.pieces:
        if isinstance(piece, Text) and via_tool:  # structured output through the output tool
            if blocks.kind != "output":
                yield from blocks.open("output", _output_block(ctx))
            yield blocks.delta({"type": "input_json_delta", "partial_json": piece.text})
        elif isinstance(piece, Pause):
            yield float(piece.seconds)
        elif isinstance(piece, Fail):
            yield sse(error_object(piece, True), "error")
            return
        else:
            yield from blocks.piece(piece)
    yield from blocks.close()
    stop = wire_finish(ctx.reply.resolved_finish(), _FINISH)
    if via_tool and ctx.reply.finish_reason is None:
        stop = "tool_use"  # a forced tool ends the turn with tool_use
    delta = {"stop_reason": stop, "stop_sequence": None}
    usage = {"output_tokens": ctx.usage.completion_tokens}
    yield sse({"type": "message_delta", "delta": delta, "usage": usage}, "message_delta")
    yield sse({"type": "message_stop"}, "message_stop")


def _content(ctx: Ctx) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = []
    calls = 0
    cites: list[Cite] = []
    for p in merged(ctx.reply.pieces):
        if isinstance(p, Text):
            block: dict[str, Any] = {"type": "text", "text": p.text}
            if cites:
                block["citations"] = [_location(c) for c in cites]
            content.append(block)
            cites = []
        elif isinstance(p, Cite):
            cites.append(p)
        elif isinstance(p, Reasoning):
            sig = p.signature or signature_for(p.text)
            content.append({"type": "thinking", "thinking": p.text, "signature": sig})
        elif isinstance(p, Redacted):
            content.append({"type": "redacted_thinking", "data": p.data})
        elif isinstance(p, Call):
            call_id = ctx.call_id("toolu_01", calls, p, 22)
            args = p.arguments_object()
            content.append({"type": "tool_use", "id": call_id, "name": p.name, "input": args})
            calls += 1
    return content


def body(ctx: Ctx) -> dict[str, Any]:
    if _via_tool(ctx):
        ctx = _as_tool_call(ctx)
    content = _content(ctx)
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
