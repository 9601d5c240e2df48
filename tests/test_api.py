"""The public surface: exports, registry, builders, reprs."""

from __future__ import annotations

import json

import pytest

import kairos
from kairos.providers import PRESETS, make_codec, split_model


def test_all_is_sorted_and_complete() -> None:
    assert list(kairos.__all__) == sorted(kairos.__all__)
    for name in kairos.__all__:
        assert hasattr(kairos, name), name


def test_message_builders() -> None:
    call = kairos.ToolCall("c1", "f", '{"a": 1}')
    assert kairos.Message.user("hi") == kairos.Message(kairos.Role.USER, "hi")
    assert kairos.Message.system("s").role is kairos.Role.SYSTEM
    assert kairos.Message.assistant("", [call]).tool_calls == (call,)
    tool = kairos.Message.tool("42", "c1", name="f")
    assert (tool.role, tool.tool_call_id, tool.name) == (kairos.Role.TOOL, "c1", "f")


def test_tool_call_parsed_arguments() -> None:
    assert kairos.ToolCall("1", "f", '{"a": [1, 2]}').parsed_arguments() == {"a": [1, 2]}
    with pytest.raises(kairos.ProtocolError):
        kairos.ToolCall("1", "f", '{"a": ').parsed_arguments()
    with pytest.raises(kairos.ProtocolError):
        kairos.ToolCall("1", "f", "[1]").parsed_arguments()


def test_provider_model_strings() -> None:
    assert split_model("anthropic/claude-x") == ("anthropic", "claude-x")
    assert split_model("openrouter/openai/gpt-4o") == ("openrouter", "openai/gpt-4o")
    assert split_model("ollama") == ("ollama", "")
    with pytest.raises(kairos.ConfigurationError, match="unknown provider 'nope'"):
        split_model("nope/x")
    p = kairos.provider("openai/gpt-x", api_key="k")
    assert p.default_model == "gpt-x" and p.name == "openai"


def test_presets_are_data_rows() -> None:
    qwen, qwen_cn = make_codec("qwen", api_key="k"), make_codec("qwen-cn", api_key="k")
    assert qwen.base_url == "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"
    assert qwen_cn.base_url == "https://dashscope.aliyuncs.com/compatible-mode/v1"
    assert {p.wire for p in PRESETS.values()} <= {
        "openai-chat",
        "anthropic-messages",
        "gemini",
        "ollama-chat",
        "openai-responses",
    }


def test_keys_come_from_env_and_are_required_for_the_default_endpoint() -> None:
    codec = make_codec("openai", env={"OPENAI_API_KEY": "sk-env"})
    req = codec.build_request(kairos.ChatRequest([kairos.Message.user("x")]))
    assert req.headers["authorization"] == "Bearer sk-env"
    with pytest.raises(kairos.ConfigurationError, match="OPENAI_API_KEY"):
        make_codec("openai", env={})
    # a custom base URL (a local server) needs no key
    local = make_codec("openai", env={"OPENAI_BASE_URL": "http://127.0.0.1:1/v1"})
    assert local.base_url == "http://127.0.0.1:1/v1"
    with pytest.raises(kairos.ConfigurationError, match="base URL"):
        make_codec("openai-compatible", env={})


def test_keys_never_show_in_reprs_or_urls() -> None:
    secret = "sk-very-secret-123"
    p = kairos.provider("openai", api_key=secret)
    req = p.codec.build_request(kairos.ChatRequest([kairos.Message.user("x")]))
    for text in (repr(p), repr(p.codec), repr(req), req.url, repr(p.codec.config)):
        assert secret not in text


def test_chunk_repr_and_lazy_tool_calls() -> None:
    chunk = kairos.StreamChunk("a", tool_calls=lambda: (kairos.ToolCall("1", "f"),))
    assert chunk.tool_calls[0].arguments == "{}"
    assert "content='a'" in repr(chunk)
    assert json.loads(chunk.tool_calls[0].arguments) == {}


def test_protocols_are_satisfied() -> None:
    assert isinstance(kairos.provider("openai", api_key="k"), kairos.StreamingProvider)
    assert isinstance(kairos.async_provider("openai", api_key="k"), kairos.AsyncStreamingProvider)
