"""Preset rows: endpoints that speak a known wire, with their base URL, key and defaults.

An OpenAI-compatible endpoint that needs no code is one row here. Flags the CLI and the
emulator read: ``auto`` (``kairos stream`` picks it when its key is set, in table order),
``local`` (a server on this machine: the CLI checks whether it answers), ``demo`` (the preset
the embedded offline demo streams through), ``sdk_env`` (base-URL variables the provider's
official SDK reads besides ``base_url_env``; ``kairos serve`` prints them), ``models``
(patterns of the model names the provider serves: ``kairos serve --strict`` applies the
provider's request rules to requests for them).

Round-trip and reasoning rules are codec options on the rows (Chat Completions presets):
``reasoning_echo`` says which reasoning assistant messages carry back -- ``"none"`` (the
default), ``"tool_calls"`` (``reasoning_content`` on every assistant message with
``tool_calls``), ``"always"`` (``reasoning_content`` on assistant messages that had reasoning),
``"details"`` (OpenRouter ``reasoning_details`` as received) -- or ``(model pattern, mode)``
rows for a provider whose models differ; ``reasoning_param`` how ``ChatRequest.reasoning`` is
sent (see ``openai_chat/request.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PRESETS", "Preset"]


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    wire: str
    base_url: str
    key_env: tuple[str, ...] = ()
    base_url_env: str | None = None
    key_required: bool = True
    default_model: str = ""
    note: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    auto: bool = False
    local: bool = False
    demo: bool = False
    sdk_env: tuple[str, ...] = ()
    models: tuple[str, ...] = ()


# DashScope (Model Studio "Deep thinking"): enable_thinking; the official SDK sends the
# streamed reasoning_content back on the assistant message, which the API accepts
_DASHSCOPE: Mapping[str, Any] = {"reasoning_echo": "always", "reasoning_param": "dashscope"}

_P = Preset
PRESETS: Mapping[str, Preset] = {
    p.name: p
    for p in (
        _P(
            "openai",
            "openai-chat",
            "https://api.openai.com/v1",
            ("OPENAI_API_KEY",),
            "OPENAI_BASE_URL",
            default_model="gpt-4o-mini",
            note="OpenAI Chat Completions",
            options={"max_tokens_field": "max_completion_tokens"},
            auto=True,
        ),
        _P(
            "anthropic",
            "anthropic-messages",
            "https://api.anthropic.com",
            ("ANTHROPIC_API_KEY",),
            "ANTHROPIC_BASE_URL",
            default_model="claude-haiku-4-5",
            note="Anthropic Messages",
            auto=True,
        ),
        _P(
            "gemini",
            "gemini",
            "https://generativelanguage.googleapis.com",
            ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
            "GEMINI_BASE_URL",
            default_model="gemini-2.5-flash",
            note="Gemini streamGenerateContent (SSE)",
            auto=True,
            sdk_env=("GOOGLE_GEMINI_BASE_URL",),
        ),
        _P(
            "qwen",
            "openai-chat",
            "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
            ("DASHSCOPE_API_KEY",),
            "DASHSCOPE_BASE_URL",
            default_model="qwen-plus",
            note="Alibaba DashScope compatible mode, international endpoint",
            options=_DASHSCOPE,
            auto=True,
        ),
        _P(
            "qwen-cn",
            "openai-chat",
            "https://dashscope.aliyuncs.com/compatible-mode/v1",
            ("DASHSCOPE_API_KEY",),
            "DASHSCOPE_BASE_URL",
            default_model="qwen-plus",
            note="Alibaba DashScope compatible mode, mainland China endpoint",
            options=_DASHSCOPE,
        ),
        _P(
            "ollama",
            "ollama-chat",
            "http://localhost:11434",
            ("OLLAMA_API_KEY",),
            "OLLAMA_HOST",
            key_required=False,
            default_model="llama3.2",
            note="Ollama native /api/chat",
            local=True,
        ),
        _P(
            "openai-compatible",
            "openai-chat",
            "",
            ("OPENAI_COMPATIBLE_API_KEY",),
            "OPENAI_COMPATIBLE_BASE_URL",
            key_required=False,
            note="any Chat Completions server; pass base_url",
            demo=True,
        ),
        _P(
            "groq",
            "openai-chat",
            "https://api.groq.com/openai/v1",
            ("GROQ_API_KEY",),
            default_model="llama-3.3-70b-versatile",
            note="Groq",
            auto=True,
        ),
        _P(
            "deepseek",
            "openai-chat",
            "https://api.deepseek.com/v1",
            ("DEEPSEEK_API_KEY",),
            default_model="deepseek-chat",
            note="DeepSeek",
            # Thinking mode (on by default): an assistant message with tool_calls must carry its
            # reasoning_content in every later request, or the API answers 400 ("Thinking
            # Mode" guide, "Tool calls"); without tool calls it is ignored. The older
            # deepseek-reasoner rejected reasoning_content in any input message, but it could
            # not call tools: sending it on tool-call turns only is right for both.
            options={"reasoning_echo": "tool_calls", "reasoning_param": "deepseek"},
            auto=True,
            models=("deepseek-*",),
        ),
        _P(
            "openrouter",
            "openai-chat",
            "https://openrouter.ai/api/v1",
            ("OPENROUTER_API_KEY",),
            default_model="openai/gpt-4o-mini",
            note="OpenRouter",
            # "Reasoning tokens": pass reasoning_details back unmodified to keep reasoning
            # across turns (signed for some upstream models)
            options={"reasoning_echo": "details", "reasoning_param": "openrouter"},
            auto=True,
        ),
        _P(
            "vllm",
            "openai-chat",
            "http://localhost:8000/v1",
            key_required=False,
            note="local vLLM server",
        ),
        _P(
            "lmstudio",
            "openai-chat",
            "http://localhost:1234/v1",
            key_required=False,
            note="local LM Studio server",
        ),
        _P(
            "llamacpp",
            "openai-chat",
            "http://localhost:8080/v1",
            key_required=False,
            note="local llama.cpp server",
        ),
    )
}
