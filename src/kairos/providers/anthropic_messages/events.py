"""Anthropic Messages stream events -> deltas (see the package docstring for the events).

Tool input arrives as ``input_json_delta`` fragments, kept as received (never re-parsed per
fragment); input that is not a JSON object is the caller's to detect with
``ToolCall.parsed_arguments()``, as on every wire (see ``kairos.llm``). Fields of the wrong
type count as absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..._codec import Delta, ToolDelta, dumps, loads
from ...errors import ProtocolError
from ...llm import Usage
from .._base import as_dict, as_int
from .errors import inband_error

__all__ = ["Parser", "UsageCounts"]


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
        self._calls = 0
        self.complete = False

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
            return self._block_start(obj)
        if kind == "content_block_stop":
            return self._block_stop(obj)
        if kind == "message_start":
            msg = as_dict(obj.get("message"))
            model = msg.get("model")
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

    def _block_start(self, obj: dict[str, Any]) -> Delta | None:
        index, block = obj.get("index"), obj.get("content_block")
        if not isinstance(block, dict) or not isinstance(index, int):
            return None
        kind = str(block.get("type"))
        if kind == "text" and block.get("text"):
            return Delta(content=str(block["text"]))
        if kind == "thinking" and block.get("thinking"):
            return Delta(reasoning=str(block["thinking"]))
        if kind != "tool_use":
            return None
        tool = _ToolBlock(self._calls, str(block.get("name") or ""), block.get("input"))
        self._calls += 1
        self._tools[index] = tool
        return Delta(tools=[ToolDelta(tool.pos, str(block.get("id") or ""), tool.name)])

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
            tool = None if index is None else self._tools.get(index)
            piece = delta.get("partial_json")
            if tool is None or not isinstance(piece, str) or not piece:
                return None  # server-tool input, or an empty first fragment
            tool.parts.append(piece)
            return Delta(tools=[ToolDelta(tool.pos, None, None, piece)])
        return None  # signature_delta, citations_delta and newer delta types

    def _block_stop(self, obj: dict[str, Any]) -> Delta | None:
        index = as_int(obj.get("index"))
        tool = None if index is None else self._tools.pop(index, None)
        if tool is None:
            return None
        if not tool.parts and isinstance(tool.input, dict) and tool.input:
            # no fragments: the input given at block start (non-empty only in odd servers)
            return Delta(tools=[ToolDelta(tool.pos, None, None, dumps(tool.input).decode())])
        # the input is kept as the text received, valid JSON or not (the contract's rule:
        # ToolCall.parsed_arguments() says whether it is); a call without input is "{}"
        return None

    def _message_delta(self, obj: dict[str, Any]) -> Delta:
        delta = as_dict(obj.get("delta"))
        stop = delta.get("stop_reason")
        finish = stop if isinstance(stop, str) else None
        if finish:
            self.complete = True  # a body ending right after this is not truncated
        return Delta(usage=self._usage.update(obj.get("usage")), finish=finish)
