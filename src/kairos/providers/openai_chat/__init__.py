"""The OpenAI Chat Completions wire: OpenAI, Qwen (DashScope compatible mode), compatible servers.

Wire facts (OpenAI API reference, "Chat Completions" / "streaming"):
``POST {base}/chat/completions`` with ``stream: true`` answers SSE ``data:`` lines holding
``chat.completion.chunk`` objects and ends with ``data: [DONE]``. With
``stream_options.include_usage`` the last chunk before ``[DONE]`` has empty ``choices`` and the
``usage``. Tool-call pieces carry ``index`` (the
position of the call) and, in their first piece, ``id`` and ``function.name``. Reasoning models
served by DeepSeek, Qwen and vLLM send ``reasoning_content``; OpenRouter and Groq send
``reasoning``. Errors inside the stream arrive as ``{"error": {...}}`` objects (OpenRouter,
Groq's ``event: error``).
"""

from __future__ import annotations

from .._spec import Route, WireSpec

__all__ = ["WIRE"]

WIRE = WireSpec(
    name="openai-chat",
    title="OpenAI Chat Completions",
    framing="sse",
    preset="openai",
    routes=(
        # OpenAI (a base URL with or without /v1), DashScope's compatible mode, Azure's v1 API
        Route(r"(/v1|/compatible-mode/v1|/openai/v1)?/chat/completions"),
    ),
    usage_opt_in=True,
)
