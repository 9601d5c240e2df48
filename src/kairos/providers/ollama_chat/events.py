"""Ollama NDJSON lines -> deltas (the hot path: once per line of every stream).

See the package docstring for the wire facts. Tool calls arrive whole; calls without an id get
a deterministic one. Fields of the wrong type count as absent.
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

__all__ = ["Parser"]


def _arguments(value: Any) -> str:
    """``function.arguments`` as JSON text: objects are serialised, a string is kept as is."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _usage(obj: dict[str, Any]) -> Usage | None:
    prompt, completion = as_int(obj.get("prompt_eval_count")), as_int(obj.get("eval_count"))
    if prompt is None and completion is None:
        return None
    prompt, completion = prompt or 0, completion or 0
    return Usage(prompt, completion, prompt + completion)


class Parser:
    """Per-stream state: how many tool calls came so far and which ids were used."""

    __slots__ = ("_ids", "_provider", "complete")

    def __init__(self, provider: str) -> None:
        self._provider = provider
        self._ids: set[str] = set()
        self.complete = False

    def parse(self, event: str, data: str | bytes) -> Delta | None:
        obj = loads(data, self._provider)
        if not isinstance(obj, dict):
            raise ProtocolError(f"expected a JSON object in the stream, got {type(obj).__name__}")
        if "error" in obj and obj["error"] is not None:
            return Delta(error=inband_error(self._provider, obj["error"]))
        # the hot path (once per line): the type checks written inline, positional Delta
        message = obj.get("message")
        if message.__class__ is not dict:
            message = {}
        content = message.get("content") or obj.get("response") or ""
        reasoning = message.get("thinking") or obj.get("thinking") or ""
        raw_calls = message.get("tool_calls")
        tools = self._tools(raw_calls, obj) if raw_calls else None
        done = obj.get("done") is True
        if done:
            self.complete = True
        if not (content or reasoning or tools or done):
            return None
        reason = obj.get("done_reason")  # any JSON value: only a string is a reason
        model = obj.get("model")
        return Delta(
            content if content.__class__ is str else "",
            reasoning if reasoning.__class__ is str else "",
            tools,
            _usage(obj) if done else None,
            reason if done and reason.__class__ is str else None,
            model if model.__class__ is str else None,
            None,
            done,
        )

    def _tools(self, raw: Any, obj: dict[str, Any]) -> list[ToolDelta] | None:
        if not isinstance(raw, list) or not raw:
            return None
        out = []
        for call in raw:
            fn = as_dict(as_dict(call).get("function"))
            name = fn.get("name")
            name = name if isinstance(name, str) else ""
            args = _arguments(fn.get("arguments"))
            index = len(self._ids)  # each entry is a whole call: its position among calls
            wire_id = as_dict(call).get("id")
            if isinstance(wire_id, str) and wire_id and wire_id not in self._ids:
                call_id = wire_id
            else:
                call_id = _call_id(obj, index, name, args, self._ids)
            self._ids.add(call_id)
            out.append(ToolDelta(index, call_id, name, args))
        return out


def _call_id(obj: dict[str, Any], index: int, name: str, args: str, used: set[str]) -> str:
    """An id for a call the server sent without one: derived from the line's timestamp, the
    call's position, name and arguments, so the same bytes always give the same ids (``chat()``
    equals the drained stream) while calls in different turns or positions differ."""
    seed = f"{obj.get('created_at')}|{obj.get('model')}|{index}|{name}|{args}"
    call_id = "call_" + hashlib.sha256(seed.encode()).hexdigest()[:24]
    while call_id in used:  # cannot collide in practice; keep the promise anyway
        call_id = "call_" + hashlib.sha256(call_id.encode()).hexdigest()[:24]
    return call_id
