"""Responses stream events -> deltas (the hot path: once per event of every stream).

See the package docstring for the wire facts. Events are told apart by their ``type`` field
(OpenRouter sends no ``event:`` lines). Fields of the wrong type are treated as absent.

Items are tracked by ``output_index``: text and reasoning that streamed as deltas are never
taken again from the finished item, and a finished item whose text never streamed (a server
that sends whole items, or a non-stream answer) gives its text then. A function call's
arguments are completed from its ``.done`` events when fewer streamed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..._codec import Delta, ToolDelta, loads
from ...errors import ProtocolError
from ...llm import FinishReason, Usage
from .._base import as_dict, as_int, as_str
from .errors import event_error, failed_error

__all__ = ["WIRE_KEY", "Parser", "finish_of", "normalised", "read_usage"]

WIRE_KEY = "openai-responses"  # the key of this wire's provider data
_TERMINAL = ("response.completed", "response.incomplete", "response.failed")


def read_usage(u: Any) -> Usage | None:
    if not isinstance(u, dict):
        return None
    tokens_in, tokens_out = as_int(u.get("input_tokens")) or 0, as_int(u.get("output_tokens")) or 0
    total = as_int(u.get("total_tokens")) or tokens_in + tokens_out
    cached = as_int(as_dict(u.get("input_tokens_details")).get("cached_tokens"))
    thinking = as_int(as_dict(u.get("output_tokens_details")).get("reasoning_tokens"))
    return Usage(tokens_in, tokens_out, total, cached, thinking)


def _texts(parts: Any, kind: str) -> str:
    """The ``text`` of the parts of one type (``output_text``, ``summary_text``...)."""
    if not isinstance(parts, list):
        return ""
    return "".join(
        p["text"]
        for p in parts
        if isinstance(p, dict) and p.get("type") == kind and isinstance(p.get("text"), str)
    )


def finish_of(response: dict[str, Any]) -> str | None:
    """The raw finish reason: the status, or an incomplete response's reason."""
    status = as_str(response.get("status"))
    if status == "incomplete":
        return as_str(as_dict(response.get("incomplete_details")).get("reason")) or status
    return status


def normalised(raw: str | None) -> FinishReason | None:
    """kairos' finish reason for a raw one. ``completed`` ends answers with tool calls too, so
    it gives None: the stream machine decides (``tool_calls`` when calls arrived, else
    ``stop``)."""
    if raw in ("max_output_tokens", "max_messages"):
        return "length"
    return "content_filter" if raw == "content_filter" else None


class Parser:
    """Per-stream state: which items streamed text, the arguments each call received, and the
    provider data held for later turns (finished reasoning items, refusal text)."""

    __slots__ = (
        "_args",
        "_done",
        "_provider",
        "_streamed",
        "complete",
        "reasoning_items",
        "refusal",
    )

    def __init__(self, provider: str) -> None:
        self._provider = provider
        self.complete = False
        # by output index (None when an event has none)
        self._streamed: set[int | None] = set()  # items whose text arrived as deltas
        self._args: dict[int | None, list[str]] = {}  # the argument pieces each call received
        self._done: set[int | None] = set()  # the finished items taken
        self.reasoning_items: list[dict[str, Any]] = []  # finished, not yet on a call
        self.refusal: list[str] = []  # held until refusals are part of the contract

    def parse(self, event: str, data: str | bytes) -> Delta | None:
        try:
            obj = loads(data, self._provider)
        except ProtocolError:
            if _done_marker(data):
                return None  # OpenRouter's "[DONE]" after the terminal event: not an end
            raise
        if obj.__class__ is not dict:
            raise ProtocolError(f"expected a JSON object in the stream, got {type(obj).__name__}")
        kind = obj.get("type")
        if kind == "response.output_text.delta":  # the hot path, inline
            text, index = obj.get("delta"), obj.get("output_index")
            self._streamed.add(index if index.__class__ is int else None)
            return Delta(text) if text.__class__ is str and text else None
        handler = _HANDLERS.get(kind if kind.__class__ is str else event)
        if handler is None:
            return None
        return handler(self, obj)

    # -- handlers ----------------------------------------------------------------------------
    def _text_delta(self, obj: dict[str, Any]) -> Delta | None:
        """A text delta whose data lacks its ``type`` (named by the ``event:`` line only)."""
        self._streamed.add(_index(obj))
        text = obj.get("delta")
        return Delta(text) if isinstance(text, str) and text else None

    def _reasoning_delta(self, obj: dict[str, Any]) -> Delta | None:
        self._streamed.add(_index(obj))
        text = obj.get("delta")
        return Delta("", text) if isinstance(text, str) and text else None

    def _refusal_delta(self, obj: dict[str, Any]) -> None:
        self._streamed.add(_index(obj))
        text = obj.get("delta")
        if isinstance(text, str):
            self.refusal.append(text)

    def _created(self, obj: dict[str, Any]) -> Delta | None:
        model = as_str(as_dict(obj.get("response")).get("model"))
        return Delta(model=model) if model else None

    def _item_added(self, obj: dict[str, Any]) -> Delta | None:
        item = as_dict(obj.get("item"))
        if item.get("type") != "function_call":
            return None
        return Delta(tools=[self._call(_index(obj), item)])

    def _call(self, index: int | None, item: dict[str, Any]) -> ToolDelta:
        """A function call's first piece: id, name, data and the arguments it brings."""
        args = as_str(item.get("arguments")) or ""
        self._args[index] = [args]
        data: dict[str, Any] = {"id": item["id"]} if isinstance(item.get("id"), str) else {}
        if self.reasoning_items:
            data["reasoning"], self.reasoning_items = self.reasoning_items, []
        call_id = as_str(item.get("call_id")) or as_str(item.get("id"))
        return ToolDelta(index, call_id, as_str(item.get("name")), args, {WIRE_KEY: data})

    def _arguments_delta(self, obj: dict[str, Any]) -> Delta | None:
        index, text = _index(obj), obj.get("delta")
        if not isinstance(text, str) or not text:
            return None
        self._args.setdefault(index, []).append(text)
        return Delta(tools=[ToolDelta(index, None, None, text)])

    def _arguments_done(self, obj: dict[str, Any]) -> Delta | None:
        rest = self._rest(_index(obj), obj.get("arguments"))
        return None if rest is None else Delta(tools=[rest])

    def _rest(self, index: int | None, final: Any) -> ToolDelta | None:
        """The arguments a finished call has beyond those received (none if they differ)."""
        got = self._args.get(index)
        if got is None or not isinstance(final, str):
            return None
        have = "".join(got)
        if len(final) <= len(have) or not final.startswith(have):
            return None
        got.append(final[len(have) :])
        return ToolDelta(index, None, None, got[-1])

    def _item_done(self, obj: dict[str, Any]) -> Delta | None:
        index = _index(obj)
        if index in self._done:
            return None
        content, reasoning, tools = self._finished(index, obj.get("item"))
        return Delta(content, reasoning, tools) if content or reasoning or tools else None

    def _finished(self, index: int | None, raw: Any) -> tuple[str, str, list[ToolDelta] | None]:
        """What a finished item adds to what streamed: (content, reasoning, tool pieces)."""
        self._done.add(index)
        item = as_dict(raw)
        kind = item.get("type")
        streamed = index in self._streamed
        if kind == "message":
            if streamed:
                return "", "", None
            parts = item.get("content")
            refusal = _texts(parts, "refusal")
            if refusal:
                self.refusal.append(refusal)
            return _texts(parts, "output_text"), "", None
        if kind == "reasoning":
            self.reasoning_items.append(item)
            if streamed:
                return "", "", None
            summary = _texts(item.get("summary"), "summary_text")
            return "", summary or _texts(item.get("content"), "reasoning_text"), None
        if kind == "function_call":
            if index not in self._args:
                return "", "", [self._call(index, item)]
            rest = self._rest(index, item.get("arguments"))
            return "", "", None if rest is None else [rest]
        return "", "", None

    def _terminal(self, obj: dict[str, Any]) -> Delta:
        self.complete = True
        response = as_dict(obj.get("response"))
        if obj.get("type") == "response.failed" or response.get("status") == "failed":
            return Delta(error=failed_error(self._provider, response), end=True)
        return self.whole(response)

    def whole(self, response: dict[str, Any]) -> Delta:
        """The end of the answer from the final response object: usage, finish, model, and
        the output items that did not stream (all of them for a non-stream answer)."""
        texts: list[str] = []
        thoughts: list[str] = []
        tools: list[ToolDelta] = []
        taken = self._streamed | self._done | set(self._args)
        output = response.get("output")
        if None not in taken and isinstance(output, list):
            for i, item in enumerate(output):
                if i not in taken:
                    text, thought, calls = self._finished(i, item)
                    texts.append(text)
                    thoughts.append(thought)
                    tools += calls or []
        return Delta(
            "".join(texts),
            "".join(thoughts),
            tools or None,
            read_usage(response.get("usage")),
            finish_of(response),
            as_str(response.get("model")),
            end=True,
        )

    def _error(self, obj: dict[str, Any]) -> Delta:
        return Delta(error=event_error(self._provider, obj))


def _index(obj: dict[str, Any]) -> int | None:
    index = obj.get("output_index")
    return index if index.__class__ is int else None


def _done_marker(data: str | bytes) -> bool:
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    return text.strip() == "[DONE]"


_HANDLERS: dict[Any, Callable[[Parser, dict[str, Any]], Delta | None]] = {
    "response.output_text.delta": Parser._text_delta,
    "response.reasoning_summary_text.delta": Parser._reasoning_delta,
    "response.reasoning_text.delta": Parser._reasoning_delta,
    "response.refusal.delta": Parser._refusal_delta,
    "response.function_call_arguments.delta": Parser._arguments_delta,
    "response.function_call_arguments.done": Parser._arguments_done,
    "response.output_item.added": Parser._item_added,
    "response.output_item.done": Parser._item_done,
    "response.created": Parser._created,
    "error": Parser._error,
    **dict.fromkeys(_TERMINAL, Parser._terminal),
}
