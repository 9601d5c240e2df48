"""What a provider codec is: pure functions and objects, no I/O.

A codec turns a :class:`~kairos.ChatRequest` into an :class:`HTTPRequest`, turns each framed
event of the response body into a :class:`Delta`, and turns an HTTP error response into a typed
error. The call owner (``_call``), the stream machine (``_machine``) and the accumulator
(``_accumulate``) do the rest, the same way for every wire. Codecs keep no state between
requests: what a later turn needs travels in the messages (``ToolCall.provider_data``). Core
modules never name a provider; each wire's codec lives in its folder under ``providers/``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
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
from .llm import ChatRequest, FinishReason, Usage

__all__ = [
    "Delta",
    "EventParser",
    "HTTPRequest",
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


class Delta:
    """What one wire event means. ``end`` is the provider's end marker (the stream is complete
    and ends now); ``finish`` is the provider's raw finish reason."""

    __slots__ = ("content", "end", "error", "finish", "model", "reasoning", "tools", "usage")

    def __init__(
        self,
        content: str = "",
        reasoning: str = "",
        tools: list[ToolDelta] | None = None,
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
