"""Anthropic Messages stream events -> deltas (see the package docstring for the events).

Tool input arrives as ``input_json_delta`` fragments, kept as received (never re-parsed per
fragment); input that is not a JSON object is the caller's to detect with
``ToolCall.parsed_arguments()``, as on every wire (see ``kairos.llm``). Fields of the wrong
type count as absent.

The ordered turn: a text block starts a new text part (its ``citations_delta`` entries are its
citations); a ``thinking`` block is a reasoning block whose ``signature_delta`` is its
signature; a ``redacted_thinking`` block a reasoning block of opaque ``data``; ``tool_use``
keeps its ``caller``; any other block (server tools and their results) is a provider part, sent
whole (with its input joined) when it closes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..._codec import Delta, PartDelta, ToolDelta, dumps, loads
from ...errors import ProtocolError
from ...llm import Usage
from .._base import as_dict, as_int, as_str
from .errors import inband_error
from .output import OUTPUT_TOOL
from .parts import WIRE_KEY, citation

__all__ = ["Parser", "UsageCounts", "body_deltas"]


class UsageCounts:
    """Usage counts seen so far. ``message_start`` has the input side, ``message_delta`` the
    cumulative output count (and, on newer servers, the input counts again)."""

    __slots__ = ("cache_creation", "cache_read", "input", "output", "thinking")

    def __init__(self) -> None:
        self.input = self.output = self.cache_read = self.cache_creation = 0
        self.thinking: int | None = None

    def update(self, u: Any) -> Usage | None:
        if not isinstance(u, dict):
            return None
        for attr, key in (
            ("input", "input_tokens"),
            ("output", "output_tokens"),
            ("cache_read", "cache_read_input_tokens"),
            ("cache_creation", "cache_creation_input_tokens"),
        ):
            value = as_int(u.get(key))
            if value is not None:
                setattr(self, attr, value)
        details = u.get("output_tokens_details")
        if isinstance(details, dict) and as_int(details.get("thinking_tokens")) is not None:
            self.thinking = details["thinking_tokens"]
        return self.build()

    def build(self) -> Usage:
        # Anthropic's input_tokens excludes cached tokens; kairos' prompt_tokens counts every
        # prompt token (as Chat Completions does), with the cache reads also in cached_tokens.
        prompt = self.input + self.cache_read + self.cache_creation
        return Usage(
            prompt_tokens=prompt,
            completion_tokens=self.output,
            total_tokens=prompt + self.output,
            cached_tokens=self.cache_read,
            reasoning_tokens=self.thinking,
        )


@dataclass(slots=True)
class _ToolBlock:
    pos: int  # position among the message's tool calls (not the content-block index)
    name: str
    input: Any  # the input object given at block start
    parts: list[str] = field(default_factory=list)


class Parser:
    def __init__(self, provider: str) -> None:
        self._provider = provider
        self._usage = UsageCounts()
        self._tools: dict[int, _ToolBlock] = {}  # open tool_use blocks by content-block index
        self._others: dict[int, tuple[dict[str, Any], list[str]]] = {}  # provider blocks
        self._calls = 0
        # blocks of the structured-output tool (see ``output.py``): index -> input at start
        self._output: dict[int, Any] = {}
        self._answered = False  # the output tool's input arrived: it is the answer's text
        self.complete = False
        self.response_id: str | None = None  # the message's id (message_start)

    def parse(self, event: str, data: str | bytes) -> Delta | None:
        obj = loads(data, self._provider)
        if not isinstance(obj, dict):
            raise ProtocolError(f"expected a JSON object in the stream, got {type(obj).__name__}")
        kind = obj.get("type")
        if kind.__class__ is not str:
            kind = event
        if kind == "content_block_delta" and event != "error":  # hot: one text piece
            delta = obj.get("delta")
            if delta.__class__ is dict and delta.get("type") == "text_delta":
                text = delta.get("text")
                if text.__class__ is str:
                    return Delta(text) if text else None
            return self._block_delta(obj)
        if kind == "error" or event == "error":
            return Delta(error=inband_error(self._provider, obj))
        if kind == "content_block_delta":
            return self._block_delta(obj)
        if kind == "content_block_start":
            return self.block_start(obj)
        if kind == "content_block_stop":
            return self.block_stop(obj)
        if kind == "message_start":
            msg = as_dict(obj.get("message"))
            model = msg.get("model")
            self.response_id = as_str(msg.get("id"))
            return Delta(
                usage=self._usage.update(msg.get("usage")),
                model=model if isinstance(model, str) else None,
            )
        if kind == "message_delta":
            return self._message_delta(obj)
        if kind == "message_stop":
            self.complete = True
            return Delta(end=True)
        return None  # ping and event types added after this codec was written

    def block_start(self, obj: dict[str, Any]) -> Delta | None:
        index, block = obj.get("index"), obj.get("content_block")
        if not isinstance(block, dict) or not isinstance(index, int):
            return None
        kind = str(block.get("type"))
        if kind == "text":
            text = block.get("text")
            events = [PartDelta("text_start")]
            if isinstance(text, str) and text:
                events.append(PartDelta("text", text))
            for raw in block.get("citations") or ():
                if isinstance(raw, dict):
                    events.append(PartDelta("citation", citation=citation(raw)))
            return Delta(tools=events)
        if kind == "thinking":
            text, sig = block.get("thinking"), block.get("signature")
            text = text if isinstance(text, str) else ""
            sig = sig if isinstance(sig, str) and sig else None
            return Delta(tools=[PartDelta("reasoning", text, signature=sig, new=True)])
        if kind == "redacted_thinking":
            data = block.get("data")
            data = data if isinstance(data, str) else ""
            return Delta(tools=[PartDelta("reasoning", data=data, new=True, close=True)])
        if kind != "tool_use":
            self._others[index] = (block, [])  # sent whole when it closes
            return None
        if block.get("name") == OUTPUT_TOOL:
            self._output[index] = block.get("input")
            return None
        tool = _ToolBlock(self._calls, str(block.get("name") or ""), block.get("input"))
        self._calls += 1
        self._tools[index] = tool
        caller = block.get("caller")
        data = {WIRE_KEY: {"caller": caller}} if isinstance(caller, dict) else None
        return Delta(tools=[ToolDelta(tool.pos, str(block.get("id") or ""), tool.name, "", data)])

    def _block_delta(self, obj: dict[str, Any]) -> Delta | None:
        delta = obj.get("delta")
        if not isinstance(delta, dict):
            return None
        kind = delta.get("type")
        if kind == "text_delta":
            text = delta.get("text")
            return Delta(content=text) if isinstance(text, str) and text else None
        if kind == "thinking_delta":
            text = delta.get("thinking")
            return Delta(reasoning=text) if isinstance(text, str) and text else None
        if kind == "input_json_delta":
            index = as_int(obj.get("index"))  # the index may be any JSON value, even a list
            if index in self._output:
                return self._answer(delta.get("partial_json"))
            tool = None if index is None else self._tools.get(index)
            piece = delta.get("partial_json")
            if not isinstance(piece, str) or not piece:
                return None  # an empty first fragment
            if tool is None:
                other = None if index is None else self._others.get(index)
                if other is not None:
                    other[1].append(piece)  # a server tool's input
                return None
            tool.parts.append(piece)
            return Delta(tools=[ToolDelta(tool.pos, None, None, piece)])
        if kind == "signature_delta":
            sig = delta.get("signature")
            return Delta(tools=[PartDelta("signature", sig)]) if isinstance(sig, str) else None
        if kind == "citations_delta":
            raw = delta.get("citation")
            if isinstance(raw, dict):
                return Delta(tools=[PartDelta("citation", citation=citation(raw))])
        return None  # newer delta types

    def block_stop(self, obj: dict[str, Any]) -> Delta | None:
        index = as_int(obj.get("index"))
        if index in self._output:  # the output tool: its input given whole at start, if any
            given = self._output.pop(index)
            if not self._answered and isinstance(given, dict) and given:
                return self._answer(dumps(given).decode())
            return None
        tool = None if index is None else self._tools.pop(index, None)
        if tool is None:
            other = None if index is None else self._others.pop(index, None)
            return None if other is None else _provider_part(*other)
        if not tool.parts and isinstance(tool.input, dict) and tool.input:
            # no fragments: the input given at block start (non-empty only in odd servers)
            return Delta(tools=[ToolDelta(tool.pos, None, None, dumps(tool.input).decode())])
        # the input is kept as the text received, valid JSON or not (the contract's rule:
        # ToolCall.parsed_arguments() says whether it is); a call without input is "{}"
        return None

    def _answer(self, piece: Any) -> Delta | None:
        """A piece of the structured-output tool's input: the answer's text."""
        if not isinstance(piece, str) or not piece:
            return None
        self._answered = True
        return Delta(content=piece)

    def stop_reason(self, stop: Any) -> Any:
        """``stop_reason`` as reported: ``end_turn`` when the only tool was the structured-output
        tool (the turn answered), else as given."""
        if stop == "tool_use" and self._answered and not self._calls:
            return "end_turn"
        return stop

    def _message_delta(self, obj: dict[str, Any]) -> Delta:
        delta = as_dict(obj.get("delta"))
        stop = delta.get("stop_reason")
        finish = stop if isinstance(stop, str) else None
        finish = self.stop_reason(finish)
        if finish:
            self.complete = True  # a body ending right after this is not truncated
        return Delta(usage=self._usage.update(obj.get("usage")), finish=finish)


def _provider_part(block: dict[str, Any], pieces: list[str]) -> Delta:
    """A closed server-side block, whole: its streamed input joined (when it has one)."""
    if pieces:
        try:
            block = {**block, "input": json.loads("".join(pieces))}
        except (ValueError, RecursionError):
            block = {**block, "input": "".join(pieces)}  # cut by max_tokens: kept as text
    return Delta(tools=[PartDelta("part", raw=block)])


def body_deltas(parser: Parser, blocks: list[Any]) -> list[Delta]:
    """The deltas of a non-stream answer's content blocks: each block read as a stream would
    have carried it (start, then stop), so both give the same ordered turn."""
    out: list[Delta] = []
    for index, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        for d in (
            parser.block_start({"index": index, "content_block": block}),
            parser.block_stop({"index": index}),
        ):
            if d is not None:
                out.append(d)
    return out
