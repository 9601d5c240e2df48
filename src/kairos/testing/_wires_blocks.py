"""Anthropic Messages and Gemini ``streamGenerateContent`` (``alt=sse``) renderers.

See ``_frames`` for the shapes; facts from the recorded bodies in tests/fixtures/conformance.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..llm import Usage
from ._frames import Frame, dumps, error_object, fragments, merged, sse, wire_finish
from ._script import Call, Fail, Pause, Reasoning, Text

if TYPE_CHECKING:
    from ._render import Ctx

__all__ = ["anthropic_body", "anthropic_stream", "gemini_body", "gemini_stream"]


# -- Anthropic Messages ---------------------------------------------------------------------------
_ANTHROPIC_FINISH = {
    "stop": "end_turn",
    "tool_calls": "tool_use",
    "length": "max_tokens",
    "content_filter": "refusal",
}


def _anthropic_usage(u: Usage, output: int) -> dict[str, Any]:
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


def anthropic_stream(ctx: Ctx) -> Iterator[Frame]:
    message: dict[str, Any] = {
        "id": ctx.ident("msg_01", 22),
        "type": "message",
        "role": "assistant",
        "model": ctx.model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": _anthropic_usage(ctx.usage, 1),
    }
    yield sse({"type": "message_start", "message": message}, "message_start")
    blocks = _Blocks(ctx)
    calls = 0
    for piece in ctx.reply.pieces:
        if isinstance(piece, Text):
            if blocks.kind != "text":
                yield from blocks.open("text", {"type": "text", "text": ""})
            yield blocks.delta({"type": "text_delta", "text": piece.text})
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
            yield sse(error_object(piece, "anthropic", in_band=True), "error")
            return
    yield from blocks.close()
    stop = wire_finish(ctx.reply.resolved_finish(), _ANTHROPIC_FINISH)
    delta = {"stop_reason": stop, "stop_sequence": None}
    usage = {"output_tokens": ctx.usage.completion_tokens}
    yield sse({"type": "message_delta", "delta": delta, "usage": usage}, "message_delta")
    yield sse({"type": "message_stop"}, "message_stop")


def anthropic_body(ctx: Ctx) -> dict[str, Any]:
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
        "stop_reason": wire_finish(ctx.reply.resolved_finish(), _ANTHROPIC_FINISH),
        "stop_sequence": None,
        "usage": _anthropic_usage(ctx.usage, ctx.usage.completion_tokens),
    }


# -- Gemini streamGenerateContent -----------------------------------------------------------------
_GEMINI_FINISH = {
    "stop": "STOP",
    "tool_calls": "STOP",
    "length": "MAX_TOKENS",
    "content_filter": "SAFETY",
}


def _gemini_part(piece: Text | Reasoning | Call) -> dict[str, Any]:
    if isinstance(piece, Text):
        return {"text": piece.text}
    if isinstance(piece, Reasoning):
        return {"text": piece.text, "thought": True}
    call: dict[str, Any] = {"name": piece.name, "args": piece.arguments_object()}
    if piece.id is not None:
        call["id"] = piece.id
    return {"functionCall": call}


def _gemini_chunk(ctx: Ctx, parts: list[dict[str, Any]], final: bool) -> dict[str, Any]:
    cand: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
    out: dict[str, Any] = {"candidates": [cand]}
    if final:
        cand["finishReason"] = wire_finish(ctx.reply.resolved_finish(), _GEMINI_FINISH)
        u = ctx.usage
        meta: dict[str, Any] = {
            "promptTokenCount": u.prompt_tokens,
            "candidatesTokenCount": u.completion_tokens,
            "totalTokenCount": u.total_tokens,
        }
        if u.cached_tokens is not None:
            meta["cachedContentTokenCount"] = u.cached_tokens
        if u.reasoning_tokens is not None:
            meta["thoughtsTokenCount"] = u.reasoning_tokens
        out["usageMetadata"] = meta
    cand["index"] = 0
    out["modelVersion"] = ctx.model
    out["responseId"] = ctx.ident("", 22)
    return out


def _geminisse(obj: Any) -> bytes:
    return sse(obj, eol=b"\r\n")


def gemini_stream(ctx: Ctx) -> Iterator[Frame]:
    held: list[dict[str, Any]] | None = None  # parts of the chunk not sent yet
    held_calls = False
    for piece in ctx.reply.pieces:
        if isinstance(piece, Pause | Fail):
            if held is not None:
                yield _geminisse(_gemini_chunk(ctx, held, False))
                held = None
            if isinstance(piece, Fail):
                yield _geminisse(error_object(piece, "gemini", in_band=True))
                return
            yield float(piece.seconds)
            continue
        part = _gemini_part(piece)
        if isinstance(piece, Call) and held is not None and held_calls:
            held.append(part)  # parallel calls arrive in one chunk
            continue
        if held is not None:
            yield _geminisse(_gemini_chunk(ctx, held, False))
        held, held_calls = [part], isinstance(piece, Call)
    yield _geminisse(_gemini_chunk(ctx, held if held is not None else [{"text": ""}], True))


def gemini_body(ctx: Ctx) -> dict[str, Any]:
    parts = [_gemini_part(p) for p in merged(ctx.reply.pieces) if not isinstance(p, Fail | Pause)]
    return _gemini_chunk(ctx, parts or [{"text": ""}], True)
