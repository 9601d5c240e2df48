"""Responses stream events -> deltas (the hot path: once per event of every stream).

See the package docstring for the wire facts. Events are told apart by their ``type`` field
(OpenRouter sends no ``event:`` lines). Fields of the wrong type are treated as absent.

Items are tracked by ``output_index``: text and reasoning that streamed as deltas are never
taken again from the finished item, and a finished item whose text never streamed (a server
that sends whole items, or a non-stream answer) gives its text then. A function call's
arguments are completed from its ``.done`` events when fewer streamed. The ordered turn (text
parts per message item, reasoning blocks, refusals, citations, server-side items) comes from
the finished items (``items.py``); a message's first text delta starts its text part.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..._codec import Delta, PartDelta, ToolDelta, loads
from ...errors import ProtocolError
from ...llm import FinishReason, Usage
from .._base import as_dict, as_int, as_str
from .errors import event_error, failed_error
from .items import message_events, other_events, reasoning_events, text_data
from .parts import WIRE_KEY

__all__ = ["WIRE_KEY", "Parser", "finish_of", "normalised", "read_usage"]

_TERMINAL = ("response.completed", "response.incomplete", "response.failed")


def read_usage(u: Any) -> Usage | None:
    if not isinstance(u, dict):
        return None
    tokens_in, tokens_out = as_int(u.get("input_tokens")) or 0, as_int(u.get("output_tokens")) or 0
    total = as_int(u.get("total_tokens")) or tokens_in + tokens_out
    cached = as_int(as_dict(u.get("input_tokens_details")).get("cached_tokens"))
    thinking = as_int(as_dict(u.get("output_tokens_details")).get("reasoning_tokens"))
    return Usage(tokens_in, tokens_out, total, cached, thinking)


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
    """Per-stream state: which items streamed, the arguments each call received, the message
    items whose text started, and how much content arrived (for citation offsets)."""

    __slots__ = (
        "_added",
        "_args",
        "_chars",
        "_done",
        "_provider",
        "_starts",
        "_streamed",
        "_text_at",
        "_texting",
        "complete",
    )

    def __init__(self, provider: str) -> None:
        self._provider = provider
        self.complete = False
        # by output index (None when an event has none)
        self._streamed: set[int | None] = set()  # items whose content arrived as deltas
        self._texting: set[int | None] = set()  # message items whose text part started
        self._args: dict[int | None, list[str]] = {}  # the argument pieces each call received
        self._done: set[int | None] = set()  # the finished items taken
        self._added: dict[int | None, dict[str, Any]] = {}  # message and reasoning items, as added
        self._chars = 0  # characters of content so far
        self._starts: dict[int | None, int] = {}  # where each message's text began
        self._text_at: int | None = -1  # the item whose text part is in progress

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
            if text.__class__ is str and text and index.__class__ is int and index in self._texting:
                self._chars += len(text)
                return Delta(text)
            return self._text_delta(obj)
        handler = _HANDLERS.get(kind if kind.__class__ is str else event)
        if handler is None:
            return None
        return handler(self, obj)

    # -- handlers ----------------------------------------------------------------------------
    def _text_delta(self, obj: dict[str, Any]) -> Delta | None:
        """A text delta off the hot path: the first of its item starts a text part."""
        index = _index(obj)
        self._streamed.add(index)
        text = obj.get("delta")
        if not isinstance(text, str) or not text:
            return None
        if index in self._texting:
            self._chars += len(text)
            return Delta(text)
        self._texting.add(index)
        self._starts.setdefault(index, self._chars)
        self._text_at = index
        self._chars += len(text)
        return Delta(tools=[PartDelta("text_start"), PartDelta("text", text)])

    def _reasoning_delta(self, obj: dict[str, Any]) -> Delta | None:
        """Reasoning text; the first piece of an item starts its block, named by the item id
        (its ``.done`` may come after later items: OpenRouter finishes them out of order)."""
        index, text = _index(obj), obj.get("delta")
        if not isinstance(text, str) or not text:
            self._streamed.add(index)
            return None
        if index in self._streamed:
            return Delta("", text)
        self._streamed.add(index)
        item_id = as_str(obj.get("item_id")) or as_str(self._added.get(index, {}).get("id"))
        return Delta(tools=[PartDelta("reasoning", text, new=True, id=item_id)])

    def _refusal_delta(self, obj: dict[str, Any]) -> Delta | None:
        self._streamed.add(_index(obj))
        text = obj.get("delta")
        return Delta(tools=[PartDelta("refusal", text)]) if isinstance(text, str) and text else None

    def _created(self, obj: dict[str, Any]) -> Delta | None:
        model = as_str(as_dict(obj.get("response")).get("model"))
        return Delta(model=model) if model else None

    def _item_added(self, obj: dict[str, Any]) -> Delta | None:
        item = as_dict(obj.get("item"))
        if item.get("type") in ("message", "reasoning"):
            self._added[_index(obj)] = item
        if item.get("type") != "function_call":
            return None
        return Delta(tools=[self._call(_index(obj), item)])

    def _part_added(self, obj: dict[str, Any]) -> Delta | None:
        """A message's second and later text parts start parts of their own."""
        index, part = _index(obj), as_dict(obj.get("part"))
        if part.get("type") != "output_text" or index not in self._texting:
            return None
        self._texting.discard(index)  # its first delta starts the new part
        return None

    def _part_done(self, obj: dict[str, Any]) -> Delta | None:
        """A finished text part of a message whose text streamed: its data, as received."""
        index, part = _index(obj), as_dict(obj.get("part"))
        if part.get("type") != "output_text" or self._text_at != index:
            return None
        item = self._added.get(index, {})
        return Delta(tools=[PartDelta("text_data", provider_data=text_data(item, part))])

    def _call(self, index: int | None, item: dict[str, Any]) -> ToolDelta:
        """A function call's first piece: id, name, data and the arguments it brings."""
        args = as_str(item.get("arguments")) or ""
        self._args[index] = [args]
        call_id = as_str(item.get("call_id")) or as_str(item.get("id"))
        return ToolDelta(index, call_id, as_str(item.get("name")), args, _call_data(item))

    def _arguments_delta(self, obj: dict[str, Any]) -> Delta | None:
        index, text = _index(obj), obj.get("delta")
        if not isinstance(text, str) or not text:
            return None
        self._args.setdefault(index, []).append(text)
        return Delta(tools=[ToolDelta(index, None, None, text)])

    def _arguments_done(self, obj: dict[str, Any]) -> Delta | None:
        rest = self._rest(_index(obj), obj.get("arguments"))
        return None if not rest else Delta(tools=[ToolDelta(_index(obj), None, None, rest)])

    def _rest(self, index: int | None, final: Any) -> str:
        """The arguments a finished call has beyond those received (none if they differ)."""
        got = self._args.get(index)
        if got is None or not isinstance(final, str):
            return ""
        have = "".join(got)
        if len(final) <= len(have) or not final.startswith(have):
            return ""
        got.append(final[len(have) :])
        return got[-1]

    def _item_done(self, obj: dict[str, Any]) -> Delta | None:
        index = _index(obj)
        if index in self._done:
            return None
        events = self._finished(index, as_dict(obj.get("item")))
        return Delta(tools=events) if events else None

    def _finished(self, index: int | None, item: dict[str, Any]) -> list[Any]:
        """The part events and tool pieces a finished item adds to what streamed."""
        self._done.add(index)
        kind = item.get("type")
        streamed = index in self._streamed
        if kind == "message":
            if not streamed:
                start: int | None = self._chars
            else:  # its text is the part in progress unless another item's text came since
                start = self._starts.get(index) if self._text_at == index else None
            events, size = message_events(item, start, streamed)
            self._chars += size
            return events
        if kind == "reasoning":
            return reasoning_events(item, streamed)
        if kind == "function_call":
            if index not in self._args:
                return [self._call(index, item)]
            rest = self._rest(index, item.get("arguments"))
            return [ToolDelta(index, None, None, rest, _call_data(item))]
        return other_events(item)

    def _terminal(self, obj: dict[str, Any]) -> Delta:
        self.complete = True
        response = as_dict(obj.get("response"))
        if obj.get("type") == "response.failed" or response.get("status") == "failed":
            return Delta(error=failed_error(self._provider, response), end=True)
        return self.whole(response)

    def whole(self, response: dict[str, Any]) -> Delta:
        """The end of the answer from the final response object: usage, finish, model, and
        the output items that did not stream (all of them for a non-stream answer)."""
        events: list[Any] = []
        seen = self._streamed | self._done | set(self._args)
        output = response.get("output")
        if None not in seen and isinstance(output, list):
            for i, item in enumerate(output):
                if i not in self._done:  # never finished: what did not stream, and its data
                    events += self._finished(i, as_dict(item))
        return Delta(
            tools=events or None,
            usage=read_usage(response.get("usage")),
            finish=finish_of(response),
            model=as_str(response.get("model")),
            end=True,
        )

    def _error(self, obj: dict[str, Any]) -> Delta:
        return Delta(error=event_error(self._provider, obj))


def _call_data(item: dict[str, Any]) -> dict[str, Any] | None:
    """A call's provider data: its item id and status (what the next turn sends back)."""
    data = {k: item[k] for k in ("id", "status") if isinstance(item.get(k), str)}
    return {WIRE_KEY: data} if data else None


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
    "response.content_part.added": Parser._part_added,
    "response.content_part.done": Parser._part_done,
    "response.created": Parser._created,
    "error": Parser._error,
    **dict.fromkeys(_TERMINAL, Parser._terminal),
}
