"""Gemini stream chunks -> deltas (each SSE data line is a whole ``GenerateContentResponse``).

See the package docstring for the wire facts, the generated tool-call ids and why thought
signatures travel on the call's ``provider_data``.

The ordered turn: a chunk of one plain text (or thought) part is the hot path. Any other chunk
is read part by part, in order: a part with a ``thoughtSignature`` is a part of its own that
keeps it (a text part's ``provider_data``, a thought's reasoning-block ``signature``, a
function call's ``provider_data``); unsigned thoughts join one reasoning block; parts that are
neither text nor calls (``executableCode``, ``codeExecutionResult``...) are provider parts,
sent back as received. ``groundingMetadata`` becomes the answer's citations: one per grounding
chunk a support cites, with the supported segment (Gemini counts its offsets in UTF-8 bytes).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..._codec import Delta, PartDelta, ToolDelta, loads
from ...errors import ProtocolError
from ...llm import Citation, Usage
from .._base import as_dict, as_int, as_str
from .errors import inband_error
from .parts import GENERATED_ID_PREFIX, WIRE_KEY

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

    __slots__ = ("_calls", "_grounding", "_last_usage", "_provider", "complete", "response_id")

    def __init__(self, provider: str) -> None:
        self._provider = provider
        self._calls = 0
        self._grounding: Any = None  # the last groundingMetadata read
        self._last_usage: tuple[Any, Usage | None] = (None, None)  # raw usageMetadata, parsed
        self.complete = False
        self.response_id: str | None = None  # responseId (read off the last chunk)

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
        tools: list[ToolDelta | PartDelta] | None = None
        content = reasoning = ""
        if part.__class__ is dict and "text" in part and "thoughtSignature" not in part:
            text = part.get("text")  # hot: one plain text part
            content = text if text.__class__ is str else ""
            if part.get("thought") is True:
                content, reasoning = "", content
        elif parts:
            tools = self._parts(parts if isinstance(parts, list) else [], obj)
        if "groundingMetadata" in cand:
            tools = self._citations(cand["groundingMetadata"], tools)
        finish = cand.get("finishReason")
        if finish.__class__ is not str or not finish:
            finish = None
        if finish is None and not cand:
            block = as_dict(obj.get("promptFeedback")).get("blockReason")
            finish = f"{BLOCKED}{block}" if isinstance(block, str) and block else None
        if finish is not None:
            self.complete = True
            rid = obj.get("responseId")  # every chunk has it: read once, off the hot path
            self.response_id = rid if isinstance(rid, str) else self.response_id
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

    def _parts(self, parts: list[Any], obj: dict[str, Any]) -> list[ToolDelta | PartDelta]:
        """Every part of a chunk, in order (see the module docstring)."""
        items: list[ToolDelta | PartDelta] = []
        for part in parts:
            if not isinstance(part, dict):
                continue
            sig = as_str(part.get("thoughtSignature")) or None
            call = part.get("functionCall")
            if isinstance(call, dict):
                items.append(self._tool(call, sig, obj))
                continue
            text = part.get("text")
            if not isinstance(text, str):
                items.append(PartDelta("part", raw=part))  # code execution, inline data...
            elif part.get("thought") is True:
                close = sig is not None  # a signed thought is a block of its own
                items.append(PartDelta("reasoning", text, signature=sig, new=close, close=close))
            elif text or sig is not None:
                data = None if sig is None else {WIRE_KEY: {"thoughtSignature": sig}}
                items.append(PartDelta("text", text, provider_data=data))
        return items

    def _citations(self, meta: Any, items: Any) -> Any:
        """The answer's citations from a ``groundingMetadata`` (once per distinct value)."""
        if not isinstance(meta, dict) or meta == self._grounding:
            return items
        self._grounding = meta
        chunks = [as_dict(as_dict(c).get("web")) for c in meta.get("groundingChunks") or ()]
        out: list[ToolDelta | PartDelta] = list(items or ())
        supports = meta.get("groundingSupports")
        for support in supports if isinstance(supports, list) else ():
            seg = as_dict(as_dict(support).get("segment"))
            for i in as_dict(support).get("groundingChunkIndices") or ():
                web = chunks[i] if isinstance(i, int) and 0 <= i < len(chunks) else {}
                cite = Citation(
                    url=as_str(web.get("uri")),
                    title=as_str(web.get("title")),
                    cited_text=as_str(seg.get("text")),
                    start=as_int(seg.get("startIndex")) or 0,
                    end=as_int(seg.get("endIndex")),
                )
                out.append(PartDelta("answer_citation", citation=cite, data="utf-8"))
        if not supports:  # sources without supported segments
            for web in chunks:
                cite = Citation(url=as_str(web.get("uri")), title=as_str(web.get("title")))
                out.append(PartDelta("answer_citation", citation=cite))
        return out or None

    def _tool(self, call: dict[str, Any], signature: str | None, obj: dict[str, Any]) -> ToolDelta:
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
        data = None if signature is None else {WIRE_KEY: {"thoughtSignature": signature}}
        return ToolDelta(index, call_id, name, args, data)
