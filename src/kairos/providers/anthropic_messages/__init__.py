"""The Anthropic Messages wire.

Wire facts (Anthropic API reference, "Messages" / "Streaming Messages" / "Errors"):
``POST {base}/v1/messages`` with ``x-api-key`` and ``anthropic-version`` headers; ``max_tokens``
is required; the system prompt is a top-level ``system`` field; tool calls are ``tool_use``
content blocks and their answers ``tool_result`` blocks in a user turn. With ``stream: true``
the body is SSE with named events: ``message_start`` (model, input usage), then per content
block ``content_block_start`` / ``content_block_delta`` (``text_delta``, ``input_json_delta``,
``thinking_delta``, ``signature_delta``, ``citations_delta``) / ``content_block_stop``, then
``message_delta`` (``stop_reason`` and cumulative usage) and ``message_stop``. ``ping`` events
keep the connection alive and ``error`` events carry ``{"type": "error", "error": {"type",
"message"}}`` under an HTTP 200. HTTP errors use the same body and a ``request-id`` header.
Server tools (``server_tool_use``, ``web_search_tool_result``...) run on Anthropic's side: they
are not tool calls for the caller and are skipped.
"""

from __future__ import annotations

from .._spec import Route, WireSpec

__all__ = ["WIRE"]

WIRE = WireSpec(
    name="anthropic-messages",
    title="Anthropic Messages",
    framing="sse",
    preset="anthropic",
    routes=(Route(r"/v1/messages"),),
    looks_like=(r"/v1/messages$", r"/v1/complete$", r"/v1/messages/"),
    system_key="system",
    keepalive=b'event: ping\ndata: {"type": "ping"}\n\n',
)
