"""The emulator's wire table: which paths each provider answers, and its request-body facts.

One data row per wire (the emulator's counterpart of the provider presets); ``_core`` reads
these rows and names no provider. Paths are each provider's real ones, so official SDKs work
with only a base-URL change:

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
routes under ``/v1`` and ``/v1alpha`` as well, and ``streamGenerateContent`` without
``alt=sse`` as a JSON array. Anything else is a 404 in the error shape of the provider the path
looks like.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

__all__ = [
    "DEFAULT_WIRE",
    "NDJSON_TYPE",
    "SSE_TYPE",
    "WIRES",
    "Route",
    "WireFacts",
    "probe",
    "route",
]

SSE_TYPE = "text/event-stream; charset=utf-8"
NDJSON_TYPE = "application/x-ndjson"
_JSON = "application/json"


@dataclass(frozen=True)
class WireFacts:
    chat_paths: tuple[str, ...] = ()  # exact POST paths
    messages_key: str = "messages"  # the request's list of turns
    content_key: str = "content"  # a turn's text (a string or a list of parts with "text")
    stream_default: bool = False  # streaming when the body has no "stream" flag
    usage_opt_in: bool = False  # streamed usage only when stream_options.include_usage
    stream_type: str = SSE_TYPE


DEFAULT_WIRE = "openai"
WIRES: dict[str, WireFacts] = {
    "openai": WireFacts(
        ("/v1/chat/completions", "/chat/completions", "/compatible-mode/v1/chat/completions"),
        usage_opt_in=True,
    ),
    "anthropic": WireFacts(("/v1/messages",)),
    "gemini": WireFacts(messages_key="contents", content_key="parts"),  # model in the path
    "ollama": WireFacts(("/api/chat",), stream_default=True, stream_type=NDJSON_TYPE),
}
_MODEL_PATH = re.compile(r"^/(v1beta|v1|v1alpha)/(models|tunedModels)/([^/:]+):(\w+)$")
_PROBES = {"/api/tags": "tags", "/api/version": "version", "/": "root"}  # Ollama's


@dataclass(frozen=True)
class Route:
    wire: str
    kind: str  # "chat" | "tags" | "version" | "root" | "unknown"
    model: str = ""  # from the path
    stream: bool | None = None  # from the path; None: from the body
    json_array: bool = False  # a streaming path asked without SSE


def route(method: str, path: str, query: str) -> Route:
    """Which wire and endpoint a request is for (``kind="unknown"`` for a 404)."""
    path = "/" + path.strip("/")
    if method == "POST":
        for wire, facts in WIRES.items():
            if path in facts.chat_paths:
                return Route(wire, "chat")
        m = _MODEL_PATH.match(path)
        if m and m.group(4) in ("streamGenerateContent", "generateContent"):
            streaming = m.group(4) == "streamGenerateContent"
            sse = streaming and "alt=sse" in query.split("&")
            return Route("gemini", "chat", m.group(3), sse, json_array=streaming and not sse)
    if method in ("GET", "HEAD") and path in _PROBES:
        return Route("ollama", _PROBES[path])
    return Route(_looks_like(path), "unknown")


def _looks_like(path: str) -> str:
    """The provider an unknown path most looks like (for the shape of its 404)."""
    if "/v1beta" in path or "/v1alpha" in path or ":" in path.rsplit("/", 1)[-1]:
        return "gemini"
    if path.startswith("/api/") or path.endswith(("/api/chat", "/api/generate")):
        return "ollama"
    if path.endswith(("/v1/messages", "/v1/complete")) or "/v1/messages/" in path:
        return "anthropic"
    return DEFAULT_WIRE


def probe(kind: str, model: str) -> tuple[int, str, bytes]:
    """Ollama's liveness answers (``GET /``, ``/api/version``, ``/api/tags``)."""
    if kind == "root":
        return 200, "text/plain; charset=utf-8", b"Ollama is running"
    if kind == "version":
        return 200, _JSON, b'{"version":"0.0.0"}'
    entry = {
        "name": model,
        "model": model,
        "modified_at": "1970-01-01T00:00:00Z",
        "size": 0,
        "digest": "0" * 64,
        "details": {"format": "kairos-serve", "family": "emulator"},
    }
    return 200, _JSON, json.dumps({"models": [entry]}).encode()
