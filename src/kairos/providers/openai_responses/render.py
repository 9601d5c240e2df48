"""The Responses renderer: a scripted reply as OpenAI's ``/v1/responses`` exact bytes.

Shapes from the recorded bodies in ``tests/providers/openai-responses/fixtures``: named SSE
events with a ``sequence_number``; ``response.created`` and ``response.in_progress``; one output
item per run of pieces (``reasoning`` with a summary part, ``message`` with an ``output_text``
part, one ``function_call`` per call), each opened by ``response.output_item.added``, streamed
as deltas and closed by its ``.done`` events and ``response.output_item.done``; then
``response.completed`` (or ``response.incomplete`` for a ``length`` / ``content_filter``
finish) with the whole response and its usage. A failure is the recorded pair: an ``error``
event ``{type: "error", error: {type, code, message, param}}``, then ``response.failed``. HTTP
errors have the Chat Completions body and statuses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from ..._replies import Call, Fail, Pause, Reasoning, Text
from ...llm import Usage
from .._frames import Ctx, Frame, fragments, merged, sse
from ..openai_chat.render import error_object as chat_error
from ..openai_chat.render import error_status, http_error_body

__all__ = ["body", "error_object", "error_status", "http_error_body", "stream"]

_INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}


def _usage(u: Usage) -> dict[str, Any]:
    out: dict[str, Any] = {"input_tokens": u.prompt_tokens}
    if u.cached_tokens is not None:
        out["input_tokens_details"] = {"cached_tokens": u.cached_tokens}
    out["output_tokens"] = u.completion_tokens
    if u.reasoning_tokens is not None:
        out["output_tokens_details"] = {"reasoning_tokens": u.reasoning_tokens}
    out["total_tokens"] = u.total_tokens
    return out


def _item_id(ctx: Ctx, prefix: str, index: int) -> str:
    return prefix + hashlib.sha256(f"{ctx.seed}|{prefix}|{index}".encode()).hexdigest()[:40]


def _response(ctx: Ctx, status: str, output: list[dict[str, Any]], **end: Any) -> dict[str, Any]:
    finish = ctx.reply.resolved_finish()
    reason = _INCOMPLETE.get(finish) or (None if finish in ("stop", "tool_calls") else finish)
    if status != "in_progress" and reason is not None and "error" not in end:
        status = "incomplete"
    return {
        "id": ctx.ident("resp_"),
        "object": "response",
        "created_at": int(ctx.created),
        "status": status,
        "error": end.get("error"),
        "incomplete_details": {"reason": reason} if status == "incomplete" else None,
        "instructions": None,
        "model": ctx.model,
        "output": output,
        "parallel_tool_calls": True,
        "store": False,
        "tool_choice": "auto",
        "tools": [],
        "usage": _usage(ctx.usage) if status in ("completed", "incomplete") else None,
    }


class _Items:
    """The output items being streamed: the one open now, the finished ones, and the
    numbered events that build them."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.seq = 0
        self.done: list[dict[str, Any]] = []
        self.kind: type | None = None  # the piece type of the open item
        self.item: dict[str, Any] = {}
        self.text: list[str] = []
        self.calls = 0

    def event(self, kind: str, **fields: Any) -> bytes:
        obj = {"type": kind, "sequence_number": self.seq, **fields}
        self.seq += 1
        return sse(obj, kind)

    def _where(self, **more: Any) -> dict[str, Any]:
        return {"item_id": self.item["id"], "output_index": len(self.done), **more}

    def open(self, piece: Text | Reasoning | Call) -> list[bytes]:
        out = self.close()
        self.kind, self.text, n = type(piece), [], len(self.done)
        if isinstance(piece, Text):
            self.item = {"id": _item_id(self.ctx, "msg_", n), "type": "message"}
            self.item.update(status="in_progress", content=[], role="assistant")
            part = {"type": "output_text", "annotations": [], "text": ""}
            where = self._where(content_index=0, part=part)
            return [*out, self._added(), self.event("response.content_part.added", **where)]
        if isinstance(piece, Reasoning):
            self.item = {"id": _item_id(self.ctx, "rs_", n), "type": "reasoning", "summary": []}
            where = self._where(summary_index=0, part={"type": "summary_text", "text": ""})
            out.append(self._added())
            return [*out, self.event("response.reasoning_summary_part.added", **where)]
        call_id = self.ctx.call_id("call_", self.calls, piece)
        self.calls += 1
        self.item = {"id": _item_id(self.ctx, "fc_", n), "type": "function_call"}
        self.item.update(status="in_progress", arguments="", call_id=call_id, name=piece.name)
        return [*out, self._added()]

    def _added(self) -> bytes:
        where = {"output_index": len(self.done), "item": self.item}
        return self.event("response.output_item.added", **where)

    def delta(self, piece: Text | Reasoning | Call) -> list[bytes]:
        if isinstance(piece, Call):
            out = []
            for frag in fragments(piece.arguments_json()):
                self.text.append(frag)
                where = self._where(delta=frag)
                out.append(self.event("response.function_call_arguments.delta", **where))
            return out
        self.text.append(piece.text)
        if isinstance(piece, Text):
            where = self._where(content_index=0, delta=piece.text, logprobs=[])
            return [self.event("response.output_text.delta", **where)]
        where = self._where(summary_index=0, delta=piece.text)
        return [self.event("response.reasoning_summary_text.delta", **where)]

    def close(self) -> list[bytes]:
        if self.kind is None:
            return []
        text, out = "".join(self.text), []
        if self.kind is Text:
            part = {"type": "output_text", "annotations": [], "text": text}
            where = self._where(content_index=0, text=text, logprobs=[])
            out.append(self.event("response.output_text.done", **where))
            where = self._where(content_index=0, part=part)
            out.append(self.event("response.content_part.done", **where))
            self.item.update(status="completed", content=[part])
        elif self.kind is Reasoning:
            part = {"type": "summary_text", "text": text}
            where = self._where(summary_index=0, text=text)
            out.append(self.event("response.reasoning_summary_text.done", **where))
            where = self._where(summary_index=0, part=part)
            out.append(self.event("response.reasoning_summary_part.done", **where))
            self.item["summary"] = [part]
        else:
            where = self._where(arguments=text)
            out.append(self.event("response.function_call_arguments.done", **where))
            self.item.update(status="completed", arguments=text)
        where = {"output_index": len(self.done), "item": self.item}
        out.append(self.event("response.output_item.done", **where))
        self.done.append(self.item)
        self.kind = None
        return out


def stream(ctx: Ctx) -> Iterator[Frame]:
    items = _Items(ctx)
    start = _response(ctx, "in_progress", [])
    yield items.event("response.created", response=start)
    yield items.event("response.in_progress", response=start)
    for piece in ctx.reply.pieces:
        if isinstance(piece, Pause):
            yield float(piece.seconds)
        elif isinstance(piece, Fail):
            yield from items.close()
            err = chat_error(piece, False)["error"]
            yield items.event("error", error=err)
            failed = _response(ctx, "failed", items.done, error=_failed(err))
            yield items.event("response.failed", response=failed)
            return
        elif isinstance(piece, Text | Reasoning | Call):
            if items.kind is not type(piece) or isinstance(piece, Call):
                yield from items.open(piece)
            yield from items.delta(piece)
    yield from items.close()
    end = _response(ctx, "completed", items.done)
    yield items.event(f"response.{end['status']}", response=end)


def _failed(err: dict[str, Any]) -> dict[str, Any]:
    """A failed response's ``error`` (``{code, message}``) for the error event's object."""
    return {"code": err.get("code") or err.get("type"), "message": err.get("message")}


def body(ctx: Ctx) -> dict[str, Any]:
    items = _Items(ctx)
    pieces = merged(ctx.reply.pieces)
    for piece in pieces:
        if isinstance(piece, Text | Reasoning | Call):
            items.open(piece)
            items.delta(piece)
    items.close()
    return _response(ctx, "completed", items.done)


def error_object(fail: Fail, in_band: bool) -> dict[str, Any]:
    """The HTTP error body (the Chat Completions shape), or an ``error`` event's fields."""
    obj = chat_error(fail, False)
    return {"type": "error", **obj} if in_band else obj
