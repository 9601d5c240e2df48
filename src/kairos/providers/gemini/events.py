"""Gemini stream chunks -> deltas (each SSE data line is a whole ``GenerateContentResponse``).

See the package docstring for the wire facts, the generated tool-call ids and why thought
signatures travel on the call's ``provider_data``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..._codec import Delta, ToolDelta, loads
from ...errors import ProtocolError
from ...llm import Usage
from .._base import as_dict, as_int
from .errors import inband_error
from .request import GENERATED_ID_PREFIX, WIRE_KEY

__all__ = ["BLOCKED", "Parser"]

BLOCKED = "blockReason:"  # raw finish reason of a prompt blocked before any candidate


def _usage(u: Any) -> Usage | None:
    if not isinstance(u, dict):
        return None
    prompt = as_int(u.get("promptTokenCount")) or 0
    thoughts = as_int(u.get("thoughtsTokenCount"))
    # candidatesTokenCount excludes thoughts; kairos' completion count includes reasoning (as
    # Chat Completions' does), so completion = candidates + thoughts, and thoughts are also
    # reasoning_tokens. The total also counts tool-use prompt tokens (totalTokenCount).
    completion = (as_int(u.get("candidatesTokenCount")) or 0) + (thoughts or 0)
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=as_int(u.get("totalTokenCount")) or prompt + completion,
        cached_tokens=as_int(u.get("cachedContentTokenCount")),
        reasoning_tokens=thoughts,
    )


def _call_id(response_id: str, index: int, name: str, args: str) -> str:
    seed = f"{response_id}|{index}|{name}|{args}"
    return GENERATED_ID_PREFIX + hashlib.sha256(seed.encode()).hexdigest()[:24]


class Parser:
    """Per-stream state: how many tool calls came so far."""

    __slots__ = ("_calls", "_last_usage", "_provider", "complete")

    def __init__(self, provider: str) -> None:
        self._provider = provider
        self._calls = 0
        self._last_usage: tuple[Any, Usage | None] = (None, None)  # raw usageMetadata, parsed
        self.complete = False

    def parse(self, event: str, data: str | bytes) -> Delta | None:
        obj = loads(data, self._provider)
        if not isinstance(obj, dict):
            raise ProtocolError(f"expected a JSON object in the stream, got {type(obj).__name__}")
        return self.chunk(obj)

    def chunk(self, obj: dict[str, Any]) -> Delta | None:
        if obj.get("error") is not None:
            return Delta(error=inband_error(self._provider, obj["error"]))
        # the hot path (once per chunk): the type checks of _dict written inline
        candidates = obj.get("candidates")
        cand = candidates[0] if candidates.__class__ is list and candidates else None
        if cand.__class__ is not dict:
            cand = {}
        body = cand.get("content")
        parts = body.get("parts") if body.__class__ is dict else None
        part = parts[0] if parts.__class__ is list and len(parts) == 1 else None
        tools: list[ToolDelta] | None = None
        if part.__class__ is dict and "functionCall" not in part:  # hot: one text part
            text = part.get("text")
            content = text if text.__class__ is str else ""
            reasoning = ""
            if part.get("thought") is True:
                content, reasoning = "", content
        else:
            content, reasoning, tools = self._parts(parts if isinstance(parts, list) else [], obj)
        finish = cand.get("finishReason")
        if finish.__class__ is not str or not finish:
            finish = None
        if finish is None and not cand:
            block = as_dict(obj.get("promptFeedback")).get("blockReason")
            finish = f"{BLOCKED}{block}" if isinstance(block, str) and block else None
        if finish is not None:
            self.complete = True
        raw_usage = obj.get("usageMetadata")  # sent with every chunk, usually unchanged
        if raw_usage is None or raw_usage != self._last_usage[0]:
            self._last_usage = (raw_usage, _usage(raw_usage))
        usage = self._last_usage[1]
        model = obj.get("modelVersion")
        if not (content or reasoning or tools or finish or usage or model):
            return None
        # the chunk with the finish reason and the final usage is the last one Gemini sends:
        # end there, so a server keeping the socket open cannot stall a complete answer (and
        # a repeated last chunk is ignored)
        end = finish is not None and usage is not None
        model = model if model.__class__ is str else None
        return Delta(content, reasoning, tools or None, usage, finish, model, None, end)

    def _parts(self, parts: list[Any], obj: dict[str, Any]) -> tuple[str, str, list[ToolDelta]]:
        content: list[str] = []
        reasoning: list[str] = []
        tools: list[ToolDelta] = []
        for part in parts:
            if not isinstance(part, dict):
                continue
            call = part.get("functionCall")
            if isinstance(call, dict):
                tools.append(self._tool(call, part.get("thoughtSignature"), obj))
                continue
            text = part.get("text")
            if isinstance(text, str) and text:
                (reasoning if part.get("thought") is True else content).append(text)
            # executableCode, codeExecutionResult, inlineData, signature-only parts: not text
        return "".join(content), "".join(reasoning), tools

    def _tool(self, call: dict[str, Any], signature: Any, obj: dict[str, Any]) -> ToolDelta:
        name = call.get("name")
        name = name if isinstance(name, str) else ""
        raw_args = call.get("args")
        args = json.dumps(
            raw_args if raw_args is not None else {}, ensure_ascii=False, separators=(",", ":")
        )
        index = self._calls
        self._calls += 1
        wire_id = call.get("id")
        if isinstance(wire_id, str) and wire_id:
            call_id = wire_id
        else:
            response_id = obj.get("responseId")
            call_id = _call_id(str(response_id or ""), index, name, args)
        data = None
        if isinstance(signature, str) and signature:
            data = {WIRE_KEY: {"thoughtSignature": signature}}
        return ToolDelta(index, call_id, name, args, data)
