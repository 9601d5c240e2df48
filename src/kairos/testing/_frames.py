"""What every wire renderer shares: JSON and SSE framing, and each wire's error JSON.

Shapes (see the recorded bodies under ``tests/fixtures/conformance`` and each API's reference):
OpenAI Chat Completions ``chat.completion.chunk`` SSE lines, reasoning as ``reasoning_content``
(DeepSeek, DashScope), tool calls with ``index``/``id`` then argument fragments, a finish chunk,
a usage-only chunk (``choices: []``) and ``data: [DONE]``; in-band errors ``{"error": {...}}``
(OpenRouter, Groq). Anthropic Messages named events (``message_start`` with input usage,
content blocks with ``text_delta`` / ``thinking_delta`` + ``signature_delta`` /
``input_json_delta``, ``message_delta`` with ``stop_reason`` and output usage, ``message_stop``;
``event: error``). Gemini ``data:`` lines framed with CRLF, each a ``GenerateContentResponse``;
the last carries ``finishReason`` and ``usageMetadata``; errors ``{"error": {code, message,
status}}``. Ollama NDJSON lines, tool-call arguments as objects, a final ``done: true`` line
with ``done_reason``, ``prompt_eval_count`` and ``eval_count``; errors ``{"error": "text"}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ._script import Fail, Pause, Piece, Reasoning, Text

if TYPE_CHECKING:
    from ._render import Ctx

__all__ = [
    "Frame",
    "Renderer",
    "dumps",
    "error_object",
    "fragments",
    "merged",
    "sse",
    "wire_finish",
]

Frame = bytes | float


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def sse(obj: Any, event: str | None = None, eol: bytes = b"\n") -> bytes:
    head = b"event: " + event.encode() + eol if event else b""
    return head + b"data: " + dumps(obj) + eol + eol


def fragments(text: str, size: int = 12) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def wire_finish(raw: str, table: dict[str, str]) -> str:
    return table.get(raw, raw)


def merged(pieces: Sequence[Piece]) -> list[Piece]:
    """Pieces up to a Fail, with consecutive texts (and reasonings) joined, pauses dropped."""
    out: list[Piece] = []
    for p in pieces:
        if isinstance(p, Fail):
            break
        if isinstance(p, Pause):
            continue
        if out and type(p) is type(out[-1]) and isinstance(p, Text | Reasoning):
            prev = out[-1]
            assert isinstance(prev, Text | Reasoning)
            out[-1] = type(p)(prev.text + p.text)
        else:
            out.append(p)
    return out


# -- errors -----------------------------------------------------------------------------------
# kind -> (OpenAI type, code, status); statuses ride in-band as Groq's "status_code" does
_OPENAI_ERR = {
    "overloaded": ("overloaded_error", None, 503),
    "rate_limit": ("requests", "rate_limit_exceeded", 429),
    "server": ("server_error", None, 500),
    "invalid_request": ("invalid_request_error", None, 400),
    "authentication": ("invalid_request_error", "invalid_api_key", 401),
    "context_length": ("invalid_request_error", "context_length_exceeded", 400),
}
# Anthropic "Errors" page: error.type values (no distinct context-length type)
_ANTHROPIC_ERR = {
    "overloaded": "overloaded_error",
    "rate_limit": "rate_limit_error",
    "server": "api_error",
    "invalid_request": "invalid_request_error",
    "authentication": "authentication_error",
    "context_length": "invalid_request_error",
}
# google.rpc.Status: (code, status name)
_GEMINI_ERR = {
    "overloaded": (503, "UNAVAILABLE"),
    "rate_limit": (429, "RESOURCE_EXHAUSTED"),
    "server": (500, "INTERNAL"),
    "invalid_request": (400, "INVALID_ARGUMENT"),
    "authentication": (400, "INVALID_ARGUMENT"),
    "context_length": (400, "INVALID_ARGUMENT"),
}


def error_object(fail: Fail, wire: str, *, in_band: bool) -> dict[str, Any]:
    """The wire's error JSON for ``fail`` (an in-band event's data, or an HTTP error body)."""
    if wire == "anthropic":
        kind = _ANTHROPIC_ERR[fail.kind]
        return {"type": "error", "error": {"type": kind, "message": fail.message}}
    if wire == "gemini":
        number, name = _GEMINI_ERR[fail.kind]
        info: dict[str, Any] = {"code": number, "message": fail.message, "status": name}
        if fail.kind == "authentication":
            info["details"] = [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                }
            ]
        return {"error": info}
    if wire == "ollama":
        return {"error": fail.message}  # Ollama drops the status once lines were written
    etype, code, status = _OPENAI_ERR[fail.kind]
    err: dict[str, Any] = {"message": fail.message, "type": etype, "param": None, "code": code}
    if in_band:
        err["status_code"] = status
    return {"error": err}


Renderer = Callable[["Ctx"], Iterator[Frame]]
