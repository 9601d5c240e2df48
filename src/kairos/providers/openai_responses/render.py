"""The Responses renderer: a scripted reply as OpenAI's ``/v1/responses`` exact bytes.

Shapes from the recorded bodies in ``tests/providers/openai-responses/fixtures``: named SSE
events with a ``sequence_number``; ``response.created`` and ``response.in_progress``; one output
item per run of pieces, each opened by ``response.output_item.added``, streamed as deltas and
closed by its ``.done`` events and ``response.output_item.done``; then ``response.completed``
(or ``response.incomplete`` for a ``length`` / ``content_filter`` finish) with the whole
response and its usage. Items (ids from ``ids.py``, shared per response like OpenAI's):

* text: a ``message`` item with one ``output_text`` part; the ``Cite`` pieces before its text
  are ``url_citation`` annotations (``start_index``/``end_index`` in the part's text), streamed
  as ``response.output_text.annotation.added`` events and listed on the finished part;
* reasoning: a ``reasoning`` item with one ``summary_text`` part; a signed piece ends the item,
  and its signature is the item's ``encrypted_content``; unsigned reasoning gets an emulated
  one (``_frames.signature_for``) when the request asks for it (``include:
  ["reasoning.encrypted_content"]``), as the API does; ``Redacted`` is a reasoning item with
  no summary, its data the ``encrypted_content``;
* a refusal: a ``message`` item with a ``refusal`` part (``response.refusal.delta`` events); the
  response is ``completed``, as OpenAI ends a refusal;
* a call: a ``function_call`` item.

A failure is the recorded pair: an ``error`` event ``{type: "error", error: {type, code,
message, param}}``, then ``response.failed``. HTTP errors have the Chat Completions body and
statuses.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..._replies import Call, Cite, Fail, Pause, Reasoning, Redacted, Refusal, Text
from ...llm import Usage
from .._frames import Ctx, Frame, fragments, signature_for, spans, sse
from ..openai_chat.render import error_object as chat_error
from ..openai_chat.render import error_status, http_error_body
from . import ids

__all__ = ["body", "error_object", "error_status", "http_error_body", "stream"]

_INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}
_ITEM = Text | Reasoning | Redacted | Refusal | Call
_ENCRYPTED = "reasoning.encrypted_content"


def _usage(u: Usage) -> dict[str, Any]:
    out: dict[str, Any] = {"input_tokens": u.prompt_tokens}
    if u.cached_tokens is not None:
        out["input_tokens_details"] = {"cached_tokens": u.cached_tokens}
    out["output_tokens"] = u.completion_tokens
    if u.reasoning_tokens is not None:
        out["output_tokens_details"] = {"reasoning_tokens": u.reasoning_tokens}
    out["total_tokens"] = u.total_tokens
    return out


def _reason(ctx: Ctx) -> str | None:
    """Why the response is incomplete (None: it is not). A refusal completes the response."""
    reply = ctx.reply
    if reply.refusal and reply.finish_reason is None:
        return None
    finish = reply.resolved_finish()
    return _INCOMPLETE.get(finish) or (None if finish in ("stop", "tool_calls") else finish)


def _response(ctx: Ctx, status: str, output: list[dict[str, Any]], **end: Any) -> dict[str, Any]:
    reason = _reason(ctx)
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


def _encrypts(ctx: Ctx) -> bool:
    include = (ctx.request or {}).get("include")
    return isinstance(include, list) and _ENCRYPTED in include


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
        self.signature: str | None = None  # the open reasoning item's (it ends the item)
        self.stem = ids.stem(ctx.seed)
        self.reasoned = ids.NONE  # output index of the response's last reasoning item
        self.chars = 0  # characters of content in the finished message items
        self.cites = _cites(ctx)  # with the span of the text each supports
        self.calls = 0

    def event(self, kind: str, **fields: Any) -> bytes:
        obj = {"type": kind, "sequence_number": self.seq, **fields}
        self.seq += 1
        return sse(obj, kind)

    def _where(self, **more: Any) -> dict[str, Any]:
        return {"item_id": self.item["id"], "output_index": len(self.done), **more}

    def piece(self, piece: Text | Reasoning | Redacted | Refusal | Call) -> list[bytes]:
        """The events of one piece: a new item when the piece does not continue the open one."""
        goes_on = self.kind is type(piece) and not isinstance(piece, Call | Redacted)
        out = [] if goes_on and not self.signature else self.open(piece)
        return out + self.delta(piece)

    def open(self, piece: Text | Reasoning | Redacted | Refusal | Call) -> list[bytes]:
        out = self.close()
        self.kind, self.text, n = type(piece), [], len(self.done)
        if isinstance(piece, Call):
            call_id = self.ctx.call_id("call_", self.calls, piece)
            self.calls += 1
            self.item = {"id": ids.item_id("fc_", self.stem, n, self.reasoned)}
            self.item.update(type="function_call", status="in_progress", arguments="")
            self.item.update(call_id=call_id, name=piece.name)
            return [*out, self._added()]
        if isinstance(piece, Reasoning | Redacted):
            self.item = {"id": ids.item_id("rs_", self.stem, n), "type": "reasoning", "summary": []}
            if isinstance(piece, Redacted):
                return [*out, self._added()]
            where = self._where(summary_index=0, part={"type": "summary_text", "text": ""})
            return [
                *out,
                self._added(),
                self.event("response.reasoning_summary_part.added", **where),
            ]
        self.item = {"id": ids.item_id("msg_", self.stem, n), "type": "message"}
        self.item.update(status="in_progress", content=[], role="assistant")
        part = {"type": "refusal", "refusal": ""} if isinstance(piece, Refusal) else _text_part("")
        where = self._where(content_index=0, part=part)
        return [*out, self._added(), self.event("response.content_part.added", **where)]

    def _added(self) -> bytes:
        where = {"output_index": len(self.done), "item": self.item}
        return self.event("response.output_item.added", **where)

    def delta(self, piece: Text | Reasoning | Redacted | Refusal | Call) -> list[bytes]:
        if isinstance(piece, Call):
            out = []
            for frag in fragments(piece.arguments_json()):
                self.text.append(frag)
                where = self._where(delta=frag)
                out.append(self.event("response.function_call_arguments.delta", **where))
            return out
        if isinstance(piece, Redacted):
            self.item["encrypted_content"] = piece.data
            return []
        self.text.append(piece.text)
        if isinstance(piece, Text):
            where = self._where(content_index=0, delta=piece.text, logprobs=[])
            return [self.event("response.output_text.delta", **where)]
        if isinstance(piece, Refusal):
            where = self._where(content_index=0, delta=piece.text)
            return [self.event("response.refusal.delta", **where)]
        self.signature = piece.signature
        where = self._where(summary_index=0, delta=piece.text)
        return [self.event("response.reasoning_summary_text.delta", **where)]

    def close(self) -> list[bytes]:
        if self.kind is None:
            return []
        if self.kind is Text:
            out = self._close_text()
        elif self.kind is Refusal:
            out = self._close_refusal()
        elif self.kind in (Reasoning, Redacted):
            out = self._close_reasoning()
        else:
            where = self._where(arguments="".join(self.text))
            out = [self.event("response.function_call_arguments.done", **where)]
            self.item.update(status="completed", arguments="".join(self.text))
        where = {"output_index": len(self.done), "item": self.item}
        out.append(self.event("response.output_item.done", **where))
        self.done.append(self.item)
        self.kind, self.signature = None, None
        return out

    def _close_text(self) -> list[bytes]:
        text, out = "".join(self.text), []
        part = _text_part(text)
        for cite, (start, end, _) in self.cites:
            if self.chars <= start < self.chars + len(text) and end > start:
                note = {"type": "url_citation", "start_index": start - self.chars}
                note.update(end_index=end - self.chars, title=cite.title or "", url=cite.url)
                where = self._where(content_index=0, annotation_index=len(part["annotations"]))
                out.append(
                    self.event("response.output_text.annotation.added", **where, annotation=note)
                )
                part["annotations"].append(note)
        self.chars += len(text)
        where = self._where(content_index=0, text=text, logprobs=[])
        out.append(self.event("response.output_text.done", **where))
        where = self._where(content_index=0, part=part)
        out.append(self.event("response.content_part.done", **where))
        self.item.update(status="completed", content=[part])
        return out

    def _close_refusal(self) -> list[bytes]:
        text = "".join(self.text)
        part = {"type": "refusal", "refusal": text}
        out = [self.event("response.refusal.done", **self._where(content_index=0, refusal=text))]
        out.append(
            self.event("response.content_part.done", **self._where(content_index=0, part=part))
        )
        self.item.update(status="completed", content=[part])
        return out

    def _close_reasoning(self) -> list[bytes]:
        self.reasoned = len(self.done)
        if self.kind is Redacted:
            return []
        text, out = "".join(self.text), []
        part = {"type": "summary_text", "text": text}
        where = self._where(summary_index=0, text=text)
        out.append(self.event("response.reasoning_summary_text.done", **where))
        where = self._where(summary_index=0, part=part)
        out.append(self.event("response.reasoning_summary_part.done", **where))
        self.item["summary"] = [part]
        if self.signature or _encrypts(self.ctx):
            self.item["encrypted_content"] = self.signature or signature_for(text)
        return out


def _cites(ctx: Ctx) -> list[tuple[Cite, tuple[int, int, str]]]:
    pieces = ctx.reply.pieces
    found = spans(pieces)
    return [(p, found[i]) for i, p in enumerate(pieces) if isinstance(p, Cite) and i in found]


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "annotations": [], "text": text}


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
        elif isinstance(piece, _ITEM):
            yield from items.piece(piece)
    yield from items.close()
    end = _response(ctx, "completed", items.done)
    yield items.event(f"response.{end['status']}", response=end)


def _failed(err: dict[str, Any]) -> dict[str, Any]:
    """A failed response's ``error`` (``{code, message}``) for the error event's object."""
    return {"code": err.get("code") or err.get("type"), "message": err.get("message")}


def body(ctx: Ctx) -> dict[str, Any]:
    """The response object: the same items as the stream's (``render_body`` handles a Fail)."""
    items = _Items(ctx)
    for piece in ctx.reply.pieces:
        if isinstance(piece, _ITEM):
            items.piece(piece)
    items.close()
    return _response(ctx, "completed", items.done)


def error_object(fail: Fail, in_band: bool) -> dict[str, Any]:
    """The HTTP error body (the Chat Completions shape), or an ``error`` event's fields."""
    obj = chat_error(fail, False)
    return {"type": "error", **obj} if in_band else obj
