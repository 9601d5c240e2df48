"""The emulator core of ``kairos serve``: pure (sans-I/O), shared by every host.

Given a request (method, path, query, headers, body bytes) and a script, :class:`Emulator`
decides the answer: status, headers and body pieces (``bytes``, or a ``float`` meaning "pause
that many seconds"). It never touches a socket or a clock; the Starlette app
(``kairos.serve._app``) and the embedded offline demo's stdlib host
(``kairos.providers._offline``) only move its pieces onto the wire.

Routes (each provider's real paths, so official SDKs work with only a base URL change):

==========================================================  =========  ======================
``POST /v1/chat/completions``                               openai     SSE if ``"stream"``
``POST /compatible-mode/v1/chat/completions`` (DashScope)   openai     SSE if ``"stream"``
``POST /v1/messages``                                       anthropic  SSE if ``"stream"``
``POST /v1beta/models/{model}:streamGenerateContent``       gemini     SSE with ``alt=sse``
``POST /v1beta/models/{model}:generateContent``             gemini     JSON
``POST /api/chat``                                          ollama     NDJSON unless
                                                                       ``"stream": false``
``GET /api/tags``, ``GET /api/version``, ``GET /``          ollama     (so probes succeed)
==========================================================  =========  ======================

The OpenAI route also answers at ``/chat/completions`` (a base URL without ``/v1``), the Gemini
routes under ``/v1`` and ``/v1alpha`` as well. Anything else is a 404 in the error shape of the
provider the path looks like.

Choosing the entry: an entry with ``match`` answers every request whose last user message
contains it (case-insensitive; first match wins; not consumed). Other requests take the ordered
entries in turn; after the last one the last repeats (a "429 then success" script stays on
success), or the script restarts with ``cycle: true``. Script schema: :mod:`kairos.serve._script`.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._script import Entry, Script
from ._shapes import error_body

__all__ = ["Answer", "Emulator", "Seen", "error_body", "route", "split_recorded"]

Piece = bytes | float
DEFAULT_MODEL = "kairos-emulator"
_SSE = "text/event-stream; charset=utf-8"
_NDJSON = "application/x-ndjson"
_JSON = "application/json"
_GEMINI = re.compile(r"^/(v1beta|v1|v1alpha)/(models|tunedModels)/([^/:]+):(\w+)$")


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


@dataclass(frozen=True)
class Route:
    wire: str  # "openai" | "anthropic" | "gemini" | "ollama"
    kind: str  # "chat" | "tags" | "version" | "root" | "unknown"
    model: str = ""  # from the path (Gemini)
    stream: bool | None = None  # from the path (Gemini); None: from the body


def route(method: str, path: str, query: str) -> Route:
    """Which provider and endpoint a request is for (``kind="unknown"`` for a 404)."""
    path = "/" + path.strip("/")
    post = method == "POST"
    if path in ("/v1/chat/completions", "/chat/completions") and post:
        return Route("openai", "chat")
    if path == "/compatible-mode/v1/chat/completions" and post:
        return Route("openai", "chat")
    if path == "/v1/messages" and post:
        return Route("anthropic", "chat")
    if path == "/api/chat" and post:
        return Route("ollama", "chat")
    if method in ("GET", "HEAD") and path in ("/api/tags", "/api/version", "/"):
        return Route("ollama", {"/api/tags": "tags", "/api/version": "version"}.get(path, "root"))
    m = _GEMINI.match(path)
    if m and post and m.group(4) in ("streamGenerateContent", "generateContent"):
        sse = m.group(4) == "streamGenerateContent" and "alt=sse" in query.split("&")
        return Route("gemini", "chat", m.group(3), sse)
    return Route(_looks_like(path), "unknown")


def _looks_like(path: str) -> str:
    """The provider an unknown path most looks like (for the shape of its 404)."""
    if "/v1beta" in path or "/v1alpha" in path or ":" in path.rsplit("/", 1)[-1]:
        return "gemini"
    if path.startswith("/api/") or path.endswith(("/api/chat", "/api/generate")):
        return "ollama"
    if path.endswith(("/v1/messages", "/v1/complete")) or "/v1/messages/" in path:
        return "anthropic"
    return "openai"


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
    from ..testing import estimate_tokens

    return max(1, estimate_tokens(text))


def all_text(wire: str, body: Any) -> str:
    """Every message's text (and the system prompt), for a rough prompt token count."""
    if not isinstance(body, dict):
        return ""
    items = body.get("contents") if wire == "gemini" else body.get("messages")
    texts = [_text(body.get("system"))]
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            texts.append(_text(item.get("parts") if wire == "gemini" else item.get("content")))
    return " ".join(texts)


def last_user_text(wire: str, body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    items = body.get("contents") if wire == "gemini" else body.get("messages")
    for item in reversed(items if isinstance(items, list) else []):
        if isinstance(item, dict) and item.get("role", "user") == "user":
            return _text(item.get("parts") if wire == "gemini" else item.get("content"))
    return ""


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

    def __init__(self, source: Source) -> None:
        self.source = source
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
        if r.kind != "chat":
            return _probe(r.kind)
        try:
            data = json.loads(body or b"{}")
        except (ValueError, RecursionError):
            return self._error(r.wire, 400, "kairos serve: the request body is not valid JSON")
        if not isinstance(data, dict):
            return self._error(r.wire, 400, "kairos serve: the request body is not a JSON object")
        seen = self._seen(r, method, path, query, headers, body, data)
        with self._lock:
            self.requests.append(seen)
            entry = self._choose(seen)
            number = len(self.requests)
        if entry is None:
            return self._error(r.wire, 500, "kairos serve: no scripted reply matches this request")
        return answer(entry, seen, number)

    def _seen(
        self,
        r: Route,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
        data: dict[str, Any],
    ) -> Seen:
        if r.stream is not None:
            stream = r.stream
        else:
            stream = data.get("stream", r.wire == "ollama") is True
        model = r.model or str(data.get("model") or "") or DEFAULT_MODEL
        lowered = {k.lower(): v for k, v in headers.items()}
        prompt = last_user_text(r.wire, data)
        tokens = _estimate(all_text(r.wire, data))
        options = data.get("stream_options")
        usage = r.wire != "openai" or (isinstance(options, dict) and options.get("include_usage"))
        return Seen(
            method, path, query, lowered, body, r.wire, model, stream, prompt, tokens, bool(usage)
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


def _probe(kind: str) -> Answer:
    if kind == "root":
        return Answer(200, {"content-type": "text/plain; charset=utf-8"}, [b"Ollama is running"])
    if kind == "version":
        return Answer(200, {"content-type": _JSON}, [b'{"version":"0.0.0"}'])
    model = {
        "name": DEFAULT_MODEL,
        "model": DEFAULT_MODEL,
        "modified_at": "1970-01-01T00:00:00Z",
        "size": 0,
        "digest": "0" * 64,
        "details": {"format": "kairos-serve", "family": "emulator"},
    }
    return Answer(200, {"content-type": _JSON}, [json.dumps({"models": [model]}).encode()])


def _http_error(entry: Entry, wire: str, headers: dict[str, str]) -> Answer:
    if entry.retry_after is not None:
        headers["retry-after"] = f"{entry.retry_after:g}"
    body = error_body(wire, entry.status, entry.error)
    pieces: list[Piece] = [float(entry.delay_first)] if entry.delay_first else []
    return Answer(entry.status, {"content-type": _JSON, **headers}, [*pieces, body])


def _recorded(entry: Entry, recorded: bytes, headers: dict[str, str]) -> Answer:
    ndjson = recorded.lstrip().startswith(b"{")
    ctype = entry.content_type or (_NDJSON if ndjson else _SSE)
    pieces = _paced(list(split_recorded(recorded, entry.split)), entry)
    return Answer(entry.status, {"content-type": ctype, **headers}, pieces, stream=True)


def _rendered(entry: Entry, seen: Seen, headers: dict[str, str]) -> Answer:
    from ..testing import error_status, render_body, render_stream

    wire = seen.wire or "openai"
    if seen.stream:
        ctype = _NDJSON if wire == "ollama" else _SSE
        rendered: list[Piece] = list(
            render_stream(
                entry.reply,
                wire,
                seen.model,
                prompt_tokens=seen.prompt_tokens,
                include_usage=seen.include_usage,
            )
        )
        pieces = _paced(rendered, entry)
        return Answer(entry.status, {"content-type": ctype, **headers}, pieces, stream=True)
    body = render_body(entry.reply, wire, seen.model, prompt_tokens=seen.prompt_tokens)
    fail = entry.reply.failure
    status = entry.status if fail is None else error_status(fail.kind, wire)
    pieces = _paced([body], entry)
    if wire == "gemini" and seen.path.endswith(":streamGenerateContent") and fail is None:
        pieces = [b"[", *pieces, b"]"]  # without alt=sse: a JSON array of responses
    return Answer(status, {"content-type": _JSON, **headers}, pieces)


def answer(entry: Entry, seen: Seen, number: int = 1) -> Answer:
    """The answer one script entry gives to request number ``number``."""
    headers = {"x-request-id": f"req_kairos_{number:06d}", **entry.headers}
    if entry.status >= 400:
        return _http_error(entry, seen.wire or "openai", headers)
    if entry.recorded is not None:
        return _recorded(entry, entry.recorded, headers)
    return _rendered(entry, seen, headers)
