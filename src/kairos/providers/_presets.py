"""Preset rows: endpoints that speak a known wire, with their base URL, key and defaults.

An OpenAI-compatible endpoint that needs no code is one row here. Flags the CLI and the
emulator read: ``auto`` (``kairos stream`` picks it when its key is set, in table order),
``local`` (a server on this machine: the CLI checks whether it answers), ``demo`` (the preset
the embedded offline demo streams through), ``sdk_env`` (base-URL variables the provider's
official SDK reads besides ``base_url_env``; ``kairos serve`` prints them), ``models``
(patterns of the model names the provider serves: ``kairos serve --strict`` applies the
provider's request rules to requests for them). ``endpoint_path``:
``base_url_env`` holds only the resource's origin (Azure's ``AZURE_OPENAI_ENDPOINT``) and the
base URL is that plus this path. Codec options a row may set: ``auth_header`` (send the key as
is in this header instead of ``authorization: Bearer``), ``max_tokens_field`` (Chat
Completions), ``include_usage``. ``genai_provider``:
the ``gen_ai.provider.name`` value OpenTelemetry telemetry reports for the preset (a registered
value where the GenAI semantic conventions have one; empty: the preset's own name).

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
    endpoint_path: str = ""
    genai_provider: str = ""
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
            "openai-responses",
            "openai-responses",
            "https://api.openai.com/v1",
            ("OPENAI_API_KEY",),
            "OPENAI_BASE_URL",
            default_model="gpt-5-mini",
            note="OpenAI Responses API (/v1/responses)",
            genai_provider="openai",  # the provider, not the API it is reached by
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
            genai_provider="gcp.gemini",  # the registered value for generativelanguage
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
            genai_provider="alibaba_cloud.dashscope",  # none registered: cloud.provider + service
        ),
        _P(
            "qwen-cn",
            "openai-chat",
            "https://dashscope.aliyuncs.com/compatible-mode/v1",
            ("DASHSCOPE_API_KEY",),
            "DASHSCOPE_BASE_URL",
            default_model="qwen-plus",
            note="Alibaba DashScope compatible mode, mainland China endpoint",
            genai_provider="alibaba_cloud.dashscope",
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
            "azure",
            "openai-chat",
            "",
            ("AZURE_OPENAI_API_KEY",),
            "AZURE_OPENAI_ENDPOINT",
            note="Azure OpenAI v1 API, Chat Completions; the model is your deployment name",
            genai_provider="azure.ai.openai",
            options={"auth_header": "api-key", "max_tokens_field": "max_completion_tokens"},
            endpoint_path="/openai/v1",
        ),
        _P(
            "azure-responses",
            "openai-responses",
            "",
            ("AZURE_OPENAI_API_KEY",),
            "AZURE_OPENAI_ENDPOINT",
            note="Azure OpenAI v1 API, Responses; the model is your deployment name",
            genai_provider="azure.ai.openai",
            options={"auth_header": "api-key"},
            endpoint_path="/openai/v1",
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
            # "JSON Output" guide: response_format {"type": "json_object"} only (json_schema is
            # a 400), and the prompt must say "json"
            options={
                "reasoning_echo": "tool_calls",
                "reasoning_param": "deepseek",
                "json_mode_only": True,
            },
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
