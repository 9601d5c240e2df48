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
* A refusal (OpenAI ``refusal``) arrives as ``StreamChunk.refusal`` deltas and ends as
  ``ChatResponse.refusal``; it is never ``content``, and the answer's ``finish_reason`` is then
  ``content_filter`` (never an empty ``stop``).
* Tool-call arguments are the JSON text as the model produced it, on every wire. Text that is
  not a JSON object (a model's slip, or an answer cut by ``max_tokens``) does not fail the
  stream or ``chat()``: the answer ends as the provider said, and
  :meth:`ToolCall.parsed_arguments` raises :class:`kairos.ProtocolError` naming the call, so a
  tool loop can tell the model instead of losing the whole answer.

Messages and parts
------------------
A :class:`Message` holds an ordered sequence of parts (``Message.parts``): text
(:class:`TextPart`), :class:`Image`, :class:`Document` and :class:`Audio` in what a caller
sends; and in an assistant turn also :class:`ReasoningBlock`, :class:`Refusal`,
:class:`ToolCall` and :class:`ProviderPart`, in the order the model produced them.
``Message.user("Describe this", Image.from_file("cat.png"))`` takes any mix of strings and
parts. A text-only message needs no parts: ``Message(Role.USER, "hi")`` works as it always did,
and ``Message.content`` is always the message's text (its text parts joined), ``tool_calls``
its calls. Each codec writes every part in its provider's documented shape; a part a provider
cannot take (audio to Anthropic, a URL where only bytes are accepted...) is a
:class:`~kairos.ConfigurationError` naming the provider and the part, raised before any
request. kairos never fetches a URL itself.

The round trip
--------------
``ChatResponse.to_message()`` is the assistant :class:`Message` to append to the history: its
parts are the answer's text, reasoning blocks (text, signature, opaque data, id, and the
provider and wire that made them), refusal, tool calls and provider parts, in the order they
arrived, with the opaque data each wire needs back (``provider_data``, keyed by wire name).
Keep it as received and the next request carries exactly what the provider requires, even
when sent by a new provider object (codecs keep no state between requests):

* Anthropic: ``thinking`` / ``redacted_thinking`` blocks, unmodified, with their
  ``signature``, in their original order (before the ``tool_use`` they led to); server-tool
  blocks as received;
* Gemini: ``thoughtSignature`` on the same part it arrived on (text, thought and
  function-call parts); thought parts as ``thought: true`` parts; code-execution parts as
  received;
* Chat Completions presets, as each preset row says (``reasoning_echo`` in
  ``providers/_presets.py``): DeepSeek ``reasoning_content`` on every assistant message with
  ``tool_calls``; DashScope ``reasoning_content`` on assistant messages; OpenRouter
  ``reasoning_details`` as received; a refusal as the message's ``refusal``;
* Ollama: ``thinking`` on the assistant message;
* OpenAI Responses: the output items in order: ``reasoning`` items (id, summary,
  ``encrypted_content``; one without encrypted content only when the request stores) before the
  ``function_call`` items they led to, ``message`` items with their ids, server-tool items as
  received.

**Cross-provider rule**: a provider never receives another provider's reasoning, signatures or
provider parts. History made by provider A and sent to provider B keeps its text, refusals and
tool calls (ids, names, arguments) and drops every reasoning block and provider part that B did
not make (each carries its ``provider`` and ``wire``; a codec writes back only its own) and
every ``provider_data`` entry keyed by another wire. Where B requires a field on such a turn it
gets the field's neutral value (DeepSeek: ``reasoning_content: ""``).

``Message.tool(content, call_id, is_error=True)`` marks a failed tool call: Anthropic
``is_error``, Gemini a ``functionResponse.response`` under ``error``; the Chat Completions and
Ollama wires have no such flag and send the text as it is. A tool result may hold images and
documents where the wire takes them (Anthropic ``tool_result`` content).

One reasoning setting, ``ChatRequest(reasoning=Reasoning(effort, budget_tokens, summary))``,
is mapped per provider (see :class:`Reasoning`).
"""

from __future__ import annotations

import enum
import json
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, Union, runtime_checkable

from ._content import (
    Audio,
    Citation,
    Document,
    Image,
    ProviderPart,
    Reasoning,
    ReasoningBlock,
    Refusal,
    TextPart,
)
from .errors import ConfigurationError, KairosError, ProtocolError

__all__ = [
    "AsyncProvider",
    "AsyncStreamingProvider",
    "Audio",
    "ChatRequest",
    "ChatResponse",
    "Citation",
    "Document",
    "FinishReason",
    "Image",
    "Message",
    "Part",
    "Provider",
    "ProviderPart",
    "Reasoning",
    "ReasoningBlock",
    "Refusal",
    "Role",
    "StreamChunk",
    "StreamStats",
    "StreamingProvider",
    "TextPart",
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

    def partial_arguments(self) -> Any:
        """The arguments parsed so far, for a call whose JSON is still streaming (the same
        incremental parser as structured output's ``chunk.object``): strings may be cut, numbers
        and keys appear only once complete; None until something parses or if the text can no
        longer be JSON."""
        from ._partial_json import PartialJSON, PartialJSONError

        parser = PartialJSON()
        try:
            parser.feed(self.arguments)
        except PartialJSONError:
            return None
        return parser.snapshot()


# Everything a message may hold, in order (see "Messages and parts" above).
Part = Union[  # noqa: UP007 - a runtime alias on 3.10
    TextPart, Image, Document, Audio, ReasoningBlock, Refusal, ToolCall, ProviderPart
]
_PART_TYPES = (TextPart, Image, Document, Audio, ReasoningBlock, Refusal, ToolCall, ProviderPart)


def _parts(items: Sequence[Any]) -> tuple[Part, ...]:
    out: list[Part] = []
    for item in items:
        if isinstance(item, str):
            out.append(TextPart(item))
        elif isinstance(item, _PART_TYPES):
            out.append(item)
        else:
            raise ConfigurationError(
                f"a message part is a string, TextPart, Image, Document, Audio, ReasoningBlock, "
                f"Refusal, ToolCall or ProviderPart, not {type(item).__name__}"
            )
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Message:
    """One turn. ``content`` is the text and ``tool_calls`` the calls; ``parts``, when given,
    is the whole ordered content (text, images, documents, audio, reasoning blocks, tool
    calls...) and ``content`` / ``tool_calls`` are then derived from it. ``is_error`` marks a
    tool result that reports a failure."""

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None  # for Role.TOOL: which call this answers
    name: str | None = None  # for Role.TOOL: the function name (some wires need it)
    parts: tuple[Part, ...] = ()
    is_error: bool = False  # for Role.TOOL: the call failed

    def __post_init__(self) -> None:
        if not self.parts:
            return
        parts = _parts(self.parts)
        text = "".join(p.text for p in parts if isinstance(p, TextPart))
        calls = tuple(p for p in parts if isinstance(p, ToolCall))
        if self.content and self.content != text:
            raise ConfigurationError("a message takes content or parts, not both")
        if self.tool_calls and tuple(self.tool_calls) != calls:
            raise ConfigurationError("a message with parts holds its tool calls in its parts")
        object.__setattr__(self, "parts", parts)
        object.__setattr__(self, "content", text)
        object.__setattr__(self, "tool_calls", calls)

    @classmethod
    def system(cls, content: str) -> Message:
        return cls(Role.SYSTEM, content)

    @classmethod
    def user(cls, *content: str | Part) -> Message:
        """A user turn: a string, or any mix of strings and parts (images, documents...)."""
        if len(content) == 1 and isinstance(content[0], str):
            return cls(Role.USER, content[0])
        return cls(Role.USER, parts=_parts(content))

    @classmethod
    def assistant(cls, content: str = "", tool_calls: Sequence[ToolCall] = ()) -> Message:
        return cls(Role.ASSISTANT, content, tuple(tool_calls))

    @classmethod
    def tool(
        cls,
        content: str | Sequence[str | Part],
        tool_call_id: str,
        name: str | None = None,
        *,
        is_error: bool = False,
    ) -> Message:
        """A tool result: text, or a mix of text and parts (images where the wire takes
        them). ``is_error=True``: the call failed and ``content`` says why."""
        if isinstance(content, str):
            return cls(Role.TOOL, content, tool_call_id=tool_call_id, name=name, is_error=is_error)
        parts = _parts(content)
        return cls(Role.TOOL, tool_call_id=tool_call_id, name=name, parts=parts, is_error=is_error)

    def ordered_parts(self) -> tuple[Part, ...]:
        """``parts``, or for a message built from text and calls: its text, then its calls."""
        if self.parts:
            return self.parts
        head: tuple[Part, ...] = (TextPart(self.content),) if self.content else ()
        return head + self.tool_calls


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
    reasoning: Reasoning | None = None  # one reasoning setting, mapped per provider
    # a JSON Schema (mapping) or a class with model_json_schema() (a Pydantic v2 model): the
    # answer is one JSON object fitting it, streamed as chunk.object (see the module docstring)
    output_schema: Mapping[str, Any] | type | None = None


@dataclass(frozen=True, slots=True)
class ChatResponse:
    """The whole answer. ``refusal``: the model's refusal text (never in ``content``);
    ``citations``: the sources the answer cites, in order; ``parts``: the ordered assistant
    turn (see "The round trip" above), which :meth:`to_message` returns as a message."""

    content: str = ""
    reasoning: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage | None = None
    finish_reason: FinishReason | None = None
    raw_finish_reason: str | None = None
    model: str | None = None
    refusal: str | None = None
    citations: tuple[Citation, ...] = ()
    parts: tuple[Part, ...] = field(default=(), repr=False)

    def to_message(self) -> Message:
        """The assistant turn to append to the history: text, reasoning blocks, refusal, tool
        calls and provider parts in order, with what each wire needs back."""
        if self.parts:
            return Message(Role.ASSISTANT, parts=self.parts)
        head: tuple[Part, ...] = (TextPart(self.content),) if self.content else ()
        if self.refusal:
            head += (Refusal(self.refusal),)
        if not head and not self.tool_calls:
            return Message(Role.ASSISTANT, "")
        return Message(Role.ASSISTANT, parts=head + self.tool_calls)

    object: Any = None  # with output_schema: the validated object (an instance of the class)


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
    parallel calls stay linear in time and memory. ``refusal`` is a piece of the model's refusal
    text (never ``content``)."""

    __slots__ = (
        "_object",
        "_tools",
        "content",
        "done",
        "error",
        "finish_reason",
        "raw_finish_reason",
        "reasoning",
        "refusal",
        "stats",
        "usage",
    )
    _object: Any  # set only on structured-output streams (see ``object``)

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
        refusal: str = "",
    ) -> None:
        self.content = content
        self.refusal = refusal
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

    @property
    def object(self) -> Any:
        """With ``output_schema``: the object parsed from the JSON text so far (built when
        read; None until something parses); on the final chunk the complete, validated object.
        None for requests without a schema."""
        try:
            value = self._object
        except AttributeError:  # set only on structured-output streams: plain chunks pay nothing
            return None
        build = getattr(value, "value", None)
        return build() if callable(build) else value

    def __repr__(self) -> str:
        parts = [f"content={self.content!r}"]
        if self.reasoning:
            parts.append(f"reasoning={self.reasoning!r}")
        if self.refusal:
            parts.append(f"refusal={self.refusal!r}")
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
