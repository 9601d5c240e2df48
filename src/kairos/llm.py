"""The kairos contract: read this file first.

Everything a caller touches is defined here: messages, tools, the request, the response, the
stream chunk and the provider protocols. Behind them, each wire format is a pure codec
(``kairos.providers``); one call owner per call (``kairos._call``) drives it through the stream
machine, with thin sync and async shells (``kairos._stream``) doing the I/O. Nothing in this
module does I/O.

Stream semantics (identical for every provider, sync and async)
----------------------------------------------------------------
* ``provider.chat_stream(req)`` sends the request. Failures before any byte of the body
  (connect errors, timeouts, HTTP error statuses) raise a typed :class:`kairos.errors.KairosError`
  from that call, like the Go original returning ``(nil, err)``. Retries happen only while
  nothing has reached the caller (also for an in-band error before the first chunk), and a call
  sends at most ``max_retries + 1`` requests however its attempts fail
  (``StreamStats.attempts`` says how many it sent).
* Iterating the returned stream yields :class:`StreamChunk`. Chunks carry deltas (``content``,
  ``reasoning``) and ``tool_calls`` accumulated so far. Events with nothing for the caller
  (pings, keep-alive comments, role-only or usage-only events) yield no chunk.
* Exactly one chunk has ``done=True``; it is always the last one and its ``content`` is empty.
  It carries ``usage``, ``finish_reason`` (normalised: ``stop``, ``length``, ``tool_calls``,
  ``content_filter``, ``error``, ``cancelled``), ``raw_finish_reason`` (the provider's own
  value) and ``stats`` (chunk count including the final chunk, time to first chunk, total
  time, content length in characters).
* A failure after the stream began (connection lost, a body that ends without the provider's
  end marker or finish reason, an in-band error event, malformed JSON, a stall) ends the stream
  with a final chunk whose ``error`` is a typed exception carrying ``partial`` (the
  :class:`ChatResponse` accumulated so far) and ``finish_reason="error"``. Iterating past that
  final chunk raises the same exception, so a consumer that ignores ``chunk.error`` cannot
  mistake a failed stream for a successful one.
* Cancellation: ``stream.close()`` (safe from another thread), leaving a ``with`` block,
  ``break`` inside one, and cancelling an asyncio task close the HTTP response at once. A
  stream closed by the caller or stopped by its total deadline ends with an error for which
  ``isinstance(err, kairos.Cancelled)`` holds (the analogue of ``errors.Is(err,
  context.Canceled)``). Asyncio's own ``CancelledError`` is never swallowed.
* ``chat(req)`` drains the same stream through the same codec, so the same bytes always give
  the same :class:`ChatResponse`; it raises the error a stream would have ended with.
* Tool-call arguments are the JSON text as the model produced it, on every wire. Text that is
  not a JSON object (a model's slip, or an answer cut by ``max_tokens``) does not fail the
  stream or ``chat()``: the answer ends as the provider said, and
  :meth:`ToolCall.parsed_arguments` raises :class:`kairos.ProtocolError` naming the call, so a
  tool loop can tell the model instead of losing the whole answer.
"""

from __future__ import annotations

import enum
import json
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from .errors import KairosError, ProtocolError

__all__ = [
    "AsyncProvider",
    "AsyncStreamingProvider",
    "ChatRequest",
    "ChatResponse",
    "FinishReason",
    "Message",
    "Provider",
    "Role",
    "StreamChunk",
    "StreamStats",
    "StreamingProvider",
    "Tool",
    "ToolCall",
    "Usage",
]

FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "error", "cancelled"]


class Role(str, enum.Enum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A call the model asked for. ``arguments`` is the JSON text exactly as received, valid or
    not: :meth:`parsed_arguments` says (see "Stream semantics" above).

    ``provider_data`` is opaque data that the wire which produced the call needs back when the
    call is sent again as history (Gemini's ``thoughtSignature``), keyed by wire name, e.g.
    ``{"gemini": {"thoughtSignature": "..."}}``. Keep the call as received and the next turn
    carries it, even from a new provider object; a codec of another wire ignores it."""

    id: str
    name: str
    arguments: str = "{}"
    provider_data: Mapping[str, Any] | None = field(default=None, hash=False, repr=False)

    def parsed_arguments(self) -> dict[str, Any]:
        """The arguments as a dict; raises :class:`kairos.ProtocolError` if not a JSON object."""
        try:
            value = json.loads(self.arguments or "{}")
        except ValueError as exc:
            raise ProtocolError(f"tool call {self.name!r} has invalid JSON arguments") from exc
        if not isinstance(value, dict):
            raise ProtocolError(f"tool call {self.name!r} arguments are not a JSON object")
        return value


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None  # for Role.TOOL: which call this answers
    name: str | None = None  # for Role.TOOL: the function name (some wires need it)

    @classmethod
    def system(cls, content: str) -> Message:
        return cls(Role.SYSTEM, content)

    @classmethod
    def user(cls, content: str) -> Message:
        return cls(Role.USER, content)

    @classmethod
    def assistant(cls, content: str = "", tool_calls: Sequence[ToolCall] = ()) -> Message:
        return cls(Role.ASSISTANT, content, tuple(tool_calls))

    @classmethod
    def tool(cls, content: str, tool_call_id: str, name: str | None = None) -> Message:
        return cls(Role.TOOL, content, tool_call_id=tool_call_id, name=name)


@dataclass(frozen=True, slots=True)
class Tool:
    """A function the model may call; ``parameters`` is a JSON Schema object."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(
        default_factory=lambda: {"type": "object", "properties": {}}
    )


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int | None = None
    reasoning_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """``model`` may be empty to use the provider's default. ``extras`` is merged into the
    provider's JSON body as-is (provider-specific options, e.g. ``{"think": True}``)."""

    messages: Sequence[Message]
    model: str = ""
    tools: Sequence[Tool] = ()
    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    stop: Sequence[str] = ()
    tool_choice: str | Mapping[str, Any] | None = None  # "auto" | "none" | "required" | name
    extras: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChatResponse:
    content: str = ""
    reasoning: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage | None = None
    finish_reason: FinishReason | None = None
    raw_finish_reason: str | None = None
    model: str | None = None


@dataclass(frozen=True, slots=True)
class StreamStats:
    chunks: int
    time_to_first_chunk: float | None  # seconds from sending the request
    total_time: float  # seconds
    content_length: int  # characters
    attempts: int = 1  # HTTP requests this call sent (retries and a fallback included)


class StreamChunk:
    """One piece of a stream. ``tool_calls`` is the list of calls accumulated so far; it is
    built when read (and not kept), so streams with long tool arguments or thousands of
    parallel calls stay linear in time and memory."""

    __slots__ = (
        "_tools",
        "content",
        "done",
        "error",
        "finish_reason",
        "raw_finish_reason",
        "reasoning",
        "stats",
        "usage",
    )

    def __init__(
        self,
        content: str = "",
        reasoning: str = "",
        tool_calls: Sequence[ToolCall] | Any = (),
        done: bool = False,
        usage: Usage | None = None,
        finish_reason: FinishReason | None = None,
        raw_finish_reason: str | None = None,
        error: KairosError | None = None,
        stats: StreamStats | None = None,
    ) -> None:
        self.content = content
        self.reasoning = reasoning
        self._tools = tool_calls  # a tuple, or a zero-argument callable building one
        self.done = done
        self.usage = usage
        self.finish_reason = finish_reason
        self.raw_finish_reason = raw_finish_reason
        self.error = error
        self.stats = stats

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        tools = self._tools
        if callable(tools):
            return tuple(tools())  # built on each read: a chunk holds O(1), not the calls
        return tuple(tools)

    def __repr__(self) -> str:
        parts = [f"content={self.content!r}"]
        if self.reasoning:
            parts.append(f"reasoning={self.reasoning!r}")
        if self.done:
            parts += [f"done=True, finish_reason={self.finish_reason!r}", f"usage={self.usage!r}"]
        if self.error is not None:
            parts.append(f"error={self.error!r}")
        return f"StreamChunk({', '.join(parts)})"


class _SyncStream(Protocol):
    def __iter__(self) -> Iterator[StreamChunk]: ...
    def close(self) -> None: ...


class _AsyncStream(Protocol):
    def __aiter__(self) -> AsyncIterator[StreamChunk]: ...
    async def aclose(self) -> None: ...


@runtime_checkable
class Provider(Protocol):
    def chat(self, req: ChatRequest) -> ChatResponse: ...


@runtime_checkable
class StreamingProvider(Provider, Protocol):
    def chat_stream(self, req: ChatRequest) -> _SyncStream: ...


@runtime_checkable
class AsyncProvider(Protocol):
    async def chat(self, req: ChatRequest) -> ChatResponse: ...


@runtime_checkable
class AsyncStreamingProvider(AsyncProvider, Protocol):
    async def chat_stream(self, req: ChatRequest) -> _AsyncStream: ...
