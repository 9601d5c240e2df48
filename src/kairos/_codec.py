"""What a provider codec is: pure functions and objects, no I/O.

A codec turns a :class:`~kairos.ChatRequest` into an :class:`HTTPRequest`, turns each framed
event of the response body into a :class:`Delta`, and turns an HTTP error response into a typed
error. The call owner (``_call``), the stream machine (``_machine``) and the accumulator
(``_accumulate``) do the rest, the same way for every wire. Codecs keep no state between
requests: what a later turn needs travels in the messages (``ToolCall.provider_data``,
reasoning blocks, provider parts). Core modules never name a provider; each wire's codec lives
in its folder under ``providers/``.

The ordered assistant turn (``ChatResponse.parts``) is built from the deltas: text and reasoning
pieces, tool-call pieces, and :class:`PartDelta` events, which ride in ``Delta.tools`` next to
the tool-call pieces, in arrival order (so text-only streams pay nothing for them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from .errors import (
    APIStatusError,
    KairosError,
    OverloadedError,
    ProtocolError,
    RateLimitError,
    error_for_status,
)
from .llm import ChatRequest, Citation, FinishReason, Usage

__all__ = [
    "Delta",
    "EventParser",
    "HTTPRequest",
    "PartDelta",
    "ToolDelta",
    "WireCodec",
    "api_error",
    "dumps",
    "loads",
    "retry_after_seconds",
]


@dataclass(slots=True)
class HTTPRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    # values that must never leak (the API key); the stream layer scrubs them from errors
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def __repr__(self) -> str:
        return f"HTTPRequest({self.method} {self.url})"


class ToolDelta:
    """A piece of a tool call. ``index`` is the call's position among tool calls when the wire
    gives one (or the codec computes it); calls without an index are matched by ``id``.
    ``arguments`` is appended to the call's JSON text; ``data`` becomes the call's
    ``provider_data`` (opaque data the wire needs back in later requests)."""

    __slots__ = ("arguments", "data", "id", "index", "name")

    def __init__(
        self,
        index: int | None,
        id: str | None,
        name: str | None,
        arguments: str = "",
        data: Mapping[str, Any] | None = None,
    ) -> None:
        self.index = index
        self.id = id
        self.name = name
        self.arguments = arguments
        self.data = data


class PartDelta:
    """An event about the ordered parts of an answer (``Delta.tools`` carries it). ``kind``:

    * ``"text"``: ``text`` is content, in order among the other events; with
      ``provider_data`` (a Gemini ``thoughtSignature``) it is a text part of its own that keeps
      the data (earlier text is closed first, later text starts another part).
    * ``"text_start"``: the next text starts a new text part (an Anthropic text block), which
      keeps ``provider_data`` if given.
    * ``"text_data"``: ``provider_data`` becomes the data of the text part in progress (known
      only once the part is finished: a Responses message item), without closing it; ignored
      when no text part is in progress.
    * ``"reasoning"``: ``text`` is reasoning; ``new`` starts a new reasoning block (else it
      joins the open one), ``signature`` / ``data`` / ``id`` / ``provider_data`` are set on the
      block, and ``close`` ends it (a later piece starts another). Without ``new``, an ``id``
      another block already has names that block (a wire whose blocks finish out of order).
    * ``"signature"``: ``text`` is appended to the open reasoning block's signature.
    * ``"reasoning_data"``: ``provider_data`` is set on the last reasoning block (one is made
      if there is none).
    * ``"citation"``: ``citation`` supports the text part in progress (its span is set to that
      part's); ``"answer_citation"``: a citation of the whole answer, as given.
    * ``"refusal"``: ``text`` is a piece of the model's refusal.
    * ``"part"``: ``raw`` is a complete provider part (a server-tool block...), kept in order.
    """

    __slots__ = (
        "citation",
        "close",
        "data",
        "id",
        "kind",
        "new",
        "provider_data",
        "raw",
        "signature",
        "text",
    )

    def __init__(
        self,
        kind: str,
        text: str = "",
        *,
        signature: str | None = None,
        data: str | None = None,
        id: str | None = None,
        provider_data: Mapping[str, Any] | None = None,
        raw: Mapping[str, Any] | None = None,
        citation: Citation | None = None,
        new: bool = False,
        close: bool = False,
    ) -> None:
        self.kind = kind
        self.text = text
        self.signature = signature
        self.data = data
        self.id = id
        self.provider_data = provider_data
        self.raw = raw
        self.citation = citation
        self.new = new
        self.close = close

    def __repr__(self) -> str:
        return f"PartDelta({self.kind!r}, {self.text[:20]!r})"


class Delta:
    """What one wire event means. ``end`` is the provider's end marker (the stream is complete
    and ends now); ``finish`` is the provider's raw finish reason. ``tools``: tool-call pieces
    (:class:`ToolDelta`) and part events (:class:`PartDelta`), in arrival order, after this
    delta's own ``content`` and ``reasoning``."""

    __slots__ = ("content", "end", "error", "finish", "model", "reasoning", "tools", "usage")

    def __init__(
        self,
        content: str = "",
        reasoning: str = "",
        tools: Sequence[ToolDelta | PartDelta] | None = None,
        usage: Usage | None = None,
        finish: str | None = None,
        model: str | None = None,
        error: APIStatusError | None = None,
        end: bool = False,
    ) -> None:
        self.content = content
        self.reasoning = reasoning
        self.tools = tools
        self.usage = usage
        self.finish = finish
        self.model = model
        self.error = error
        self.end = end


class EventParser(Protocol):
    """Per-stream state. ``event`` is the SSE event name (``""`` for NDJSON lines). A parser
    may also keep ``response_id``, the provider's id of the answer, read off the path taken
    once per stream (observers report it; ``None`` or absent when the wire has none)."""

    def parse(self, event: str, data: str | bytes) -> Delta | None: ...

    @property
    def complete(self) -> bool:
        """True once the body may end without being an incomplete stream."""
        ...


class WireCodec(Protocol):
    provider: str
    wire: str
    framing: Literal["sse", "ndjson"]
    base_url: str

    def build_request(self, req: ChatRequest) -> HTTPRequest: ...
    def new_parser(self) -> EventParser: ...
    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> APIStatusError:
        """A typed error for an HTTP error response (or a non-stream body)."""
        ...

    def parse_body(self, body: bytes) -> list[Delta]:
        """Deltas for a complete non-stream JSON answer to a stream request."""
        ...

    def normalise_finish(self, raw: str | None) -> FinishReason | None: ...

    def fallback_request(self, request: HTTPRequest, err: KairosError) -> HTTPRequest | None:
        """A one-time alternative to ``request`` after ``err`` (a server that rejected an
        optional field), or None. It returns a new request and changes nothing."""
        ...


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


# json's C scanner: ``json.loads`` is this plus skipping whitespace around the value; calling it
# directly saves two regex matches and two Python calls per stream event (the hot path)
_scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def loads(data: str | bytes, provider: str) -> Any:
    """``json.loads`` that fails with a typed :class:`ProtocolError`."""
    try:
        try:  # NDJSON lines come as bytes: UTF-8 is the common case (json.loads detects others)
            text = data if data.__class__ is str else data.decode()  # type: ignore[union-attr]
            obj, end = _scan(text, 0)
            if end == len(text):
                return obj
        except (StopIteration, ValueError):  # whitespace, another encoding or not JSON:
            pass  # json.loads decides, and its error is the one reported
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        preview = data[:80] if isinstance(data, str) else data[:80].decode("utf-8", "replace")
        raise ProtocolError(f"malformed JSON in stream: {preview!r}", provider=provider) from exc


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date), as seconds."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime
    from time import time

    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time())
    except (TypeError, ValueError, OverflowError):
        return None


def api_error(
    provider: str,
    status: int | None,
    message: str,
    *,
    error_type: str | None = None,
    cls: type[APIStatusError] | None = None,
    headers: Mapping[str, str] | None = None,
    body: Any = None,
    request_id_header: str = "x-request-id",
) -> APIStatusError:
    """Build the typed error for a status (or an explicit class chosen from structured fields)."""
    cls = cls or error_for_status(status)
    kw: dict[str, Any] = {
        "provider": provider,
        "status": status,
        "error_type": error_type,
        "body": body,
        "request_id": (headers or {}).get(request_id_header),
    }
    if issubclass(cls, (RateLimitError, OverloadedError)):
        kw["retry_after"] = retry_after_seconds(headers or {})
    return cls(message or f"HTTP {status}", **kw)
