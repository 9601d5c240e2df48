"""The provider registry: wire formats (codec modules, imported lazily) and presets (data rows).

An OpenAI-compatible endpoint that needs no code is one row in ``PRESETS``; a new wire format
is one codec module plus one entry in ``WIRES``. Core modules never name a provider.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._codec import WireCodec
from ..errors import ConfigurationError
from ._base import CodecConfig

__all__ = ["PRESETS", "WIRES", "CodecConfig", "Preset", "make_codec", "split_model"]

# wire format -> "module:Class" (imported on first use, so `import kairos` stays light)
WIRES: Mapping[str, str] = {
    "openai-chat": "kairos.providers._openai_compat:OpenAICompatCodec",
    "anthropic-messages": "kairos.providers.anthropic:AnthropicCodec",
    "gemini": "kairos.providers.gemini:GeminiCodec",
    "ollama-chat": "kairos.providers.ollama:OllamaCodec",
}


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
        ),
        _P(
            "anthropic",
            "anthropic-messages",
            "https://api.anthropic.com",
            ("ANTHROPIC_API_KEY",),
            "ANTHROPIC_BASE_URL",
            default_model="claude-haiku-4-5",
            note="Anthropic Messages",
        ),
        _P(
            "gemini",
            "gemini",
            "https://generativelanguage.googleapis.com",
            ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
            "GEMINI_BASE_URL",
            default_model="gemini-2.5-flash",
            note="Gemini streamGenerateContent (SSE)",
        ),
        _P(
            "qwen",
            "openai-chat",
            "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
            ("DASHSCOPE_API_KEY",),
            "DASHSCOPE_BASE_URL",
            default_model="qwen-plus",
            note="Alibaba DashScope compatible mode, international endpoint",
        ),
        _P(
            "qwen-cn",
            "openai-chat",
            "https://dashscope.aliyuncs.com/compatible-mode/v1",
            ("DASHSCOPE_API_KEY",),
            "DASHSCOPE_BASE_URL",
            default_model="qwen-plus",
            note="Alibaba DashScope compatible mode, mainland China endpoint",
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
        ),
        _P(
            "openai-compatible",
            "openai-chat",
            "",
            ("OPENAI_COMPATIBLE_API_KEY",),
            "OPENAI_COMPATIBLE_BASE_URL",
            key_required=False,
            note="any Chat Completions server; pass base_url",
        ),
        _P(
            "groq",
            "openai-chat",
            "https://api.groq.com/openai/v1",
            ("GROQ_API_KEY",),
            default_model="llama-3.3-70b-versatile",
            note="Groq",
        ),
        _P(
            "deepseek",
            "openai-chat",
            "https://api.deepseek.com/v1",
            ("DEEPSEEK_API_KEY",),
            default_model="deepseek-chat",
            note="DeepSeek",
        ),
        _P(
            "openrouter",
            "openai-chat",
            "https://openrouter.ai/api/v1",
            ("OPENROUTER_API_KEY",),
            default_model="openai/gpt-4o-mini",
            note="OpenRouter",
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


def split_model(spec: str) -> tuple[str, str]:
    """``"anthropic/claude-x"`` -> ``("anthropic", "claude-x")``; a bare name is a provider."""
    name, sep, model = spec.partition("/")
    if name in PRESETS:
        return name, model
    if not sep:
        raise ConfigurationError(f"unknown provider {spec!r}; known: {', '.join(PRESETS)}")
    raise ConfigurationError(f"unknown provider {name!r} in {spec!r}; known: {', '.join(PRESETS)}")


def make_codec(
    name: str,
    *,
    model: str = "",
    api_key: str | None = None,
    base_url: str | None = None,
    headers: Mapping[str, str] | None = None,
    options: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> WireCodec:
    """Build the codec for a preset, reading keys and base URLs from ``env`` (default
    ``os.environ``) when not given."""
    preset = PRESETS.get(name)
    if preset is None:
        raise ConfigurationError(f"unknown provider {name!r}; known: {', '.join(PRESETS)}")
    env = os.environ if env is None else env
    key = api_key or next((env[k] for k in preset.key_env if env.get(k)), None)
    url = base_url or (env.get(preset.base_url_env) if preset.base_url_env else None)
    # The provider's own endpoint needs a key; a server at another base URL may not.
    if preset.key_required and not key and not url:
        wanted = " or ".join(preset.key_env)
        raise ConfigurationError(f"{name}: no API key (set {wanted} or pass api_key=)")
    url = url or preset.base_url
    if not url:
        raise ConfigurationError(f"{name}: a base URL is required (pass base_url=)")
    if "://" not in url:  # "host:port", as OLLAMA_HOST allows
        url = f"http://{url}"
    module_name, _, cls_name = WIRES[preset.wire].partition(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    config = CodecConfig(
        provider=name,
        base_url=url.rstrip("/"),
        default_model=model or preset.default_model,
        api_key=key,
        headers=dict(headers or {}),
        options={**preset.options, **(options or {})},
    )
    codec: WireCodec = cls(config)
    return codec
