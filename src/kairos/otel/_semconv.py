"""The GenAI semantic-convention names kairos emits, and the values it reads them from.

Pure data and functions (no OpenTelemetry import): attribute keys, metric names, units and
bucket boundaries, the switches read from the environment, and the JSON of captured messages.
Sources are cited in the package docstring (:mod:`kairos.otel`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .._observe import CallEnd, CallInfo
from ..llm import (
    Audio,
    ChatResponse,
    Document,
    Image,
    Message,
    ReasoningBlock,
    Refusal,
    Role,
    TextPart,
    ToolCall,
)
from ..providers import genai_provider

__all__ = [
    "DURATION",
    "DURATION_BUCKETS",
    "INPUT_TOKENS_LATEST",
    "OUTPUT_TOKENS_LATEST",
    "TIME_PER_OUTPUT_CHUNK",
    "TIME_TO_FIRST_CHUNK",
    "TOKEN_BUCKETS",
    "TOKEN_USAGE",
    "capture_content",
    "end_attributes",
    "error_type",
    "input_messages",
    "latest_experimental",
    "output_messages",
    "request_attributes",
    "system_instructions",
]

OPERATION = "chat"

# metrics (semantic-conventions v1.41.0 docs/gen-ai/gen-ai-metrics.md)
DURATION = "gen_ai.client.operation.duration"
TOKEN_USAGE = "gen_ai.client.token.usage"
TIME_TO_FIRST_CHUNK = "gen_ai.client.operation.time_to_first_chunk"
TIME_PER_OUTPUT_CHUNK = "gen_ai.client.operation.time_per_output_chunk"
# the newer names (semantic-conventions-genai docs/gen-ai/gen-ai-token-metrics.md)
INPUT_TOKENS_LATEST = "gen_ai.client.inference.operation.input_tokens"
OUTPUT_TOKENS_LATEST = "gen_ai.client.inference.operation.output_tokens"

DURATION_BUCKETS = tuple(round(0.01 * 2**i, 2) for i in range(14))  # 0.01, 0.02, ... 81.92
TOKEN_BUCKETS = tuple(4.0**i for i in range(14))  # 1, 4, 16, ... 67108864

# message content may be recorded when this says so (opentelemetry-python-contrib's switch)
CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
CAPTURE_ON = {"true", "span_only", "span_and_event"}
OPT_IN_ENV = "OTEL_SEMCONV_STABILITY_OPT_IN"
LATEST = "gen_ai_latest_experimental"

# kairos' finish reasons in the output-messages schema's terms (FinishReason enum; other
# values are allowed as strings)
_SCHEMA_FINISH = {"tool_calls": "tool_call"}


def latest_experimental(env: Mapping[str, str] = os.environ) -> bool:
    """Whether ``OTEL_SEMCONV_STABILITY_OPT_IN`` (comma-separated) asks for the latest names."""
    return LATEST in {v.strip() for v in env.get(OPT_IN_ENV, "").split(",")}


def capture_content(env: Mapping[str, str] = os.environ) -> bool:
    """Whether message content may be recorded on spans (off unless the switch says so)."""
    return env.get(CAPTURE_ENV, "").strip().lower() in CAPTURE_ON


def server(base_url: str) -> dict[str, Any]:
    """``server.address`` and ``server.port`` of a base URL (the scheme's port if none)."""
    try:
        parts = urlsplit(base_url)
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    except ValueError:
        return {}
    out: dict[str, Any] = {}
    if parts.hostname:
        out["server.address"] = parts.hostname
        if port:
            out["server.port"] = port
    return out


def request_attributes(call: CallInfo) -> dict[str, Any]:
    """The attributes known when the call starts (span and metrics share the first ones)."""
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": OPERATION,
        "gen_ai.provider.name": genai_provider(call.provider),
    }
    if call.model:
        attrs["gen_ai.request.model"] = call.model
    attrs.update(server(call.base_url))
    return attrs


def span_request_attributes(call: CallInfo) -> dict[str, Any]:
    req = call.request
    attrs = request_attributes(call)
    attrs["gen_ai.request.stream"] = True  # kairos always streams (chat() drains a stream)
    if req.max_tokens is not None:
        attrs["gen_ai.request.max_tokens"] = req.max_tokens
    if req.temperature is not None:
        attrs["gen_ai.request.temperature"] = float(req.temperature)
    if req.top_p is not None:
        attrs["gen_ai.request.top_p"] = float(req.top_p)
    if req.stop:
        attrs["gen_ai.request.stop_sequences"] = list(req.stop)
    return attrs


def error_type(err: BaseException | None) -> str | None:
    """A low-cardinality ``error.type``: the kairos error's class name (the error tree in
    :mod:`kairos.errors`: ``RateLimitError``, ``IdleTimeout``, ``Cancelled``...)."""
    return None if err is None else type(err).__name__


def end_attributes(end: CallEnd) -> dict[str, Any]:
    """The span attributes known when the call ends."""
    attrs: dict[str, Any] = {
        "gen_ai.response.finish_reasons": [end.raw_finish_reason or end.finish_reason],
        "kairos.attempts": end.stats.attempts,
        "kairos.chunks": end.stats.chunks,
    }
    if end.response_model:
        attrs["gen_ai.response.model"] = end.response_model
    if end.response_id:
        attrs["gen_ai.response.id"] = end.response_id
    if end.stats.time_to_first_chunk is not None:
        attrs["gen_ai.response.time_to_first_chunk"] = end.stats.time_to_first_chunk
    usage = end.usage
    if usage is not None:
        attrs["gen_ai.usage.input_tokens"] = usage.prompt_tokens
        attrs["gen_ai.usage.output_tokens"] = usage.completion_tokens
        if usage.cached_tokens is not None:
            attrs["gen_ai.usage.cache_read.input_tokens"] = usage.cached_tokens
        if usage.reasoning_tokens is not None:
            attrs["gen_ai.usage.reasoning.output_tokens"] = usage.reasoning_tokens
    kind = error_type(end.error)
    if kind is not None:
        attrs["error.type"] = kind
    return attrs


# -- captured content: the input / output messages JSON schemas --------------------------------
def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _arguments(text: str) -> Any:
    try:
        return json.loads(text or "{}")
    except ValueError:
        return text  # not JSON: kept as the text received


BLOB_LIMIT = 64 * 1024  # media bytes recorded inline up to this size; larger: size only


def _parts(message: Message) -> list[dict[str, Any]]:
    """A message's parts in the conventions' shapes: text, tool_call, tool_call_response,
    reasoning, and media as ``uri`` (a URL) or ``blob`` (base64 ``content`` when at most
    :data:`BLOB_LIMIT` bytes, else only ``mime_type``, ``modality`` and ``size``)."""
    if message.role is Role.TOOL:
        return [
            {"type": "tool_call_response", "id": message.tool_call_id, "response": message.content}
        ]
    return [p for p in (_part(part) for part in message.ordered_parts()) if p is not None]


def _part(part: Any) -> dict[str, Any] | None:
    if isinstance(part, TextPart):
        return {"type": "text", "content": part.text} if part.text else None
    if isinstance(part, ToolCall):
        args = _arguments(part.arguments)
        return {"type": "tool_call", "id": part.id, "name": part.name, "arguments": args}
    if isinstance(part, ReasoningBlock):
        return {"type": "reasoning", "content": part.text} if part.text else None
    if isinstance(part, Refusal):
        return {"type": "text", "content": part.text}
    if isinstance(part, Image | Document | Audio):
        out: dict[str, Any] = {"modality": part.kind, "mime_type": part.media_type}
        if part.url:
            return {"type": "uri", "uri": part.url, **out}
        data = part.data or b""
        if len(data) <= BLOB_LIMIT:
            return {"type": "blob", "content": part.base64(), **out}
        return {"type": "blob", "size": len(data), **out}
    return None  # provider parts (server tools...): not part of the conventions


def system_instructions(call: CallInfo) -> str | None:
    """``gen_ai.system_instructions``: the system messages' text parts, as JSON."""
    parts = [
        {"type": "text", "content": m.content}
        for m in call.request.messages
        if m.role is Role.SYSTEM and m.content
    ]
    return _dumps(parts) if parts else None


def input_messages(call: CallInfo) -> str:
    """``gen_ai.input.messages``: the chat history sent (system messages apart), as JSON."""
    out = []
    for m in call.request.messages:
        if m.role is Role.SYSTEM:
            continue
        item: dict[str, Any] = {"role": m.role.value, "parts": _parts(m)}
        if m.name:
            item["name"] = m.name
        out.append(item)
    return _dumps(out)


def output_messages(response: ChatResponse, finish_reason: str) -> str:
    """``gen_ai.output.messages``: the one answer of the stream (so far, if it failed)."""
    parts: list[dict[str, Any]] = []
    if response.reasoning:
        parts.append({"type": "reasoning", "content": response.reasoning})
    parts += _parts(Message.assistant(response.content, response.tool_calls))
    reason = _SCHEMA_FINISH.get(finish_reason, finish_reason)
    return _dumps([{"role": "assistant", "parts": parts, "finish_reason": reason}])
