"""The emulator of ``kairos serve``: pure (sans-I/O), shared by every host.

Given a request (method, path, query, headers, body bytes) and a script, :class:`Emulator`
decides the answer: status, headers and body pieces (``bytes``, or a ``float`` meaning "pause
that many seconds"). It never touches a socket or a clock; the Starlette app (``_app``) and the
embedded offline demo's stdlib host (``_offline``) only move its pieces onto the wire.

Which paths each wire answers, and what its request bodies look like, are data rows of each
wire (:class:`kairos.providers.WireSpec`, read through ``_routes``); the bytes come from each
wire's renderer. This module names no provider.

Choosing the entry: an entry with ``match`` answers every request whose last user *text*
contains it (case-insensitive; first match wins; not consumed). The last user text is the text
of the last user turn that has any: tool results arrive as user turns on some wires and as
``tool`` turns on others, and neither counts, so a tool loop matches the same way on every wire
(it is the question that started the loop). Other requests take the ordered entries in turn;
after the last one the last repeats (a "429 then success" script stays on success), or the
script restarts with ``cycle: true``. Script schema: :mod:`kairos.serve._script`.

A reply with tool calls to a request that offers no tools answers its text only (the model
could not have called a tool it was not given), or, with ``strict``, an HTTP 400 in the wire's
error shape. Request bodies above ``max_body`` bytes get an HTTP 413 (see ``_limits``).

Strict mode (``kairos serve --strict``): before choosing an entry, the request is checked
against what the real API rejects (each wire's ``strict`` rules: an Anthropic tool-loop turn
without its thinking block, a DeepSeek tool turn without ``reasoning_content``, a Gemini 3 call
without its thought signature, a part the wire cannot take...) and answered with that
provider's error body and status. A rejected request takes no entry. Strict mode also answers a
400 to a reply with tool calls for a request that offers no tools (see above).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .._replies import Call, Reply, estimate_tokens
from ..providers import WireSpec, strict_check, wire_spec
from ..providers._render import error_status, http_error_body, render_body, render_stream
from ._limits import MAX_REQUEST_BYTES
from ._routes import Target, default_wire, route
from ._script import Entry, Script

__all__ = ["Answer", "Emulator", "Seen", "error_body", "route", "split_recorded"]

SSE_TYPE = "text/event-stream; charset=utf-8"
NDJSON_TYPE = "application/x-ndjson"
_PHRASES = {
    400: "bad request",
    401: "invalid API key",
    403: "permission denied",
    404: "not found",
    429: "rate limit exceeded",
    500: "internal server error",
    503: "service unavailable",
    529: "overloaded",
}


def error_body(wire: str, status: int, message: str | None = None) -> bytes:
    """An HTTP error body in ``wire``'s own shape."""
    return http_error_body(wire, status, message or _PHRASES.get(status) or f"HTTP {status}")


Piece = bytes | float
DEFAULT_MODEL = "kairos-emulator"
_JSON = "application/json"


@dataclass(frozen=True)
class Seen:
    """A request the emulator answered, as tests and logs see it."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str] = field(repr=False)  # may hold the API key
    body: bytes = field(repr=False)
    wire: str | None = None
    model: str = ""
    stream: bool = False
    prompt: str = ""  # the last user message's text
    prompt_tokens: int | None = None  # a rough count over every message's text
    include_usage: bool = True  # Chat Completions: stream_options.include_usage
    json_array: bool = False  # a streaming path answered without SSE (a JSON array of answers)
    tools: bool = False  # the request offers the model tools

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    pieces: list[Piece] = field(default_factory=list)
    stream: bool = False  # send chunked as pieces come (else one body with a content length)

    @property
    def body(self) -> bytes:
        return b"".join(p for p in self.pieces if isinstance(p, bytes))


def split_recorded(body: bytes, size: int | None = None) -> list[bytes]:
    """Recorded bytes in pieces: ``size`` bytes each, or one SSE event / NDJSON line each."""
    if size:
        return [body[i : i + size] for i in range(0, len(body), size)]
    ndjson = body.lstrip().startswith(b"{")
    parts = re.split(rb"(?<=\n)" if ndjson else rb"(?<=\n\n)|(?<=\r\n\r\n)", body)
    return [p for p in parts if p]


def _text(content: Any) -> str:
    """Text of a message content: a string, or a list of parts with ``text``."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text") or "") if isinstance(p, dict) else str(p) for p in content)
    return ""


def _estimate(text: str) -> int:
    return max(1, estimate_tokens(text))


def _turns(facts: WireSpec, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The request's messages: items typed other than ``message`` (tool calls and their
    outputs in an item list) are not turns; a plain string is one user turn."""
    items = body.get(facts.messages_key)
    if isinstance(items, str):
        return [{"role": "user", facts.content_key: items}]
    if not isinstance(items, list):
        return []
    return [i for i in items if isinstance(i, dict) and i.get("type", "message") == "message"]


def all_text(facts: WireSpec, body: Any) -> str:
    """Every message's text (and the system prompt), for a rough prompt token count."""
    if not isinstance(body, dict):
        return ""
    texts = [_text(body.get(facts.system_key)) if facts.system_key else ""]
    texts += [_text(item.get(facts.content_key)) for item in _turns(facts, body)]
    return " ".join(texts)


def last_user_text(facts: WireSpec, body: Any) -> str:
    """The text of the last user turn that has text (a turn holding only tool results has
    none: see the module docstring)."""
    if not isinstance(body, dict):
        return ""
    for item in reversed(_turns(facts, body)):
        if item.get("role", "user") == "user":
            text = _text(item.get(facts.content_key))
            if text:
                return text
    return ""


def offers_tools(facts: WireSpec, body: Any) -> bool:
    tools = body.get(facts.tools_key) if isinstance(body, dict) else None
    return isinstance(tools, list) and bool(tools)


def _paced(pieces: list[Piece], entry: Entry) -> list[Piece]:
    """Apply ``truncate_after``, ``chunk_delay`` and ``delay_first`` to body pieces."""
    out: list[Piece] = [float(entry.delay_first)] if entry.delay_first else []
    sent = 0
    for piece in pieces:
        if isinstance(piece, float):
            out.append(piece)
            continue
        if entry.truncate_after is not None and sent >= entry.truncate_after:
            break
        if sent and entry.chunk_delay:
            out.append(float(entry.chunk_delay))
        out.append(piece)
        sent += 1
    return out


Source = Script | Callable[[Seen], Entry]


class Emulator:
    """Answers requests from a :class:`Script` (or a function ``Seen -> Entry``).

    Thread-safe: the ordered-reply counter and ``requests`` are guarded by a lock."""

    def __init__(
        self, source: Source, *, strict: bool = False, max_body: int = MAX_REQUEST_BYTES
    ) -> None:
        self.source = source
        self.strict = strict  # answer a 400 where a script cannot answer faithfully
        self.max_body = max_body  # request bodies above this get a 413
        self.requests: list[Seen] = []
        self._next = 0
        self._lock = threading.Lock()

    def handle(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> Answer:
        r = route(method.upper(), path, query)
        if r.kind == "unknown":
            msg = f"kairos serve: no route for {method} {path}"
            return self._error(r.wire, 404, msg)
        if r.probe is not None:
            text = r.probe.body.replace("{model}", DEFAULT_MODEL)
            return Answer(200, {"content-type": r.probe.content_type}, [text.encode()])
        if len(body) > self.max_body:
            return self.too_large(method, path, query)
        try:
            data = json.loads(body or b"{}")
        except (ValueError, RecursionError):
            return self._error(r.wire, 400, "kairos serve: the request body is not valid JSON")
        if not isinstance(data, dict):
            return self._error(r.wire, 400, "kairos serve: the request body is not a JSON object")
        seen = self._seen(r, method, path, query, headers, body, data)
        rejected = rejection(r.wire, data, seen.model) if self.strict else None
        with self._lock:
            self.requests.append(seen)
            entry = None if rejected else self._choose(seen)
            number = len(self.requests)
        if rejected is not None:
            return self._error(r.wire, *rejected)
        if entry is None:
            return self._error(r.wire, 500, "kairos serve: no scripted reply matches this request")
        if entry.reply is not None and entry.reply.calls and not seen.tools:
            if self.strict:
                why = "the scripted reply has tool calls but the request offers no tools"
                return self._error(r.wire, 400, f"kairos serve (--strict): {why}")
            entry = replace(entry, reply=_text_only(entry.reply))
        return answer(entry, seen, number)

    def too_large(self, method: str, path: str, query: str) -> Answer:
        """The 413 for a request body above ``max_body``, in the shape of the wire the path is
        for (hosts call this before reading such a body; the connection is then closed)."""
        wire = route(method.upper(), path, query).wire
        message = f"kairos serve: the request body is larger than {self.max_body} bytes"
        answer = self._error(wire, 413, message)
        answer.headers["connection"] = "close"
        return answer

    def _seen(
        self,
        r: Target,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
        data: dict[str, Any],
    ) -> Seen:
        facts = wire_spec(r.wire)
        if r.stream is not None:
            stream = r.stream
        else:
            stream = data.get("stream", facts.stream_default) is True
        model = r.model or str(data.get("model") or "") or DEFAULT_MODEL
        lowered = {k.lower(): v for k, v in headers.items()}
        prompt = last_user_text(facts, data)
        tokens = _estimate(all_text(facts, data))
        options = data.get("stream_options")
        opted = isinstance(options, dict) and options.get("include_usage")
        usage = not facts.usage_opt_in or opted
        return Seen(
            method,
            path,
            query,
            lowered,
            body,
            r.wire,
            model,
            stream,
            prompt,
            tokens,
            bool(usage),
            r.json_array,
            offers_tools(facts, data),
        )

    def _choose(self, seen: Seen) -> Entry | None:
        source = self.source
        if not isinstance(source, Script):
            return source(seen)
        prompt = seen.prompt.lower()
        for entry in source.matched:
            if entry.match is not None and entry.match.lower() in prompt:
                return entry
        ordered = source.ordered
        if not ordered:
            return None
        i = self._next
        self._next += 1
        return ordered[i % len(ordered)] if source.cycle else ordered[min(i, len(ordered) - 1)]

    @staticmethod
    def _error(wire: str, status: int, message: str) -> Answer:
        return Answer(status, {"content-type": _JSON}, [error_body(wire, status, message)])


def rejection(
    wire: str, data: dict[str, Any], model: str, preset: str | None = None
) -> tuple[int, str] | None:
    """``(status, message)`` when the real API would reject this request body, else None."""
    check = strict_check(wire)
    return None if check is None else check(data, model, preset)


def _text_only(reply: Reply) -> Reply:
    """``reply`` without its tool calls (and without the ``tool_calls`` finish they imply)."""
    pieces = tuple(p for p in reply.pieces if not isinstance(p, Call))
    finish = None if reply.finish_reason == "tool_calls" else reply.finish_reason
    return replace(reply, pieces=pieces, finish_reason=finish)


def _http_error(entry: Entry, wire: str, headers: dict[str, str]) -> Answer:
    if entry.retry_after is not None:
        headers["retry-after"] = f"{entry.retry_after:g}"
    body = error_body(wire, entry.status, entry.error)
    pieces: list[Piece] = [float(entry.delay_first)] if entry.delay_first else []
    return Answer(entry.status, {"content-type": _JSON, **headers}, [*pieces, body])


def _recorded(entry: Entry, recorded: bytes, headers: dict[str, str]) -> Answer:
    ndjson = recorded.lstrip().startswith(b"{")
    ctype = entry.content_type or (NDJSON_TYPE if ndjson else SSE_TYPE)
    pieces = _paced(list(split_recorded(recorded, entry.split)), entry)
    return Answer(entry.status, {"content-type": ctype, **headers}, pieces, stream=True)


def _rendered(entry: Entry, seen: Seen, headers: dict[str, str]) -> Answer:
    wire = seen.wire or default_wire()
    request = _body(seen)
    if seen.stream:
        ctype = wire_spec(wire).stream_type
        rendered: list[Piece] = list(
            render_stream(
                entry.reply,
                wire,
                seen.model,
                prompt_tokens=seen.prompt_tokens,
                include_usage=seen.include_usage,
                request=request,
            )
        )
        pieces = _paced(rendered, entry)
        return Answer(entry.status, {"content-type": ctype, **headers}, pieces, stream=True)
    body = render_body(
        entry.reply, wire, seen.model, prompt_tokens=seen.prompt_tokens, request=request
    )
    fail = entry.reply.failure
    status = entry.status if fail is None else error_status(fail.kind, wire)
    pieces = _paced([body], entry)
    if seen.json_array and fail is None:
        pieces = [b"[", *pieces, b"]"]  # a streaming path asked without SSE: a JSON array
    return Answer(status, {"content-type": _JSON, **headers}, pieces)


def _body(seen: Seen) -> dict[str, Any] | None:
    try:
        body = seen.json()
    except (ValueError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


def answer(entry: Entry, seen: Seen, number: int = 1) -> Answer:
    """The answer one script entry gives to request number ``number``."""
    headers = {"x-request-id": f"req_kairos_{number:06d}", **entry.headers}
    if entry.status >= 400:
        return _http_error(entry, seen.wire or default_wire(), headers)
    if entry.recorded is not None:
        return _recorded(entry, entry.recorded, headers)
    return _rendered(entry, seen, headers)
