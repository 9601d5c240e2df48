"""Kairos stream chunks to UI message stream parts (pure: no I/O, no framework).

:class:`PartEncoder` turns one :class:`kairos.StreamChunk` at a time into the parts the Vercel AI
SDK's ``useChat`` reads; :func:`sse` frames a part as one server-sent event. The shapes are those
of ``uiMessageChunkSchema`` in the ``ai`` npm package (see the package docstring for the files
read). Text and reasoning are "blocks" with ids (``-start`` / ``-delta`` / ``-end``); only one
block is open at a time, so the page shows them in the order they streamed. Tool calls arrive in
kairos as snapshots (the calls accumulated so far), so per-call argument deltas are computed here.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import KairosError
from ..llm import Citation, StreamChunk, ToolCall

__all__ = [
    "DONE",
    "HEADERS",
    "PartEncoder",
    "error_text",
    "sse",
    "stream_metadata",
]

Part = dict[str, Any]
Metadata = Callable[[StreamChunk], Any]

# UI_MESSAGE_STREAM_HEADERS of the ai package, less `connection: keep-alive` (hop-by-hop: the
# HTTP server owns it, and HTTP/2 forbids it).
HEADERS = {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    "x-vercel-ai-ui-message-stream": "v1",
    "x-accel-buffering": "no",
}
DONE = b"data: [DONE]\n\n"

# kairos' normalised finish reasons -> the protocol's (`finish.finishReason` enum)
FINISH_REASONS = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool-calls",
    "content_filter": "content-filter",
    "error": "error",
    "cancelled": "other",
}

# (part prefix, StreamChunk attribute): each row is a block kind streamed with ids. A refusal
# is text of its own block (any useChat page shows it), and the finish says content-filter and
# carries it in the metadata as ``refusal``.
BLOCKS = (("reasoning", "reasoning"), ("text", "content"), ("text", "refusal"))

log = logging.getLogger("kairos.web")


def sse(part: Part) -> bytes:
    """One part as one server-sent event: ``data: {json}`` and a blank line."""
    data = json.dumps(part, ensure_ascii=False, separators=(",", ":"))
    return b"data: " + data.encode() + b"\n\n"


def error_text(exc: BaseException) -> str:
    """The one line the page sees for ``exc``: a kairos error's message (API keys are already
    redacted from it); for anything else only its type, so server internals stay on the server
    (logged with the traceback on the ``kairos.web`` logger)."""
    if isinstance(exc, KairosError):
        return " ".join(str(exc).split())
    log.error("kairos.web: unexpected error while streaming", exc_info=exc)
    return f"unexpected server error ({type(exc).__name__})"


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def stream_metadata(final: StreamChunk) -> dict[str, Any]:
    """The default ``messageMetadata`` sent with ``finish``: what kairos measured."""
    stats, usage = final.stats, final.usage
    return {
        "finishReason": final.finish_reason,
        "ttftMs": _ms(stats.time_to_first_chunk) if stats else None,
        "totalMs": _ms(stats.total_time) if stats else None,
        "chunks": stats.chunks if stats else None,
        "usage": None
        if usage is None
        else {
            "inputTokens": usage.prompt_tokens,
            "outputTokens": usage.completion_tokens,
            "totalTokens": usage.total_tokens,
        },
    }


class _ToolState:
    __slots__ = ("id", "name", "sent")

    def __init__(self, id: str, name: str) -> None:
        self.id = id
        self.name = name
        self.sent = ""  # the argument text already sent as deltas


class PartEncoder:
    """The parts for one assistant message, one chunk at a time.

    ``start()`` first, then ``chunk(c)`` for every chunk (the ``done`` chunk ends the message),
    or ``fail(exc)`` when the stream raised instead, or ``end()`` when it stopped without a
    ``done`` chunk. ``metadata`` builds the ``messageMetadata`` of ``finish`` from the final
    chunk (``None``: send none)."""

    def __init__(
        self, message_id: str | None = None, metadata: Metadata | None = stream_metadata
    ) -> None:
        self.message_id = message_id or f"msg-{uuid.uuid4().hex}"
        self.metadata = metadata
        self.finished = False
        self._open: tuple[str, str, str] | None = None  # (kind, attribute, id) of the open block
        self._refusal: list[str] = []
        self._blocks = 0
        self._tools: dict[int, _ToolState] = {}
        self._sent_len = 0  # argument characters sent as deltas, all calls
        self._since_read = 0  # tool-only chunks since the last snapshot read

    def start(self) -> list[Part]:
        return [{"type": "start", "messageId": self.message_id}, {"type": "start-step"}]

    def chunk(self, chunk: StreamChunk, citations: Sequence[Citation] = ()) -> list[Part]:
        """The parts for one chunk (often one ``text-delta``). With the ``done`` chunk,
        ``citations`` (the response's) go out as ``source-url`` parts."""
        if self.finished:
            return []
        parts: list[Part] = []
        for kind, attr in BLOCKS:
            delta = getattr(chunk, attr)
            if delta:
                block_id = self._block(kind, attr, parts)
                parts.append({"type": f"{kind}-delta", "id": block_id, "delta": delta})
                if attr == "refusal":
                    self._refusal.append(delta)
        if chunk.done or (not (chunk.content or chunk.reasoning) and self._tool_read_due()):
            calls = chunk.tool_calls
            if calls:
                self._tool_deltas(calls, parts, final=chunk.done and chunk.error is None)
        if chunk.done:
            parts += self._sources(citations)
            parts += self._finish(chunk)
        return parts

    def _sources(self, citations: Sequence[Citation]) -> list[Part]:
        parts = self._close_block()
        for n, cite in enumerate(c for c in citations if c.url):
            source: Part = {"type": "source-url", "sourceId": f"source-{n + 1}", "url": cite.url}
            if cite.title:
                source["title"] = cite.title
            parts.append(source)
        return parts

    def fail(self, exc: BaseException) -> list[Part]:
        """The stream raised ``exc`` instead of ending with a ``done`` chunk."""
        if self.finished:
            return []
        parts = self._close_block()
        parts += self._tool_errors(error_text(exc))
        parts.append({"type": "error", "errorText": error_text(exc)})
        return [*parts, *self._end({"type": "finish", "finishReason": "error"})]

    def end(self) -> list[Part]:
        """The source stopped without a ``done`` chunk (not a kairos stream)."""
        if self.finished:
            return []
        return [*self._close_block(), *self._end({"type": "finish"})]

    # -- blocks -------------------------------------------------------------------------------
    def _block(self, kind: str, attr: str, parts: list[Part]) -> str:
        if self._open is not None and self._open[1] == attr:
            return self._open[2]
        parts += self._close_block()
        self._blocks += 1
        block_id = f"{kind}-{self._blocks}"
        self._open = (kind, attr, block_id)
        parts.append({"type": f"{kind}-start", "id": block_id})
        return block_id

    def _close_block(self) -> list[Part]:
        if self._open is None:
            return []
        kind, _, block_id = self._open
        self._open = None
        return [{"type": f"{kind}-end", "id": block_id}]

    # -- tool calls ---------------------------------------------------------------------------
    def _tool_read_due(self) -> bool:
        """Whether to read this chunk's tool-call snapshot. Reading joins every call's argument
        text so far (O(length)), so it happens only on chunks that can carry nothing but a tool
        delta, and once the arguments are long, on every k-th of them with k growing with the
        length (one per 4 KiB): linear overall, and the deltas only get coarser. A skipped
        (or mixed text-and-tool) chunk's delta goes out with the next read; nothing is lost."""
        self._since_read += 1
        if self._since_read <= self._sent_len // 4096:
            return False
        self._since_read = 0
        return True

    def _tool_deltas(self, calls: tuple[ToolCall, ...], parts: list[Part], final: bool) -> None:
        for index, call in enumerate(calls):
            state = self._tools.get(index)
            if state is None:
                if not call.name:
                    continue  # the name comes first on every wire; wait for it
                parts += self._close_block()
                state = self._tools[index] = _ToolState(call.id or f"call-{index}", call.name)
                parts.append(
                    {"type": "tool-input-start", "toolCallId": state.id, "toolName": state.name}
                )
            text = call.arguments
            if text == "{}" and not final:
                continue  # kairos shows "{}" until the first argument piece arrives
            if len(text) > len(state.sent) and text.startswith(state.sent):
                delta = text[len(state.sent) :]
                self._sent_len += len(delta)
                state.sent = text
                parts.append(
                    {"type": "tool-input-delta", "toolCallId": state.id, "inputTextDelta": delta}
                )
            if final:
                parts.append(
                    {
                        "type": "tool-input-available",
                        "toolCallId": state.id,
                        "toolName": state.name,
                        "input": _input(call),
                    }
                )

    def _tool_errors(self, message: str) -> list[Part]:
        """Calls that were streaming when the stream failed: their input never completed."""
        return [
            {
                "type": "tool-input-error",
                "toolCallId": s.id,
                "toolName": s.name,
                "input": s.sent,
                "errorText": message,
            }
            for s in self._tools.values()
        ]

    # -- the end ------------------------------------------------------------------------------
    def _finish(self, final: StreamChunk) -> list[Part]:
        parts = self._close_block()
        finish: Part = {"type": "finish"}
        if final.error is not None:
            parts += self._tool_errors(error_text(final.error))
            parts.append({"type": "error", "errorText": error_text(final.error)})
            finish["finishReason"] = "error"
        elif final.finish_reason is not None:
            finish["finishReason"] = FINISH_REASONS.get(final.finish_reason, "other")
        if self.metadata is not None:
            finish["messageMetadata"] = self.metadata(final)
            if self._refusal:
                finish["messageMetadata"]["refusal"] = "".join(self._refusal)
        return [*parts, *self._end(finish)]

    def _end(self, finish: Part) -> list[Part]:
        self.finished = True
        return [{"type": "finish-step"}, finish]


def _input(call: ToolCall) -> Any:
    try:
        return call.parsed_arguments()
    except KairosError:
        return call.arguments  # not a JSON object: the raw text, as received
